"""Conda package archives: their hashes, and whether their members stay inside the prefix.

Every archive is checked here *before* rattler sees it: the sha256 (and md5)
recorded in the lock must match, and no member may escape the prefix it is
installed into: no absolute path, no ``..`` component, no symlink or hard link
pointing outside, no device or fifo. ``.conda`` archives are a zip of
zstandard-compressed tarballs (``info-*.tar.zst``, ``pkg-*.tar.zst``);
``.tar.bz2`` archives are one bzip2 tarball.

:func:`unsafe_members` is pure (it judges member descriptions);
:func:`archive_members` and :func:`file_digests` read files.

Why not ``rattler.package_streaming`` (checked with py-rattler 0.28): its
entries say file, symlink or hard link (with the target) but nothing more, so
a fifo or a device looks exactly like a directory and the "no special files"
rule could only guess from a trailing ``/``; and a ``../`` or absolute member
ends the stream with an ``OSError`` whose text is the only description, hiding
every member after it. Reading the tarballs with :mod:`tarfile` sees every
member with its real type, for both archive formats.
"""

from __future__ import annotations

import hashlib
import posixpath
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

MemberKind = Literal["file", "dir", "symlink", "hardlink", "other"]


@dataclass(frozen=True)
class Member:
    """One archive member as far as safety is concerned."""

    name: str
    kind: MemberKind
    link: str = ""


@dataclass(frozen=True)
class Digests:
    sha256: str
    md5: str


def file_digests(path: Path) -> Digests:
    sha, md5 = hashlib.sha256(), hashlib.md5()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
            md5.update(chunk)
    return Digests(sha.hexdigest(), md5.hexdigest())


def digest_problem(found: Digests, sha256: str | None, md5: str) -> str | None:
    """Why *found* does not match the lock's hashes, or None when it does."""
    if sha256 and found.sha256 != sha256.lower():
        return f"sha256 is {found.sha256}, the lock says {sha256}"
    if md5 and found.md5 != md5.lower():
        return f"md5 is {found.md5}, the lock says {md5}"
    if not sha256 and not md5:
        return "the lock records no hash for it"
    return None


def _escapes(path: str) -> bool:
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return True
    normal = posixpath.normpath(path)
    return normal == ".." or normal.startswith("../")


def unsafe_members(members: Iterable[Member]) -> list[str]:
    """A description of every member that would land (or point) outside the prefix."""
    problems = []
    for m in members:
        if _escapes(m.name):
            problems.append(f"'{m.name}' escapes the prefix")
        elif m.kind == "other":
            problems.append(f"'{m.name}' is a device, fifo or other special file")
        elif m.kind == "symlink" and (
            m.link.startswith("/") or _escapes(posixpath.join(posixpath.dirname(m.name), m.link))
        ):
            problems.append(f"symlink '{m.name}' -> '{m.link}' points outside the prefix")
        elif m.kind == "hardlink" and _escapes(m.link):
            problems.append(f"hard link '{m.name}' -> '{m.link}' points outside the prefix")
    return problems


def _member(info: tarfile.TarInfo) -> Member:
    if info.issym():
        return Member(info.name, "symlink", info.linkname)
    if info.islnk():
        return Member(info.name, "hardlink", info.linkname)
    if info.isdir():
        return Member(info.name, "dir")
    if info.isreg():
        return Member(info.name, "file")
    return Member(info.name, "other")


def _tar_members(stream: IO[bytes], mode: Literal["r|", "r|bz2"]) -> Iterator[Member]:
    with tarfile.open(fileobj=stream, mode=mode) as tar:
        for info in tar:
            yield _member(info)


def archive_members(path: Path) -> list[Member]:
    """Every member of a ``.conda`` or ``.tar.bz2`` archive (raises on a corrupt file)."""
    if path.name.endswith(".tar.bz2"):
        with path.open("rb") as handle:
            return list(_tar_members(handle, "r|bz2"))
    import zstandard

    members: list[Member] = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            members.append(Member(name, "file"))
            if name.endswith(".tar.zst"):
                with zf.open(name) as raw, zstandard.ZstdDecompressor().stream_reader(raw) as zst:
                    members += _tar_members(zst, "r|")
    return members


def archive_problems(path: Path) -> list[str]:
    """Members of the archive at *path* that escape the prefix, or why it is unreadable."""
    try:
        return unsafe_members(archive_members(path))
    except (OSError, tarfile.TarError, zipfile.BadZipFile, ValueError) as exc:
        return [f"cannot read the archive: {exc}"]
    except Exception as exc:  # zstandard.ZstdError has no common base we can name here
        return [f"cannot read the archive: {type(exc).__name__}: {exc}"]
