"""Locked conda files against the channel's own records of them.

A lock's md5 and sha256 are only as good as their agreement with the channel:
``check`` reports every locked conda file whose hashes differ from the record
the channel (through its configured mirror, or the bundled snapshot) holds for
that exact file, and every file it cannot vouch for (no record, or a record
without the hash); ``lock`` refuses to reuse pins whose hashes disagree.
PyPI artifacts are not compared (no index is consulted here).

The lookup goes through a :class:`~twinlock.solve.adapter.PackageFinder`, so
tests and other callers choose the channel reader.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from twinlock.errors import LockFileError, listed
from twinlock.model.composition import Channel
from twinlock.model.lock import EnvironmentLock, LockedPackage
from twinlock.solve.records import PackageFinder, PackageRef

Verdict = Literal["mismatch", "unverifiable"]
_LISTED = 10


@dataclass(frozen=True)
class ChannelFinding:
    """One locked file the channel contradicts (``mismatch``) or cannot confirm."""

    environment: str
    platform: str
    package: LockedPackage
    verdict: Verdict
    detail: str

    def __str__(self) -> str:
        pkg = self.package
        return f"{pkg.name} {pkg.version} {pkg.build}: {self.detail}"


def verify_against_channel(
    locks: Iterable[EnvironmentLock], finder: PackageFinder
) -> list[ChannelFinding]:
    """Compare every conda package of *locks* with the channel's record of its file."""
    uses: dict[PackageRef, list[tuple[str, str, LockedPackage]]] = {}
    for lock in locks:
        for plat in lock.platforms:
            for pkg in plat.packages:
                ref = package_ref(pkg)
                uses.setdefault(ref, []).append((lock.environment, plat.platform, pkg))
    records = finder.find_packages(sorted(uses, key=_ref_key))
    findings = []
    for ref, where in sorted(uses.items(), key=lambda item: _ref_key(item[0])):
        for env, platform, pkg in where:
            verdict = compare_with_record(pkg, records.get(ref))
            if verdict is not None:
                findings.append(ChannelFinding(env, platform, pkg, *verdict))
    return sorted(findings, key=lambda f: (f.environment, f.platform, f.package.name))


def package_ref(pkg: LockedPackage) -> PackageRef:
    """The channel file a locked conda package names."""
    return PackageRef(_channel(pkg.channel), pkg.subdir, pkg.file_name)


@functools.lru_cache(maxsize=64)
def _channel(url: str) -> Channel:
    # A lock names one or two channels for hundreds of packages: one value each.
    return Channel(url, url)


class KnownRecords:
    """A :class:`PackageFinder` that answers from records already in hand.

    A lock that has just been solved holds the channel's own records: verifying
    it again (to predict what a rerun prints) needs no second load of the
    repodata. Records are remembered as *finder* returns them (absent ones too),
    and *finder* is built (by calling it) only when a file is not known yet.
    """

    def __init__(
        self, finder: Callable[[], PackageFinder], known: Iterable[LockedPackage] = ()
    ) -> None:
        self._finder = finder
        self._known: dict[PackageRef, LockedPackage | None] = {package_ref(p): p for p in known}

    def remember(self, packages: Iterable[LockedPackage]) -> None:
        """Add records taken from the channel (say, a solve's result)."""
        self._known |= {package_ref(p): p for p in packages}

    def find_packages(self, refs: Sequence[PackageRef]) -> dict[PackageRef, LockedPackage]:
        missing = [r for r in refs if r not in self._known]
        if missing:
            found = self._finder().find_packages(missing)
            self._known |= {r: found.get(r) for r in missing}
        return {r: record for r in refs if (record := self._known[r]) is not None}


def compare_with_record(
    pkg: LockedPackage, record: LockedPackage | None
) -> tuple[Verdict, str] | None:
    """What the channel's *record* says against the locked *pkg* (None: they agree)."""
    if record is None:
        return "unverifiable", f"the channel has no record of {pkg.subdir}/{pkg.file_name}"
    wrong = [
        f"{kind}: lock says {mine or '(none)'}, channel says {theirs}"
        for kind, mine, theirs in (
            ("md5", pkg.md5, record.md5),
            ("sha256", pkg.sha256, record.sha256),
        )
        if theirs and mine != theirs
    ]
    if wrong:
        return "mismatch", "; ".join(wrong)
    unknown = [
        kind for kind, theirs in (("md5", record.md5), ("sha256", record.sha256)) if not theirs
    ]
    if unknown:
        return "unverifiable", f"the channel's record has no {' or '.join(unknown)}"
    return None


def mismatch_error(findings: Iterable[ChannelFinding], source: str) -> LockFileError:
    """Why a lock is not reused: the files whose hashes the channel contradicts."""
    wrong = [f for f in findings if f.verdict == "mismatch"]
    lines = [f"{source}: {len(wrong)} locked file(s) differ from the channel's records:"]
    lines += listed([f"{f.environment} {f.platform} {f}" for f in wrong], _LISTED)
    names = " ".join(f"--update {n}" for n in sorted({f.package.name for f in wrong})[:_LISTED])
    return LockFileError(
        "\n".join(lines),
        "the lock was edited or the channel replaced the file: restore the lock from version "
        f"control (git checkout -- FILE), or take the channel's records: twinlock lock {names}",
    )


def _ref_key(ref: PackageRef) -> tuple[str, str, str]:
    return (ref.channel.url, ref.subdir, ref.file_name)
