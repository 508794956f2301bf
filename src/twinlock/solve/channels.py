"""Local channels: the bundled conda-forge snapshot and mirror directories."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from importlib import resources
from pathlib import Path

from twinlock.errors import (
    ChannelError,
)
from twinlock.fileio import cache_dir


def bundled_channel(name: str) -> Path:
    """Unpack the bundled channel *name* into the cache (once) and return its directory."""
    archive = resources.files("twinlock") / "data" / f"{name}.tar.xz"
    if not archive.is_file():
        raise ChannelError(
            f"no bundled channel named '{name}'",
            "the bundled channel is 'bundled:conda-forge-snapshot'",
        )
    data = archive.read_bytes()
    target = cache_dir() / "channels" / f"{name}-{hashlib.sha256(data).hexdigest()[:16]}"
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
