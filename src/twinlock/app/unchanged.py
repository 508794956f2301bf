"""Is relocking a no-op? The full-path answer, and what an immediate rerun would report.

A relock is a no-op when every selected lock is sound, its inputs are unchanged,
its ``@EXPLICIT`` twins are exactly what it renders to, and the channel agrees
with its hashes. :func:`report_if_unchanged` decides it from the files; after a
lock that solved, the same function predicts the rerun from the locks in hand
and the records the solve returned (:func:`known_records`), so the no-op stamp
(:mod:`twinlock.app.noop`) costs neither a second read nor a second channel load.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from twinlock.app.lockreport import LockReport
from twinlock.app.project import Project, orphan_files
from twinlock.errors import InputFileError, LockFileError
from twinlock.fileio import display_path, read_bytes_if_exists
from twinlock.lock.format import render_explicit
from twinlock.lock.layers import with_layers
from twinlock.lock.plan import LockResult, PlatformSummary
from twinlock.lock.store import read_lock_reading
from twinlock.lock.verify import KnownRecords, mismatch_error, verify_against_channel
from twinlock.model.lock import EnvironmentLock, PlatformLock
from twinlock.solve.adapter import Solver
from twinlock.solve.records import PackageFinder
from twinlock.spec.load import condarc_path


def report_if_unchanged(
    project: Project,
    environments: Sequence[str],
    known: Mapping[str, EnvironmentLock] | None = None,
    finder: PackageFinder | None = None,
) -> LockReport | None:
    """A no-op relock: every selected lock is sound, current and agrees with the channel.

    Each lock is read and validated in full, its ``@EXPLICIT`` twins must be
    exactly what it renders to, and its conda files' hashes must match the
    channel's records. Returns None as soon as anything may need work; the full
    path then decides (and reports a damaged lock). Hashes the channel
    contradicts raise: re-deciding would reuse the same pins. A layer's hash
    takes its base's pins from the base's lock, which is checked with it.

    *known* holds locks this process has just written (taken as read back), and
    *finder* looks up channel records (default: a solver built and closed here).
    """
    if not environments and orphan_files(project):
        return None
    composition = project.composition
    selected = with_layers(composition, composition.select(list(environments)))
    known = known or {}
    sound = {
        env.name: known[env.name] if env.name in known else _sound_lock(project, env.name)
        for env in selected
    }
    locks = [lock for lock in sound.values() if lock is not None]
    if len(locks) < len(selected):
        return None
    shells = project.expected_shells({lk.environment: lk for lk in locks})
    for lock in locks:
        if _without_packages(lock) != shells[lock.environment]:
            return None
        for platform in lock.platform_names:
            if not _holds_exactly(
                project.paths.explicit(lock.environment, platform),
                render_explicit(lock, platform),
            ):
                return None
    # A solver built here is closed before exit: no rattler object outlives the call.
    with contextlib.nullcontext(finder) if finder else project.solver() as lookup:
        warnings = verify_reused(project, locks, lookup)
    summaries = [
        replace(
            PlatformSummary(lk.environment, p.platform, "reused", len(p.packages), 0.0),
            pypi=len(p.pypi),
            base=lk.extends,
            held=_held(sound.get(lk.extends or ""), p.platform),
        )
        for lk in locks
        for p in lk.platforms
    ]
    return LockReport(LockResult((), tuple(summaries)), (), (), tuple(warnings))


def _held(base: EnvironmentLock | None, platform: str) -> int:
    """How many pins a layer holds from its *base* on *platform* (0 for no layer)."""
    plat = base.platform(platform) if base is not None else None
    return len(plat.packages) if plat is not None else 0


def _sound_lock(project: Project, env: str) -> EnvironmentLock | None:
    """The lock of *env* when it exists and passes validation (the full path reports why not)."""
    path = project.paths.conda_lock(env)
    if not path.is_file():
        return None
    try:
        reading = read_lock_reading(path)
    except LockFileError:
        return None
    return None if reading.problems else reading.lock


def _holds_exactly(path: Path, text: str) -> bool:
    """Are *path*'s bytes *text*? (Compared as bytes: a file that is not UTF-8 just differs.)"""
    try:
        return read_bytes_if_exists(path) == text.encode()
    except InputFileError:  # a FIFO, device or directory: the full path replaces it
        return False


def _without_packages(lock: EnvironmentLock) -> EnvironmentLock:
    """*lock* as :meth:`Project.expected_shells` describes it: metadata and hashes only."""
    return lock.with_platforms(
        [
            PlatformLock.create(p.platform, p.input_hash, p.virtual_packages, ())
            for p in lock.platforms
        ]
    )


def verify_reused(project: Project, locks: Sequence[EnvironmentLock], finder: object) -> list[str]:
    """Raise when the channel contradicts a reused pin's hashes; warn when it cannot vouch."""
    if not locks or not isinstance(finder, PackageFinder):
        return []  # a test double that cannot look records up
    findings = verify_against_channel(locks, finder)
    if any(f.verdict == "mismatch" for f in findings):
        source = display_path(project.paths.directory)
        raise mismatch_error(findings, source)
    return [f"{f.environment} {f.platform}: cannot verify {f}" for f in findings]


def known_records(
    solver: Solver, result: LockResult, reused: set[tuple[str, str]]
) -> KnownRecords | None:
    """A finder that knows the records just solved (None for a solver that cannot look up)."""
    if not isinstance(solver, PackageFinder):
        return None  # a test double that cannot look records up
    solved = [
        pkg
        for lk in result.locks
        for plat in lk.platforms
        if (lk.environment, plat.platform) not in reused
        for pkg in plat.packages
    ]
    return KnownRecords(lambda: solver, solved)


def noop_inputs(project: Project, start: Path) -> tuple[list[Path], list[Path]]:
    """Every file (and directory listing) a no-op ``lock`` of *project* depends on.

    *start* is where the search for ``twinlock.toml`` began (the composition's
    directory, or the working directory): a config file appearing anywhere between
    it and the project root would change the project, so each of those places counts.
    """
    comp_dir = project.composition_path.parent
    files = [project.composition_path]
    files += [comp_dir / ref for env in project.composition.environments for ref in env.sources]
    root = project.config.root.resolve()
    for directory in (start.resolve(), *start.resolve().parents):
        files.append(directory / "twinlock.toml")
        if directory == root:
            break
    files += project.paths.existing_files()
    files.append(condarc_path(os.environ))  # its channel_alias may name mirrors
    return files, [project.paths.directory, project.config.root / "envs"]
