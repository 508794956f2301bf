"""Reading files of a git revision (the lock sources of ``twinlock diff --git``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from twinlock.errors import (
    LockFileError,
)
from twinlock.fileio import decode_utf8


def is_git_revision(root: Path, revision: str) -> bool:
    """True when *revision* names a commit of the git repository holding *root*."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
            capture_output=True,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0


def read_git_file(root: Path, revision: str, path: Path) -> str | None:
    """The text of *path* (inside *root*'s repository) at *revision*; None if absent there."""
    try:
        relative = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise LockFileError(
            f"{path}: outside the git repository at {root}, so no revision has it",
            "keep --locks-dir inside the repository to read locks from a git revision",
        ) from None
    done = subprocess.run(
        ["git", "-C", str(root), "show", f"{revision}:./{relative}"],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        return None
    return decode_utf8(done.stdout, f"{revision}:{relative}")
