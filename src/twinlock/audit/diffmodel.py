"""The values of ``twinlock diff``: its two sides and what changed between them.

:class:`LockSet` is one side (whatever it was read from: a lock directory, one
lock file, a git revision, see :mod:`twinlock.audit.sources`); :class:`LocksDiff`
the result :mod:`twinlock.audit.diff` computes and :mod:`twinlock.audit.diffrender`
renders: environments, then platforms, then package changes.

A changed package carries every kind of change that applies, most severe first
(``PackageChange.kinds``):

* ``hash`` -- same name, version, build and file name, but a different md5 or
  sha256, or one that is missing or malformed on either side: the artifact
  behind a pin was replaced, or nothing vouches for it. Always an alarm.
* ``added`` / ``removed``;
* ``upgraded`` / ``downgraded``, ordered with rattler's conda version rules
  (``(pypi)`` entries: PEP 440, see :mod:`twinlock.audit.versions`), with a
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

A side read from a damaged lock (see :mod:`twinlock.lock.validate`) is still
compared, from what it holds; its integrity problems are listed in
``LocksDiff.damage`` and, like a hash alarm, make ``--exit-code`` exit 3.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from twinlock.model.lock import EnvironmentLock, LockedPackage

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
