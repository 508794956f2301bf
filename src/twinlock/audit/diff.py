"""What changed between two sets of locks: the core of ``twinlock diff``.

Pure: it compares two :class:`LockSet` values (whatever they were read from:
a lock directory, one lock file, a git revision) and returns a
:class:`LocksDiff`, which :mod:`twinlock.audit.diffrender` turns into text, markdown
or JSON. Environments are matched by name, platforms by name, packages by name
within one environment x platform.

A changed package carries every kind of change that applies, most severe first
(``PackageChange.kinds``):

* ``hash`` -- same name, version, build and file name, but a different md5 or
  sha256, or one that is missing or malformed on either side: the artifact
  behind a pin was replaced, or nothing vouches for it. Always an alarm.
* ``added`` / ``removed``;
* ``upgraded`` / ``downgraded``, ordered with rattler's conda version rules
  (``(pypi)`` entries: PEP 440, see :func:`pypi_version_change`), with a
  ``bump`` class: ``major`` / ``minor`` / ``patch`` (first, second, third
  version segment; an epoch change is ``major``) or ``other`` (a later segment);
* ``rebuilt`` -- same version, another build string;
* ``artifact`` -- same name, version and build but another file (``.tar.bz2``
  became ``.conda``, or another subdir): a different hash is expected there, so
  it is not an alarm;
* ``channel`` -- the package now comes from another channel;
* ``license`` -- both locks record a license and they differ (a lock without
  license data, e.g. one written before twinlock recorded licenses, never
  produces a license change).

Each change says whether the package is a requested **root** (its name is one
of the environment's requirements) or a transitive dependency. A platform or
environment present on one side only is reported as added/removed with its
package count, without listing its packages.

A side read from a damaged lock (see :mod:`twinlock.lock.validate`) is still
compared, from what it holds; its integrity problems are listed in
``LocksDiff.damage`` and, like a hash alarm, make ``--exit-code`` exit 3.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from twinlock.lock.validate import well_formed_hash
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock

ChangeKind = Literal[
    "hash",
    "added",
    "removed",
    "upgraded",
    "downgraded",
    "rebuilt",
    "artifact",
    "channel",
    "license",
]
# Most severe first: renderers and exit codes follow this order.
CHANGE_KINDS: tuple[ChangeKind, ...] = get_args(ChangeKind)
Bump = Literal["major", "minor", "patch", "other"]
Status = Literal["added", "removed", "changed", "unchanged"]

EXIT_UNCHANGED, EXIT_CHANGED, EXIT_ALARM = 0, 1, 3


@dataclass(frozen=True)
class LockSet:
    """The locks on one side of a diff, and a label saying where they came from."""

    label: str
    locks: tuple[EnvironmentLock, ...]
    # Integrity problems of the files read (a damaged lock is still compared): alarms.
    damage: tuple[str, ...] = ()

    @classmethod
    def create(
        cls, label: str, locks: Iterable[EnvironmentLock], damage: Iterable[str] = ()
    ) -> LockSet:
        return cls(label, tuple(sorted(locks, key=lambda lock: lock.environment)), tuple(damage))

    def by_environment(self) -> dict[str, EnvironmentLock]:
        return {lock.environment: lock for lock in self.locks}


@dataclass(frozen=True)
class PackageChange:
    """One package that differs between the two locks of an environment x platform."""

    name: str
    kinds: tuple[ChangeKind, ...]
    old: LockedPackage | None
    new: LockedPackage | None
    root: bool
    bump: Bump | None = None

    @property
    def kind(self) -> ChangeKind:
        """The most severe kind, the one a one-line summary shows."""
        return self.kinds[0]

    @property
    def alarm(self) -> bool:
        return "hash" in self.kinds


@dataclass(frozen=True)
class PlatformDiff:
    platform: str
    status: Status
    old_count: int
    new_count: int
    changes: tuple[PackageChange, ...] = ()


@dataclass(frozen=True)
class MetadataChange:
    """A lock-level fact that changed: prefix, channels, snapshot, a requirement..."""

    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class EnvironmentDiff:
    environment: str
    status: Status
    platforms: tuple[PlatformDiff, ...]
    metadata: tuple[MetadataChange, ...] = ()

    def changes(self) -> Iterable[tuple[str, PackageChange]]:
        """(platform, change) pairs across the platforms."""
        for plat in self.platforms:
            for change in plat.changes:
                yield plat.platform, change


@dataclass(frozen=True)
class LocksDiff:
    old_label: str
    new_label: str
    environments: tuple[EnvironmentDiff, ...]
    damage: tuple[str, ...] = ()  # integrity problems of either side, labelled with the side

    @property
    def changed(self) -> bool:
        return any(env.status != "unchanged" for env in self.environments)

    def alarms(self) -> list[tuple[str, str, PackageChange]]:
        """(environment, platform, change) of every hash alarm."""
        return [
            (env.environment, platform, change)
            for env in self.environments
            for platform, change in env.changes()
            if change.alarm
        ]

    def kind_counts(self) -> dict[ChangeKind, int]:
        """How many package changes of each kind (every kind listed, zero included)."""
        counts = Counter(k for env in self.environments for _, c in env.changes() for k in c.kinds)
        return {kind: counts[kind] for kind in CHANGE_KINDS}

    def bump_counts(self) -> dict[Bump, int]:
        counts = Counter(
            c.bump for env in self.environments for _, c in env.changes() if c.bump is not None
        )
        return {bump: counts[bump] for bump in ("major", "minor", "patch", "other")}

    @property
    def exit_code(self) -> int:
        """For ``--exit-code``: 0 no change, 1 changes, 3 a hash alarm or a damaged lock."""
        if self.alarms() or self.damage:
            return EXIT_ALARM
        return EXIT_CHANGED if self.changed else EXIT_UNCHANGED


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


def version_change(old: str, new: str) -> tuple[ChangeKind, Bump | None]:
    """("upgraded" | "downgraded" | "rebuilt", bump class) between two conda versions.

    Versions that compare equal although spelled differently ("1.0" and "1.0.0")
    count as a rebuild. Should a version not parse, plain text order decides the
    direction and there is no bump class.
    """
    from rattler import Version

    try:
        a, b = Version(old), Version(new)
    except Exception:  # rattler raises its own InvalidVersionError
        return ("upgraded" if new > old else "downgraded"), None
    if a == b:
        return "rebuilt", None
    return ("upgraded" if b > a else "downgraded"), _bump(a, b)


def pypi_version_change(old: str, new: str) -> tuple[ChangeKind, Bump | None]:
    """Like :func:`version_change`, for PyPI versions ordered by PEP 440 (``packaging``).

    ``1.0.dev0 < 1.0a1 < 1.0rc1 < 1.0 < 1.0.post1``. Versions whose public parts
    are equal (``2.1.0+cpu`` and ``2.1.0``) differ only in the local label, a
    build variant of the same release: a rebuild, not an upgrade or downgrade.
    The bump class compares the release segments (an epoch change is ``major``;
    pre-, post- and dev-release changes are ``other``). A version that is not
    PEP 440 falls back to conda's rules.
    """
    from packaging.version import InvalidVersion, Version

    try:
        a, b = Version(old), Version(new)
    except InvalidVersion:
        return version_change(old, new)
    if Version(a.public) == Version(b.public):  # "1.0" == "1.0.0"; local labels aside
        return "rebuilt", None
    direction: ChangeKind = "upgraded" if b > a else "downgraded"
    if a.epoch != b.epoch:
        return direction, "major"
    width = max(len(a.release), len(b.release), 3)
    ra, rb = (v.release + (0,) * (width - len(v.release)) for v in (a, b))
    for index, bump in enumerate(("major", "minor", "patch")):
        if ra[index] != rb[index]:
            return direction, bump  # type: ignore[return-value]
    return direction, "other"


def _bump(a: object, b: object) -> Bump:
    from rattler import Version

    assert isinstance(a, Version) and isinstance(b, Version)
    if a.epoch != b.epoch:
        return "major"
    sa, sb = a.segments(), b.segments()
    for index, bump in enumerate(("major", "minor", "patch")):
        if _segment(sa, index) != _segment(sb, index):
            return bump  # type: ignore[return-value]
    return "other"


def _segment(segments: list[list[str | int]], index: int) -> list[str | int]:
    return segments[index] if index < len(segments) else [0]


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
