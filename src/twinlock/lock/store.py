"""Where the lock files of a composition live, and reading them back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from twinlock.errors import ConfigError, InputFileError, LockFileError
from twinlock.fileio import blocking_file, display_path, read_text
from twinlock.lock.format import REGENERATE_HINT, parse_conda_lock
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
    """The existing locks of the named environments (absent ones are skipped)."""
    locks: dict[str, EnvironmentLock] = {}
    for name in env_names:
        path = paths.conda_lock(name)
        if path.exists():
            locks[name] = read_lock_file(path)
    return locks


def read_lock_file(path: Path) -> EnvironmentLock:
    """The lock in *path*; unreadable or not UTF-8 is a :class:`LockFileError` too."""
    try:
        text = read_text(path)
    except InputFileError as exc:
        hint = exc.hint if "UTF-8" not in exc.message else REGENERATE_HINT
        raise LockFileError(f"lock {exc.message}", hint) from None
    return parse_conda_lock(text, source=display_path(path))


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
