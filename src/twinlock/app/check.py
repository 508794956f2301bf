"""Is every lock fresh and consistent? (``twinlock check``), as a library call."""

from __future__ import annotations

from twinlock.app.project import Project, orphan_files
from twinlock.fileio import read_text_if_exists
from twinlock.lock.check import (
    Finding,
    check_consistency,
    check_freshness,
    cross_environment_findings,
)
from twinlock.lock.format import render_explicit
from twinlock.model.lock import EnvironmentLock, LockedPackage, PypiPackage


def run_check(project: Project) -> list[Finding]:
    """Every reason the locks are stale, missing, orphaned or inconsistent."""
    locks = project.read_locks()
    findings = check_freshness(project.composition, locks, project.expected_shells())
    for lock in locks.values():
        findings += check_consistency(lock)
        findings += [
            Finding(lock.environment, plat.platform, "overlap", _overlap_text(conda, pip))
            for plat in lock.platforms
            for conda, pip in plat.overlaps()
        ]
        findings += _explicit_findings(project, lock)
    # Aligned pins and the kernel rule (a kernel environment needs ipykernel), as lock warns.
    findings += cross_environment_findings(project.composition, locks)
    findings += [
        Finding(p.name, None, "orphan", f"{p.name} belongs to no environment x platform")
        for p in orphan_files(project)
    ]
    return findings


def _overlap_text(conda: LockedPackage, pip: PypiPackage) -> str:
    return (
        f"'{pip.name}' is locked by conda ({conda.name} {conda.version}) "
        f"and PyPI ({pip.version}): two installers would write the same files"
    )


def _explicit_findings(project: Project, lock: EnvironmentLock) -> list[Finding]:
    out = []
    for platform in lock.platform_names:
        path = project.paths.explicit(lock.environment, platform)
        if read_text_if_exists(path) != render_explicit(lock, platform):
            out.append(
                Finding(lock.environment, platform, "stale", f"{path.name} is missing or differs")
            )
    return out
