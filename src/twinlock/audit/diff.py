"""What changed between two sets of locks: the comparison behind ``twinlock diff``.

Pure: it compares two :class:`~twinlock.audit.diffmodel.LockSet` values and returns a
:class:`~twinlock.audit.diffmodel.LocksDiff` (the kinds of change are listed there),
which :mod:`twinlock.audit.diffrender` turns into text, markdown or JSON.
Environments are matched by name, platforms by name, packages by name within one
environment x platform; PyPI packages are compared like conda ones, as
``name (pypi)`` entries.

Each change says whether the package is a requested **root** (its name is one
of the environment's requirements) or a transitive dependency. A platform or
environment present on one side only is reported as added/removed with its
package count, without listing its packages.
"""

from __future__ import annotations

from twinlock.audit.diffmodel import (
    CHANGE_KINDS,
    Bump,
    ChangeKind,
    EnvironmentDiff,
    LocksDiff,
    LockSet,
    MetadataChange,
    PackageChange,
    PlatformDiff,
    Status,
)
from twinlock.audit.versions import pypi_version_change, version_change
from twinlock.lock.validate import well_formed_hash
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock


def diff_lock_sets(old: LockSet, new: LockSet) -> LocksDiff:
    """Compare every environment of *old* with its namesake in *new*."""
    before, after = old.by_environment(), new.by_environment()
    envs = [
        diff_environments(before.get(name), after.get(name), name)
        for name in sorted(before.keys() | after.keys())
    ]
    damage = [f"{side.label}: {problem}" for side in (old, new) for problem in side.damage]
    return LocksDiff(old.label, new.label, tuple(envs), tuple(damage))


def diff_environments(
    old: EnvironmentLock | None, new: EnvironmentLock | None, name: str
) -> EnvironmentDiff:
    if old is None:
        assert new is not None
        added = (PlatformDiff(p.platform, "added", 0, len(_diffable(p))) for p in new.platforms)
        return EnvironmentDiff(name, "added", tuple(added))
    if new is None:
        gone = (PlatformDiff(p.platform, "removed", len(_diffable(p)), 0) for p in old.platforms)
        return EnvironmentDiff(name, "removed", tuple(gone))
    roots_old = _roots(old)
    roots_new = _roots(new)
    names = sorted(set(old.platform_names) | set(new.platform_names))
    platforms = tuple(
        diff_platforms(old.platform(p), new.platform(p), p, roots_old, roots_new) for p in names
    )
    metadata = metadata_changes(old, new)
    changed = metadata or any(p.status != "unchanged" for p in platforms)
    return EnvironmentDiff(name, "changed" if changed else "unchanged", platforms, metadata)


def diff_platforms(
    old: PlatformLock | None,
    new: PlatformLock | None,
    platform: str,
    roots_old: frozenset[str],
    roots_new: frozenset[str],
) -> PlatformDiff:
    if old is None or new is None:
        status: Status = "added" if old is None else "removed"
        return PlatformDiff(
            platform, status, len(_diffable(old)) if old else 0, len(_diffable(new)) if new else 0
        )
    before, after = _diffable(old), _diffable(new)
    changes = []
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name), after.get(name)
        root = name in (roots_new if b is not None else roots_old)
        change = compare_packages(a, b, root)
        if change is not None:
            changes.append(change)
    return PlatformDiff(
        platform,
        "changed" if changes else "unchanged",
        len(before),
        len(after),
        tuple(changes),
    )


PYPI_SUFFIX = " (pypi)"
PYPI_SUBDIR = "pypi"  # the subdir of a PyPI entry in a diff


def _roots(lock: EnvironmentLock) -> frozenset[str]:
    conda = {r.name for r in lock.requirements}
    return frozenset(conda | {r.name + PYPI_SUFFIX for r in lock.pypi_requirements})


def _diffable(plat: PlatformLock) -> dict[str, LockedPackage]:
    """Every package of a platform lock by name; PyPI ones as ``name (pypi)`` entries.

    A PyPI distribution is compared like a conda package: its index host is the
    channel, its one locked file and sha256 the artifact and hash.
    """
    out = plat.by_name()
    for pkg in plat.pypi:
        scheme, _, rest = pkg.url.partition("://")
        out[pkg.name + PYPI_SUFFIX] = LockedPackage(
            name=pkg.name + PYPI_SUFFIX,
            version=pkg.version,
            build="",
            subdir=PYPI_SUBDIR,
            url=pkg.url,
            channel=f"{scheme}://{rest.split('/', 1)[0]}",
            md5="",
            sha256=pkg.sha256,
        )
    return out


def compare_packages(
    old: LockedPackage | None, new: LockedPackage | None, root: bool
) -> PackageChange | None:
    """The change from *old* to *new* (either may be absent), or None when identical."""
    if old is None or new is None:
        present = new or old
        assert present is not None
        kind: ChangeKind = "added" if old is None else "removed"
        return PackageChange(present.name, (kind,), old, new, root)
    kinds: list[ChangeKind] = []
    bump: Bump | None = None
    if old.key == new.key:
        if (old.subdir, old.file_name) != (new.subdir, new.file_name):
            kinds.append("artifact")
        elif _hash_differs(old, new):
            kinds.append("hash")
    elif old.version != new.version:
        pypi = old.subdir == new.subdir == PYPI_SUBDIR
        direction, bump = (pypi_version_change if pypi else version_change)(
            old.version, new.version
        )
        kinds.append(direction)
    else:
        kinds.append("rebuilt")
    if old.channel != new.channel:
        kinds.append("channel")
    if old.license and new.license and old.license != new.license:
        kinds.append("license")
    if not kinds:
        return None
    ordered = tuple(sorted(kinds, key=CHANGE_KINDS.index))
    return PackageChange(new.name, ordered, old, new, root, bump)


def _hash_differs(old: LockedPackage, new: LockedPackage) -> bool:
    """A hash changed, or either side's is missing or malformed (nothing vouches for the file).

    A conda sha256 that neither side records is no alarm (the channel had none);
    PyPI entries carry a sha256 only.
    """
    kinds = ("sha256",) if old.subdir == PYPI_SUBDIR else ("md5", "sha256")
    for kind in kinds:
        a, b = getattr(old, kind), getattr(new, kind)
        if kind == "sha256" and not a and not b and old.subdir != PYPI_SUBDIR:
            continue
        if a != b or not well_formed_hash(a, kind) or not well_formed_hash(b, kind):
            return True
    return False


def metadata_changes(old: EnvironmentLock, new: EnvironmentLock) -> tuple[MetadataChange, ...]:
    """Lock-level facts that differ: composition, prefix, channels, snapshot, requirements."""
    out = [
        MetadataChange(field, a, b)
        for field, a, b in (
            ("composition", old.composition, new.composition),
            ("prefix", old.prefix, new.prefix),
            ("channels", " ".join(old.channels), " ".join(new.channels)),
            ("snapshot", old.snapshot, new.snapshot),
        )
        if a != b
    ]
    specs_old = [r.spec for r in old.requirements]
    specs_new = [r.spec for r in new.requirements]
    out += [MetadataChange("requirement", s, None) for s in specs_old if s not in specs_new]
    out += [MetadataChange("requirement", None, s) for s in specs_new if s not in specs_old]
    for platform in sorted(set(old.platform_names) & set(new.platform_names)):
        a_vp = _virtual_text(old.platform(platform))
        b_vp = _virtual_text(new.platform(platform))
        if a_vp != b_vp:
            out.append(MetadataChange(f"virtual-packages {platform}", a_vp, b_vp))
    return tuple(out)


def _virtual_text(plat: PlatformLock | None) -> str:
    return " ".join(str(v) for v in plat.virtual_packages) if plat else ""
