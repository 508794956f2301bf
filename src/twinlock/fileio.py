"""The file primitives every stage shares: atomic writes, the cache directory, hashing.

The core (parsing, planning, checking) works on data. The stages that touch
disk (``spec.load``, ``lock.store``, ``solve.channels``, ``install``) build on
these few helpers, so that every write goes to a temporary file that is fsynced
and then renamed: a reader never sees half a file, and a crash never leaves one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

# errors and tempfile are imported where they are used: the no-op stamp check
# (twinlock.app.noop) imports this module before anything else and must start fast.


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_text(path: Path, what: str) -> str:
    """The text of a file the user named (*what* says which option named it)."""
    from twinlock.errors import ConfigError

    try:
        return path.read_text()
    except OSError as exc:
        raise ConfigError(f"{what}: cannot read {path}: {exc.strerror}", "check the path") from exc


def read_text_if_exists(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def write_text_atomic(path: Path, text: str) -> bool:
    """Write *text* to *path* via a temporary file and rename; False if unchanged."""
    if read_text_if_exists(path) == text:
        return False
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            # The rename is atomic, the data is not: without fsync a crash can
            # leave the new name pointing at an empty file.
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def write_with_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Let *write* (a library that only writes to paths) fill a temporary file, then rename."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_files(contents: Mapping[Path, str], remove: Iterable[Path] = ()) -> list[Path]:
    """Write every file atomically (unchanged ones are left alone); return those written."""
    written = [path for path, text in contents.items() if write_text_atomic(path, text)]
    for path in remove:
        path.unlink(missing_ok=True)
    return written


def cache_dir() -> Path:
    """$TWINLOCK_CACHE_DIR, else $XDG_CACHE_HOME/twinlock, else ~/.cache/twinlock."""
    if os.environ.get("TWINLOCK_CACHE_DIR"):
        return Path(os.environ["TWINLOCK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "twinlock"


def is_empty_dir(path: Path) -> bool:
    """True when *path* does not exist or is an empty directory."""
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def sha256_of(path: Path) -> str | None:
    """The sha256 of a regular file, None when it is absent."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return digest.hexdigest()
