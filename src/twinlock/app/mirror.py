"""Mirror as a library call (``twinlock mirror``): the archives the locks need, as a channel.

Every archive is fetched and verified like an install's, then copied into one local
channel directory and indexed, so an offline image build can install from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from twinlock.app.progress import Progress, Step, silent
from twinlock.app.project import Project
from twinlock.app.targets import refuse_file_in_place
from twinlock.errors import InstallError, LockFileError
from twinlock.fileio import cache_dir
from twinlock.install import linker as installer
from twinlock.model.lock import LockedPackage


@dataclass(frozen=True)
class MirrorReport:
    dest: Path
    channels: tuple[str, ...]
    copied: int
    present: int


def run_mirror(
    project: Project,
    *,
    dest: Path,
    environments: Sequence[str] = (),
    progress: Progress = silent,
) -> MirrorReport:
    """Gather every archive the locks need (all platforms) into the local channel *dest*.

    *progress* hears each archive fetched and verified (``done`` of ``total``)."""
    refuse_file_in_place(dest, "--dest")
    locks = project.read_locks()
    wanted: dict[str, LockedPackage] = {}
    for env in project.composition.select(list(environments)):
        if env.name not in locks:
            raise LockFileError(f"no lock for environment '{env.name}'", "run twinlock lock")
        for plat in locks[env.name].platforms:
            wanted |= {p.url: p for p in plat.packages}
    channels = tuple(sorted({p.channel for p in wanted.values()}))
    if len(channels) > 1:
        raise InstallError(
            f"the locks use {len(channels)} channels ({', '.join(channels)}); "
            "a mirror directory holds one",
            "mirror one environment at a time with --env, one --dest per channel",
        )
    archive_cache = cache_dir() / "archives"
    sources = installer.ArchiveSources(project.config.mirrors, (archive_cache,), archive_cache)
    verified = []
    for done, pkg in enumerate(wanted.values(), 1):
        verified.append((pkg, installer.fetch_verified(pkg, sources)))
        progress(Step("mirror", "fetching", pkg.file_name, done=done, total=len(wanted)))
    copied = sum(installer.copy_into_channel(path, dest, pkg) for pkg, path in verified)
    installer.index_channel(dest)
    return MirrorReport(dest, channels, copied, len(verified) - copied)
