"""The file primitives every stage shares: atomic writes, the cache directory, hashing.

The core (parsing, planning, checking) works on data. The stages that touch
disk (``spec.load``, ``lock.store``, ``solve.channels``, ``install``) build on
these few helpers, so that every write goes to a temporary file that is fsynced
and then renamed: a reader never sees half a file, and a crash never leaves one.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from twinlock.errors import InputFileError, OutputFileError, Problem, shorten


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, RuntimeError, OSError):  # outside cwd; a symlink loop
        return str(path)


# Why a read failed, in words, and what to do about it.
_READ_FAILURES: tuple[tuple[type[OSError], str, str], ...] = (
    (FileNotFoundError, "no such file", "check the path (or create the file)"),
    (IsADirectoryError, "is a directory, not a file", "name a file, not a directory"),
    (NotADirectoryError, "a part of the path is a file, not a directory", "check the path"),
    (PermissionError, "permission denied", "make the file readable"),
)


def read_text(path: Path, what: str = "") -> str:
    """The UTF-8 text of a file the user named (*what* says which option named it).

    Every failure is an :class:`InputFileError` naming the file: absent, a directory,
    unreadable, or bytes that are not UTF-8.
    """
    source = f"{what}: {display_path(path)}" if what else display_path(path)
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
    """*data* as text; bytes that are not UTF-8 are an :class:`InputFileError` saying where."""
    try:
        return data.decode("utf-8")
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
    try:
        if path.read_bytes() == text.encode():
            return False
    except FileNotFoundError:
        pass
    fd, tmp = _temporary_beside(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
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
    """Let *write* (a library that only writes to paths) fill a temporary file, then rename.

    Failures are :class:`OutputFileError` naming the path, as for :func:`write_text_atomic`.
    """
    try:
        _write_with_atomic(path, write)
    except OSError as exc:
        raise write_error(path, exc) from None


def _write_with_atomic(path: Path, write: Callable[[Path], None]) -> None:
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
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return digest.hexdigest()


# --- YAML that cannot be trusted ---------------------------------------------------------
#
# Compositions, environment files and locks come from anywhere. PyYAML's safe loader
# runs no code, but it happily builds an alias bomb (nine lines whose values expand to
# 10^9 strings when printed or walked), a recursive list, or keeps only the last of two
# equal keys. load_yaml checks the composed node graph before building values from it.

MAX_YAML_DEPTH = 64
MAX_YAML_VALUES = 200_000

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader, except that an impossible date (2025-02-30) stays text."""


def _timestamp(loader: Any, node: yaml.ScalarNode) -> object:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        # The validator of the key then says "not a date", naming the key.
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def read_yaml(path: Path, source: str | None = None) -> Any:
    """The YAML document in *path* (see :func:`load_yaml`); absent is an InputFileError too."""
    return load_yaml(read_text(path), source or display_path(path))


def load_yaml(text: str, source: str, *, unique_keys: bool = True) -> Any:
    """The one YAML document in *text*, refusing what cannot be trusted.

    An :class:`InputFileError` (naming *source* and the line) for invalid YAML, nesting
    deeper than :data:`MAX_YAML_DEPTH`, aliases expanding to more than
    :data:`MAX_YAML_VALUES` values or into themselves, and (with *unique_keys*) a key
    given twice in one mapping.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        # Without an anchor there is no alias: size is bounded by the text and depth by
        # the parser, so a lock (tens of thousands of nodes) skips the walk.
        if unique_keys or "&" in text:
            problems = yaml_tree_problems(node, source, unique_keys=unique_keys)
            if problems:
                raise InputFileError(problems)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise InputFileError([_syntax_problem(exc, source)]) from None
    except RecursionError:
        raise InputFileError([_nesting_problem(source, "")]) from None
    except (ValueError, TypeError, OverflowError) as exc:
        problem = Problem(source, "", f"cannot read a value: {shorten(str(exc), quote=False)}")
        raise InputFileError([problem]) from None
    finally:
        loader.dispose()


def _syntax_problem(exc: yaml.YAMLError, source: str) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}" if mark is not None else ""
    context, problem = getattr(exc, "context", None), getattr(exc, "problem", None)
    text = ", ".join(str(t) for t in (context, problem) if t) or str(exc)
    return Problem(
        source, where, f"not valid YAML: {shorten(text, 200, quote=False)}", "fix the YAML syntax"
    )


def _nesting_problem(source: str, where: str) -> Problem:
    return Problem(
        source,
        where,
        f"nested more than {MAX_YAML_DEPTH} levels deep",
        "flatten the structure (twinlock's files need only a few levels)",
    )


def yaml_tree_problems(root: yaml.Node, source: str, *, unique_keys: bool = True) -> list[Problem]:
    """What is wrong with a composed YAML node graph (empty when it is safe to construct).

    One walk, iterative and memoised per node, so an alias bomb costs its size on disk:
    depth, expanded size, recursive aliases, duplicate keys.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    problems: list[Problem] = []
    stack: list[tuple[yaml.Node, int, str, bool]] = [(root, 0, "", False)]
    while stack:
        node, depth, path, done = stack.pop()
        line = f"line {node.start_mark.line + 1}"
        if done:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes.get(id(c), 0) for c, _ in _children(node, path))
            if sizes[id(node)] > MAX_YAML_VALUES:
                return [_bomb_problem(source, line)]
            continue
        if id(node) in sizes:
            continue
        if id(node) in open_nodes:
            return [
                Problem(source, line, "an alias refers to a value that contains it", _ALIAS_FIX)
            ]
        if depth >= MAX_YAML_DEPTH:  # depth 0 is the first level
            return [_nesting_problem(source, line)]
        if unique_keys and isinstance(node, yaml.MappingNode):
            problems += _duplicate_keys(node, source, path)
        open_nodes.add(id(node))
        stack.append((node, depth, path, True))
        stack += [(child, depth + 1, where, False) for child, where in _children(node, path)]
    return problems


_ALIAS_FIX = "write the values out instead of using YAML aliases (*name)"


def _bomb_problem(source: str, where: str) -> Problem:
    return Problem(
        source, where, f"YAML aliases expand to more than {MAX_YAML_VALUES:,} values", _ALIAS_FIX
    )


def _children(node: yaml.Node, path: str) -> list[tuple[yaml.Node, str]]:
    if isinstance(node, yaml.SequenceNode):
        return [(child, f"{path}[{i}]") for i, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        out: list[tuple[yaml.Node, str]] = []
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            out += [(key, path), (value, f"{path}.{name}" if path else str(name))]
        return out
    return []


def _duplicate_keys(node: yaml.MappingNode, source: str, path: str) -> list[Problem]:
    """A key given twice in one mapping: YAML keeps the last silently, we refuse both."""
    first: dict[tuple[str, str], int] = {}
    problems = []
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 1
        seen = first.get((key.tag, key.value))
        if seen is None:
            first[(key.tag, key.value)] = line
            continue
        problems.append(
            Problem(
                source,
                path or "(top level)",
                f"duplicate key {shorten(key.value)} (lines {seen} and {line})",
                "YAML keeps only the last value: remove one or merge them",
            )
        )
    return problems
