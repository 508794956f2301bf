"""Is every lock sound, fresh and consistent? (``twinlock check``), as a library call.

A damaged lock (see :mod:`twinlock.lock.validate`) is reported problem by
problem, naming the package, and not checked for freshness or consistency;
every lock's conda files (a damaged one's as far as they can be read) are
compared with the channel's records (:mod:`twinlock.lock.verify`).
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from functools import partial
from pathlib import Path

from twinlock.app.project import Project, orphan_files
from twinlock.fileio import read_bytes_if_exists
from twinlock.lock.check import (
    Finding,
    check_consistency,
    check_freshness,
    cross_environment_findings,
)
from twinlock.lock.format import LockReading, render_explicit
from twinlock.lock.verify import verify_against_channel
from twinlock.model.lock import EnvironmentLock, LockedPackage, PypiPackage
from twinlock.solve.channels import channel_source
from twinlock.solve.records import PackageFinder, RememberedFirst

_LISTED = 5


def run_check(project: Project, finder: PackageFinder | None = None) -> list[Finding]:
    """Every reason the locks are damaged, stale, missing, orphaned or inconsistent."""
    readings = project.read_lock_readings()
    findings = [
        Finding(env, problem.platform, "damaged", problem.detail())
        for env, reading in readings.items()
        for problem in reading.problems
    ]
    locks = {env: r.lock for env, r in readings.items() if not r.problems}
    fresh = check_freshness(project.composition, locks, project.expected_shells(locks))
    findings += [f for f in fresh if f.environment in locks or f.environment not in readings]
    for lock in locks.values():
        findings += check_consistency(lock)
        findings += [
            Finding(lock.environment, plat.platform, "overlap", _overlap_text(conda, pip))
            for plat in lock.platforms
            for conda, pip in plat.overlaps()
        ]
        findings += _explicit_findings(project, lock)
    # Damaged locks too: a wrong but well-formed hash next to a malformed one is news.
    every = [_without_damaged_entries(r) for r in readings.values()]
    with contextlib.ExitStack() as owned:  # a solver made here is closed before returning
        lookup = finder or RememberedFirst(
            partial(channel_source, project.config.mirrors),
            lambda: owned.enter_context(project.solver()).find_packages_uncached,
        )
        verdicts = verify_against_channel(every, lookup)
    findings += [
        Finding(f.environment, f.platform, "hash" if f.verdict == "mismatch" else f.verdict, str(f))
        for f in verdicts
    ]
    # Aligned pins and the kernel rule (a kernel environment needs ipykernel), as lock warns.
    findings += cross_environment_findings(project.composition, locks)
    findings += [
        Finding(p.name, None, "orphan", f"{p.name} belongs to no environment x platform")
        for p in orphan_files(project)
    ]
    return findings


def _without_damaged_entries(reading: LockReading) -> EnvironmentLock:
    """The lock minus the packages its problems name (their URL or hash may be unusable)."""
    bad = {(p.package, p.platform) for p in reading.problems if p.package}
    if not bad:
        return reading.lock
    return reading.lock.with_platforms(
        [
            replace(
                plat,
                packages=tuple(p for p in plat.packages if (p.name, plat.platform) not in bad),
            )
            for plat in reading.lock.platforms
        ]
    )


def _overlap_text(conda: LockedPackage, pip: PypiPackage) -> str:
    return (
        f"'{pip.name}' is locked by conda ({conda.name} {conda.version}) "
        f"and PyPI ({pip.version}): two installers would write the same files"
    )


def _explicit_findings(project: Project, lock: EnvironmentLock) -> list[Finding]:
    out = []
    for platform in lock.platform_names:
        path = project.paths.explicit(lock.environment, platform)
        text = _text_if_exists(path)
        expected = render_explicit(lock, platform)
        if text != expected:
            detail = (
                f"{path.name} is missing"
                if text is None
                else _explicit_difference(path.name, text, expected)
            )
            out.append(Finding(lock.environment, platform, "stale", detail))
    return out


def _text_if_exists(path: Path) -> str | None:
    """The file's text, undecodable bytes replaced (they then show as a difference)."""
    data = read_bytes_if_exists(path)  # a FIFO or device is refused, not read forever
    return None if data is None else data.decode("utf-8", errors="replace")


def _explicit_difference(name: str, text: str, expected: str) -> str:
    """Which files an ``@EXPLICIT`` twin lists that the lock lacks, and the reverse."""
    have, want = set(text.splitlines()), set(expected.splitlines())
    extra = sorted(_file_of(line) for line in have - want if not line.startswith("#"))
    lacking = sorted(_file_of(line) for line in want - have if not line.startswith("#"))
    parts = [
        f"{label} {', '.join(files[:_LISTED])}{' ...' if len(files) > _LISTED else ''}"
        for label, files in (("lists", extra), ("lacks", lacking))
        if files
    ]
    return f"{name} differs from the lock" + (f": {'; '.join(parts)}" if parts else "")


def _file_of(line: str) -> str:
    """``name-version-build.conda#md5`` of an ``@EXPLICIT`` line (its URL's file and hash)."""
    return line.rsplit("/", 1)[-1][:120]
