"""Local channels: the bundled conda-forge snapshot and mirror directories."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from twinlock.errors import (
    ChannelError,
    OutputFileError,
)
from twinlock.fileio import cache_dir, write_text_atomic

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from twinlock.model.composition import Channel

_LOCATED: dict[tuple[str, Path], Path] = {}


def bundled_channel(name: str) -> Path:
    """Unpack the bundled channel *name* into the cache (once) and return its directory.

    The unpacked tree is named by the archive's sha256. Hashing 5 MB on every
    run is wasted work, so a small index file, named by the archive's size and
    modification time, remembers which tree an archive unpacked to; the archive
    is hashed again only when it changed (a reinstall). Within one process the
    answer is kept.
    """
    channels = cache_dir() / "channels"
    if (name, channels) in _LOCATED:
        return _LOCATED[name, channels]
    archive = _bundled_archive(f"{name}.tar.xz")
    if not archive.is_file():
        raise ChannelError(
            f"no bundled channel named '{name}'",
            "the bundled channel is 'bundled:conda-forge-snapshot'",
        )
    index = _index_file(channels, name, archive)
    known = _indexed_tree(index, name)
    if known is None:
        known = _unpack(archive.read_bytes(), channels, name)
        if index is not None:
            # A read-only cache only costs a re-hash (OSError arrives as OutputFileError).
            with contextlib.suppress(OSError, OutputFileError):
                write_text_atomic(index, known.parent.name + "\n")
    _LOCATED[name, channels] = known
    return known


def _bundled_archive(file_name: str) -> Traversable:
    """The package data file *file_name*: beside the modules when installed as files.

    importlib.resources finds it in any kind of install, but importing it costs every
    check and lock ~7 ms (it brings tempfile and zipfile); a pip install is plain files.
    """
    beside = Path(__file__).resolve().parent.parent / "data" / file_name
    if beside.is_file():
        return beside
    from importlib import resources

    return resources.files("twinlock") / "data" / file_name


def _index_file(channels: Path, name: str, archive: Traversable) -> Path | None:
    """Where the size+mtime index of *archive* lives (None when it is not a plain file)."""
    try:
        stat = os.stat(str(archive))
    except OSError:
        return None
    return channels / f".{name}-{stat.st_size}-{stat.st_mtime_ns}.index"


def _indexed_tree(index: Path | None, name: str) -> Path | None:
    if index is None:
        return None
    try:
        tree = index.parent / index.read_text().strip()
    except OSError:
        return None
    return tree / name if tree.name.startswith(f"{name}-") and (tree / name).is_dir() else None


def _unpack(data: bytes, channels: Path, name: str) -> Path:
    # Imported here: unpacking happens once per cache, and check only locates the tree.
    import hashlib
    import shutil
    import tarfile
    import tempfile

    target = channels / f"{name}-{hashlib.sha256(data).hexdigest()[:16]}"
    if (target / name).is_dir():
        return target / name
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    try:
        archive_path = staging / "archive.tar.xz"
        archive_path.write_bytes(data)
        with tarfile.open(archive_path) as tar:
            tar.extractall(staging / "tree", filter="data")
        os.replace(staging / "tree", target)
    except OSError:
        if not (target / name).is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / name


def local_channel_dir(location: str) -> Path:
    """The channel directory of a mirror location (a path or ``bundled:<name>``)."""
    if location.startswith("bundled:"):
        return bundled_channel(location.removeprefix("bundled:"))
    path = Path(location)
    if not path.is_dir() or not any(path.glob("*/repodata.json")):
        raise ChannelError(
            f"mirror directory {location} is not a conda channel (no <subdir>/repodata.json)",
            "point --mirror (or [mirrors] in twinlock.toml) at a directory indexed for conda",
        )
    return path


def channel_source(
    mirrors: Mapping[str, str],
    channel: Channel,
    channel_dir: Callable[[str], Path] = local_channel_dir,
) -> str:
    """Where *channel* is read: its mirror's directory or URL, else its own URL."""
    location = mirrors.get(channel.url)
    if location is None:
        return channel.url
    if "://" in location:  # a URL mirror: rattler reads it like the channel itself
        return location
    return str(channel_dir(location))
