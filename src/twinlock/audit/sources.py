"""Where the two sides of ``twinlock diff`` come from: files, directories, git revisions.

An edge module: it reads lock files from the file system or from git objects
(``git ls-tree`` / ``git show``, never a checkout, so the working tree is left
alone) and hands :class:`~twinlock.audit.diffmodel.LockSet` values to the pure diff core.

A side is a lock directory (``locks/<composition>/``: every ``*.conda-lock.yml``
in it), a single ``<env>.conda-lock.yml``, or that same path at a git revision.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from twinlock.audit.diffmodel import LockSet
from twinlock.errors import LockFileError, TwinlockError, did_you_mean, shorten
from twinlock.fileio import decode_utf8
from twinlock.lock.format import LockReading, read_conda_lock
from twinlock.lock.store import LOCK_SUFFIX, read_lock_reading

FORMS_HINT = (
    "use one of: twinlock diff OLD NEW (lock directories or .conda-lock.yml files); "
    "twinlock diff --git REV [PATH]; twinlock diff REV1..REV2 [PATH]"
)


def diff_sides(
    old: str | None,
    new: str | None,
    *,
    git: str | None,
    default_path: Callable[[], Path],
) -> tuple[LockSet, LockSet]:
    """Read the two sides named on the command line.

    ``--git REV [PATH]`` compares PATH at REV with PATH in the working tree;
    ``REV1..REV2 [PATH]`` compares PATH at two revisions. PATH defaults to the
    project's lock directory (*default_path* is only called when needed).
    """
    if git is not None:
        if new is not None:
            raise TwinlockError(f"--git {git} takes at most one PATH, got '{old}' and '{new}'")
        path = Path(old) if old else default_path()
        return read_git_lock_set(git, path), read_lock_set(path)
    revs = split_range(old) if old and not Path(old).exists() else None
    if revs is not None:
        path = Path(new) if new else default_path()
        return read_git_lock_set(revs[0], path), read_git_lock_set(revs[1], path)
    if old is None or new is None:
        raise TwinlockError("twinlock diff needs two sides to compare", FORMS_HINT)
    return read_lock_set(Path(old)), read_lock_set(Path(new))


def split_range(text: str) -> tuple[str, str] | None:
    """("A", "B") for ``A..B`` (an empty side means HEAD, as in git), else None."""
    if ".." not in text or "..." in text:
        return None
    first, _, second = text.partition("..")
    return first or "HEAD", second or "HEAD"


def _siblings(path: Path) -> list[str]:
    """Names beside *path*, for a near-miss suggestion (none when they cannot be listed)."""
    try:
        return [p.name for p in path.parent.iterdir()] if path.parent.is_dir() else []
    except OSError:
        return []


def read_lock_set(path: Path) -> LockSet:
    """The locks of a lock directory, or the one lock of a ``.conda-lock.yml`` file."""
    if path.is_file():
        return _lock_set(_display(path), {path.name: read_lock_reading(path)})
    if not path.is_dir():
        guess = did_you_mean(path.name, _siblings(path))
        raise TwinlockError(f"{path}: no such lock file or directory {guess}".rstrip(), FORMS_HINT)
    lock_files = sorted(p for p in path.iterdir() if p.name.endswith(LOCK_SUFFIX))
    if not lock_files:
        raise LockFileError(f"{path}: no *{LOCK_SUFFIX} files in it", _subdir_hint(path))
    return _lock_set(_display(path), {p.name: read_lock_reading(p) for p in lock_files})


def _lock_set(label: str, readings: dict[str, LockReading]) -> LockSet:
    """The locks read, each damaged one's problems kept as the side's damage (an alarm)."""
    damage = [f"{name}: {p}" for name, r in readings.items() for p in r.problems]
    return LockSet.create(label, [r.lock for r in readings.values()], damage)


def _subdir_hint(path: Path) -> str:
    children = sorted(
        p.name for p in path.iterdir() if p.is_dir() and any(p.glob("*" + LOCK_SUFFIX))
    )
    if children:
        return "pass a composition's lock directory, e.g. " + ", ".join(
            str(path / c) for c in children
        )
    return "pass a lock directory (locks/<composition>) or a .conda-lock.yml file"


def read_git_lock_set(rev: str, path: Path) -> LockSet:
    """The locks at *path* in git revision *rev* (read from git objects, no checkout).

    A path absent from the revision gives an empty side: every environment then
    shows as added (or removed), which is what the revision history says.
    """
    top = Path(_git(_existing_dir(path), "rev-parse", "--show-toplevel").strip())
    rel = _repo_relative(path, top)
    commit = _resolve(top, rev)
    label = f"{rev}:{rel}"
    kind = _object_type(top, commit, rel)
    if kind is None:
        return LockSet.create(label, [])
    if kind == "blob":
        names = [rel]
    else:
        prefix = "" if rel == "." else f"{rel}/"
        listing = _git(top, "ls-tree", "--name-only", f"{commit}:{prefix}")
        names = [prefix + n for n in listing.splitlines() if n.endswith(LOCK_SUFFIX)]
    readings = {
        name.rsplit("/", 1)[-1]: read_conda_lock(
            _git(top, "show", f"{commit}:{name}"), source=f"{rev}:{name}"
        )
        for name in names
    }
    return _lock_set(label, readings)


def _existing_dir(path: Path) -> Path:
    current = path.resolve()
    while not current.is_dir():
        current = current.parent
    return current


def _repo_relative(path: Path, top: Path) -> str:
    try:
        return path.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        raise TwinlockError(
            f"{path} is outside the git repository at {top}",
            "pass a path inside the repository whose history you compare",
        ) from None


def _resolve(top: Path, rev: str) -> str:
    try:
        return _git(top, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
    except TwinlockError:
        raise TwinlockError(
            f"unknown git revision '{rev}' in {top}",
            "name a commit, branch or tag (see git log --oneline)",
        ) from None


def _object_type(top: Path, commit: str, rel: str) -> str | None:
    if rel == ".":
        return "tree"
    try:
        return _git(top, "cat-file", "-t", f"{commit}:{rel}").strip()
    except TwinlockError:
        return None


def _git(cwd: Path, *args: str) -> str:
    import subprocess  # only ``--git`` / ``REV1..REV2`` sides run git

    try:
        done = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise TwinlockError("git is not installed", "install git to diff revisions") from None
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace").strip()
        message = shorten(error, 500, quote=False) or f"git {' '.join(args)} failed"
        raise TwinlockError(f"git {args[0]} in {cwd}: {message}", "check the revision and path")
    # A committed file is as untrusted as one on disk: not UTF-8 is an error naming it.
    return decode_utf8(done.stdout, args[-1])


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
