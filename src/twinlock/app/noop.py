"""The no-op stamp: answer an unchanged ``twinlock lock`` from a digest of its input files.

After a successful ``twinlock lock`` (the full path), the CLI records in the cache
directory, per command line (its arguments, the working directory, and the code:
twinlock's sources, rattler, PyYAML and Python), every file the lock depended on:
the composition, its environment files, each place a ``twinlock.toml`` was or
could be, ``.condarc``, the listing of the lock directory and of ``envs/``, and
every lock and ``@EXPLICIT`` file. With them goes the digest of their bytes and
the summary a no-op prints. The next identical command compares that digest
with the files as they are now; when every byte is the same it prints the
summary and exits. Any changed, added or removed byte falls through to the full
path, so a damaged lock is never taken for a fresh one.

The check runs before anything else is imported, so this module imports only
``os`` and ``sys`` at the top, and the interpreter's built-in sha256 (not even hashlib,
which loads OpenSSL, nor pathlib, json or re: each would
cost the no-op more than the check itself). The stamp is a small text file: the
digest, one ``F path``/``D path`` line per file/listing, a ``--`` line, the output.
"""

from __future__ import annotations

import os
import stat
import sys

import twinlock

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from hashlib import sha256
else:
    # CPython's own sha256, the same digest: _sha2 from 3.12, _sha256 before.
    try:
        sha256 = __import__("_sha2" if sys.version_info >= (3, 12) else "_sha256").sha256
    except (ImportError, AttributeError):  # another Python: hashlib's
        from hashlib import sha256

STAMP_FORMAT = "twinlock-noop-stamp 1"
_MAX_STAMP = 16 << 20


def cache_root() -> str:
    """The cache directory as :func:`twinlock.fileio.cache_dir` finds it (a test compares)."""
    if os.environ.get("TWINLOCK_CACHE_DIR"):
        return os.environ["TWINLOCK_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "twinlock")


def code_fingerprint() -> str:
    """What identifies the code deciding a no-op: twinlock's sources, rattler, PyYAML, Python.

    An upgrade or an edited checkout (the version string stays the same) may
    decide differently, say by hashing inputs another way: its stamps are not reused.
    """
    parts = [twinlock.__version__, sys.version, sys.executable]
    root = os.path.dirname(os.path.abspath(twinlock.__file__))
    for directory, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            if name.endswith(".py"):
                parts.append(_stat_line(os.path.join(directory, name)))
    for package in ("rattler", "yaml"):
        found = (os.path.join(p, package, "__init__.py") for p in sys.path if p)
        parts.append(next((_stat_line(f) for f in found if os.path.isfile(f)), package))
    return "\0".join(parts)


def _stat_line(path: str) -> str:
    stat = os.stat(path)
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def stamp_path(command: str, argv: list[str] | tuple[str, ...], cwd: str) -> str:
    """Where the stamp of this exact command line lives (one file per line, directory, code)."""
    key = "\0".join([STAMP_FORMAT, code_fingerprint(), command, cwd, *argv])
    name = sha256(key.encode(errors="surrogateescape")).hexdigest()
    return os.path.join(cache_root(), "noop", name)


def cached_output(command: str, argv: list[str] | tuple[str, ...], cwd: str) -> str | None:
    """The recorded summary when every recorded input is byte-identical, else None."""
    path = stamp_path(command, argv, cwd)
    try:
        # Only a regular file of sane size: a FIFO in its place would be read forever.
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_STAMP:
            return None
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except OSError:
        return None
    head, sep, output = text.partition("\n--\n")
    lines = head.split("\n")
    if not sep or len(lines) < 2 or lines[0] != STAMP_FORMAT:
        return None
    files = [line[2:] for line in lines[2:] if line.startswith("F ")]
    listings = [line[2:] for line in lines[2:] if line.startswith("D ")]
    if lines[1] != _digest(files, listings):
        return None
    return output


def record(
    command: str,
    argv: list[str] | tuple[str, ...],
    cwd: str,
    *,
    files: list[str],
    listings: list[str],
    output: str,
) -> None:
    """Stamp the inputs of a successful run, as they are now, with the summary to repeat."""
    files = sorted({os.path.abspath(p) for p in files})
    listings = sorted({os.path.abspath(p) for p in listings})
    if any("\n" in p for p in (*files, *listings)):
        return  # a path the line format cannot hold: no stamp, the full path runs
    lines = [STAMP_FORMAT, _digest(files, listings)]
    lines += [f"F {p}" for p in files] + [f"D {p}" for p in listings]
    text = "\n".join(lines) + "\n--\n" + output
    import contextlib
    from pathlib import Path

    from twinlock.errors import OutputFileError
    from twinlock.fileio import write_text_atomic

    # An unwritable cache only costs speed (write_text_atomic reports OSError as OutputFileError).
    with contextlib.suppress(OSError, UnicodeError, OutputFileError):
        write_text_atomic(Path(stamp_path(command, argv, cwd)), text)


def _digest(files: list[str], listings: list[str]) -> str:
    """sha256 over each file's path and bytes (or its absence) and each directory's names."""
    digest = sha256()
    for path in files:
        digest.update(f"file\0{path}\0".encode(errors="surrogateescape"))
        try:
            with open(path, "rb") as handle:
                digest.update(sha256(handle.read()).digest())
        except FileNotFoundError:
            digest.update(b"absent")
        except OSError as exc:
            digest.update(f"error {exc.errno}".encode())
    for directory in listings:
        digest.update(f"dir\0{directory}\0".encode(errors="surrogateescape"))
        try:
            names = "\0".join(sorted(os.listdir(directory)))
            digest.update(names.encode(errors="surrogateescape"))
        except FileNotFoundError:
            digest.update(b"absent")
        except OSError as exc:
            digest.update(f"error {exc.errno}".encode())
    return digest.hexdigest()
