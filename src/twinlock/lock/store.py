"""Where the lock files of a composition live, and reading them back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from twinlock.errors import (
    ConfigError,
)
from twinlock.fileio import display_path
from twinlock.lock.format import parse_conda_lock
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
        if path.is_file():
            locks[name] = parse_conda_lock(path.read_text(), source=display_path(path))
    return locks


def read_lock_file(path: Path) -> EnvironmentLock:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read lock {path}: {exc}", "check the path") from exc
    return parse_conda_lock(text, source=display_path(path))
