"""Where the lock files of a composition live, and reading them back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from twinlock.errors import ConfigError, InputFileError, LockFileError
from twinlock.fileio import blocking_file, display_path, read_text
from twinlock.lock.format import LockReading, read_conda_lock
from twinlock.lock.yamldata import RESTORE_HINT
from twinlock.model.lock import EnvironmentLock

LOCK_SUFFIX = ".conda-lock.yml"


EXPLICIT_SUFFIX = ".explicit.txt"


@dataclass(frozen=True)
class LockPaths:
    """Where the lock files of one composition live."""

    directory: Path

    def conda_lock(self, env: str) -> Path:
        return self.directory / f"{env}{LOCK_SUFFIX}"

    def explicit(self, env: str, platform: str) -> Path:
        return self.directory / f"{env}-{platform}{EXPLICIT_SUFFIX}"

    def existing_files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(
            p for p in self.directory.iterdir() if p.name.endswith((LOCK_SUFFIX, EXPLICIT_SUFFIX))
        )


def read_locks(paths: LockPaths, env_names: Iterable[str]) -> dict[str, EnvironmentLock]:
    """The existing locks of the named environments (absent ones are skipped).

    Raises :class:`LockFileError` for a damaged lock: nothing uses one.
    """
    readings = read_lock_readings(paths, env_names)
    return {
        name: reading.sound(display_path(paths.conda_lock(name)))
        for name, reading in readings.items()
    }


def read_lock_readings(paths: LockPaths, env_names: Iterable[str]) -> dict[str, LockReading]:
    """Like :func:`read_locks`, but a damaged lock comes back with its problems (for check)."""
    readings: dict[str, LockReading] = {}
    for name in env_names:
        path = paths.conda_lock(name)
        if path.exists():
            readings[name] = read_lock_reading(path)
    return readings


def read_lock_reading(path: Path) -> LockReading:
    """One lock file read and validated, with its problems (see :func:`read_conda_lock`).

    Unreadable, not a regular file, or not UTF-8 is a :class:`LockFileError`.
    """
    try:
        text = read_text(path)
    except InputFileError as exc:
        hint = exc.hint if "UTF-8" not in exc.message else RESTORE_HINT
        raise LockFileError(f"lock {exc.message}", hint) from None
    return read_conda_lock(text, source=display_path(path))


def read_lock_file(path: Path) -> EnvironmentLock:
    return read_lock_reading(path).sound(display_path(path))


def check_lock_dir(directory: Path, what: str = "--locks-dir") -> None:
    """Refuse a lock directory that is, or lies under, something other than a directory.

    Checked before any solve, so a lock that could never be written fails in
    milliseconds instead of after the solve.
    """
    blocker = blocking_file(directory)
    if blocker is not None:
        raise ConfigError(
            f"{what}: {display_path(directory)}: "
            f"{display_path(blocker)} is a file, not a directory",
            "point --locks-dir (or [project] locks-dir) at a directory; "
            "missing directories are created",
        )
