"""Locks in other tools' formats: pixi.lock (through py-rattler), ``@EXPLICIT``, environment.yml.

conda-lock v1 stays twinlock's own format; these exports let pixi, rattler-based
installers and plain conda read the same pins. The pixi lock is built with
py-rattler's ``LockFile`` (one environment per twinlock environment), never by hand.

py-rattler 0.28's ``add_pypi_package`` takes no hash, so a PyPI artifact's sha256
rides on its URL as a ``#sha256=`` fragment: pip and uv verify such fragments,
and :func:`pypi_hash` reads it back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from twinlock.errors import LockFileError
from twinlock.model.lock import EnvironmentLock, LockedPackage, PypiPackage

if TYPE_CHECKING:
    from rattler import LockFile, RepoDataRecord

EXPORT_FORMATS = ("pixi-lock", "explicit", "environment-yml")
_BUILD_NUMBER = re.compile(r"_(\d+)$")


def build_number(build: str) -> int:
    """conda's build number is the build string's trailing ``_<n>`` (0 when it has none)."""
    found = _BUILD_NUMBER.search(build)
    return int(found.group(1)) if found else 0


def pypi_location(pkg: PypiPackage) -> str:
    return f"{pkg.url}#sha256={pkg.sha256}"


def pypi_hash(location: str) -> str | None:
    """The sha256 a pixi-lock PyPI location carries in its fragment, if any."""
    _, _, fragment = location.partition("#")
    return fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else None


def _record(pkg: LockedPackage) -> RepoDataRecord:
    from rattler import BuildString, PackageRecord, RepoDataRecord

    record = PackageRecord(
        pkg.name,
        pkg.version,
        BuildString(pkg.build),
        build_number(pkg.build),
        pkg.subdir,
        depends=list(pkg.depends),
        md5=bytes.fromhex(pkg.md5) if pkg.md5 else None,
        sha256=bytes.fromhex(pkg.sha256) if pkg.sha256 else None,
        license=pkg.license,
    )
    return RepoDataRecord(record, pkg.file_name, pkg.url, pkg.channel)


def to_pixi_lock(locks: Sequence[EnvironmentLock]) -> LockFile:
    """One multi-environment rattler lock holding every package of *locks*."""
    from rattler import LockChannel, LockFile, LockPlatform

    names = sorted({p for lock in locks for p in lock.platform_names})
    platforms = {name: LockPlatform(name) for name in names}
    out = LockFile(list(platforms.values()))
    for lock in locks:
        out.set_channels(lock.environment, [LockChannel(c) for c in lock.channels])
        for plat in lock.platforms:
            target = platforms[plat.platform]
            for pkg in plat.packages:
                out.add_conda_package(lock.environment, target, _record(pkg))
            for pip in plat.pypi:
                out.add_pypi_package(
                    lock.environment, target, pip.name, pip.version, pypi_location(pip)
                )
    return out


def render_environment_yml(lock: EnvironmentLock, platform: str) -> str:
    """An environment.yml pinning every package of *lock* on *platform* exactly."""
    plat = lock.platform(platform)
    if plat is None:
        raise LockFileError(
            f"{lock.environment} has no lock for {platform}",
            f"pick one of: {', '.join(lock.platform_names)}",
        )
    lines = [
        f"# {lock.composition}/{lock.environment} on {platform}, exported by twinlock.",
        "# Every package is pinned to the build in the lock; PyPI entries carry their hash.",
        f"name: {lock.environment}",
        "channels:",
        *(f"  - {c}" for c in lock.channels),
        "dependencies:",
        *(f"  - {p.name}={p.version}={p.build}" for p in sorted(plat.packages)),
    ]
    if plat.pypi:
        lines += ["  - pip:", *(f"    - {p.name} @ {pypi_location(p)}" for p in sorted(plat.pypi))]
    return "\n".join(lines) + "\n"
