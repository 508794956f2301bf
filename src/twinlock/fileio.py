"""The file primitives every stage shares: atomic writes, the cache directory, hashing.

The core (parsing, planning, checking) works on data. The stages that touch
disk (``spec.load``, ``lock.store``, ``solve.channels``, ``install``) build on
these few helpers, so that every write goes to a temporary file that is fsynced
and then renamed: a reader never sees half a file, and a crash never leaves one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from twinlock.errors import InputFileError, OutputFileError, Problem


def display_path(path: Path) -> str:
    """*path* relative to the working directory when it is inside it."""
    return relative_path(path, Path.cwd())


def relative_path(path: Path, start: Path) -> str:
    """*path* relative to *start* when it is inside it, else as given."""
    try:
        return str(path.resolve().relative_to(start.resolve()))
    except (ValueError, RuntimeError, OSError):  # outside start; a symlink loop
        return str(path)


# Why a read failed, in words, and what to do about it.
_READ_FAILURES: tuple[tuple[type[OSError], str, str], ...] = (
    (FileNotFoundError, "no such file", "check the path (or create the file)"),
    (IsADirectoryError, "is a directory, not a file", "name a file, not a directory"),
    (NotADirectoryError, "a part of the path is a file, not a directory", "check the path"),
    (PermissionError, "permission denied", "make the file readable"),
)


def read_text(path: Path, what: str = "") -> str:
    """The UTF-8 text of a file the user named (*what*: the option that named it, ``--from ENV=``).

    Every failure is an :class:`InputFileError` naming the file: absent, a directory,
    unreadable, or bytes that are not UTF-8.
    """
    source = f"{what}{display_path(path)}"
    return decode_utf8(read_input(path, source), source)


MAX_INPUT_BYTES = 64 << 20  # far above any lock or composition; bounds the work


def read_input(path: Path, source: str) -> bytes:
    """The bytes of a regular file of bounded size, else an :class:`InputFileError`.

    A device, pipe or socket in place of a file would block or never end (``/dev/zero``).
    """
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        if not stat.S_ISREG(info.st_mode):
            reason, hint = "is not a regular file (a device, pipe or socket)", "name a file"
        elif info.st_size > MAX_INPUT_BYTES:
            limit = MAX_INPUT_BYTES >> 20
            reason = f"is {info.st_size >> 20} MiB, more than twinlock reads ({limit} MiB)"
            hint = "name the right file"
        else:
            return path.read_bytes()
    except OSError as exc:
        reason, hint = read_failure(exc)
    raise InputFileError([Problem(source, "", reason, hint)])


def read_failure(exc: OSError) -> tuple[str, str]:
    """(reason, hint) for an OSError raised while reading a file."""
    for kind, reason, hint in _READ_FAILURES:
        if isinstance(exc, kind):
            return reason, hint
    if exc.errno == errno.ELOOP:
        return "is a symbolic link that leads back to itself", "fix the link"
    return f"cannot read: {exc.strerror or type(exc).__name__}", "check the path"


def decode_utf8(data: bytes, source: str) -> str:
    """*data* as text; bytes that are not UTF-8 are an :class:`InputFileError` saying where.

    A leading byte-order mark (Windows editors write one) is dropped.
    """
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        reason = f"not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}, column {column})"
        hint = "save the file as UTF-8 (twinlock reads every input file as UTF-8)"
        raise InputFileError([Problem(source, "", reason, hint)]) from None


def read_text_if_exists(path: Path) -> str | None:
    """The text of *path*; None when it is absent or not UTF-8 (it must be rewritten).

    A directory or an unreadable file in its place is an :class:`InputFileError`.
    """
    data = read_bytes_if_exists(path)
    try:
        return None if data is None else data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read_bytes_if_exists(path: Path) -> bytes | None:
    """The bytes of *path* (see :func:`read_input`); None when it does not exist."""
    if not path.exists() and not path.is_symlink():
        return None
    return read_input(path, display_path(path))


def write_text_atomic(path: Path, text: str) -> bool:
    """Write *text* to *path* via a temporary file and rename; False if unchanged.

    A path that cannot be written (a directory in its place, a parent that is a file,
    a read-only directory) is an :class:`OutputFileError` naming it.
    """
    try:
        return _write_text_atomic(path, text)
    except OSError as exc:
        raise write_error(path, exc) from None


def check_output_path(path: Path) -> None:
    """Refuse, before any work for it, an output path that cannot become a file.

    A directory in its place, or a parent that is a file, is an :class:`OutputFileError`
    (the same one the write would raise after the work).
    """
    if path.is_dir():
        raise write_error(path, IsADirectoryError(errno.EISDIR, "Is a directory"))
    blocker = blocking_file(path.parent)
    if blocker is not None:
        raise write_error(path, NotADirectoryError(errno.ENOTDIR, "Not a directory", str(blocker)))


def write_error(path: Path, exc: OSError) -> OutputFileError:
    """The :class:`OutputFileError` for an OSError raised while writing *path*."""
    shown = display_path(path)
    where = display_path(Path(exc.filename)) if exc.filename else shown
    if isinstance(exc, IsADirectoryError):
        reason, hint = "is a directory", "name a file path to write, not a directory"
    elif isinstance(exc, (NotADirectoryError, FileExistsError)):
        reason, hint = "a part of the path is a file, not a directory", "choose another path"
    elif isinstance(exc, PermissionError) or exc.errno == errno.EROFS:
        reason, hint = "not writable", "make the directory writable or choose another one"
    else:
        reason, hint = exc.strerror or type(exc).__name__, "check the path and free space"
    detail = reason if where == shown else f"{where}: {reason}"
    return OutputFileError(f"cannot write {shown}: {detail}", hint)


def _write_text_atomic(path: Path, text: str) -> bool:
    data = text.encode()
    if _holds(path, data):
        return False

    def fill(tmp: Path) -> None:
        tmp.write_bytes(data)

    _write_with_atomic(path, fill)
    return True


def _holds(path: Path, data: bytes) -> bool:
    """Are *path*'s bytes *data*? (Bytes: a damaged file that is not UTF-8 just differs.)"""
    try:
        return read_bytes_if_exists(path) == data
    except InputFileError:  # a directory, FIFO or device: never "already holds" the text
        return False


def write_with_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Let *write* (a library that only writes to paths) fill a temporary file, then rename.

    Failures are :class:`OutputFileError` naming the path, as for :func:`write_text_atomic`.
    """
    try:
        _write_with_atomic(path, write)
    except OSError as exc:
        raise write_error(path, exc) from None


def _write_with_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """*write* fills a temporary file beside *path*; fsynced, then renamed over *path*.

    The rename is atomic, the data is not: without the fsync a crash can leave the
    new name pointing at an empty file.
    """
    fd, tmp = _temporary_beside(path)
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


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A temporary file in *path*'s directory, which is made when missing."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
    created = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # here, as hashlib below: the read-only commands (diff) never write

        return tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError:
        _remove_dirs(created)  # a failed write leaves nothing behind, not even directories
        raise


def _remove_dirs(created: list[Path]) -> None:
    for directory in created:  # deepest first
        with contextlib.suppress(OSError):
            directory.rmdir()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_files(contents: Mapping[Path, str], remove: Iterable[Path] = ()) -> list[Path]:
    """Write every file atomically (unchanged ones are left alone); return those written."""
    written = [path for path, text in contents.items() if write_text_atomic(path, text)]
    for path in remove:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise write_error(path, exc) from None
    return written


def cache_dir() -> Path:
    """$TWINLOCK_CACHE_DIR, else $XDG_CACHE_HOME/twinlock, else ~/.cache/twinlock."""
    if os.environ.get("TWINLOCK_CACHE_DIR"):
        return Path(os.environ["TWINLOCK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "twinlock"


def blocking_file(directory: Path) -> Path | None:
    """The file that keeps *directory* from being (or being created as) a directory.

    *directory* itself or its nearest existing ancestor when that is not a directory;
    None when the directory exists or can be created under a real directory.
    """
    for candidate in (directory, *directory.parents):
        if candidate.is_dir():
            return None
        if candidate.exists():
            return candidate
    return None


def is_empty_dir(path: Path) -> bool:
    """True when *path* does not exist or is an empty directory."""
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def sha256_of(path: Path) -> str | None:
    """The sha256 of a regular file, None when it is absent."""
    import hashlib

    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return digest.hexdigest()
