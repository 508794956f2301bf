"""Lock a composition (``twinlock lock``): reuse what is fresh, solve the rest, write atomically."""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from twinlock.app.project import Project, orphan_files
from twinlock.errors import (
    AlignmentError,
    LockFileError,
    TwinlockError,
    UnsolvableError,
)
from twinlock.fileio import display_path, write_files
from twinlock.lock.check import kernel_warnings
from twinlock.lock.format import render_conda_lock, render_explicit
from twinlock.lock.layers import LayerUnsolvableError, with_layers
from twinlock.lock.plan import LockResult, PlatformSummary, lock_composition
from twinlock.lock.store import read_lock_reading
from twinlock.lock.verify import mismatch_error, verify_against_channel
from twinlock.model.lock import EnvironmentLock, PlatformLock
from twinlock.pypi.locking import PypiResolver, overlap_warnings
from twinlock.solve.adapter import (
    PackageFinder,
    PackageIndex,
    RattlerSolver,
    SolveOutcome,
    Solver,
    SolveRequest,
)

if TYPE_CHECKING:
    from twinlock.explain.layers import LayerFindings


@dataclass(frozen=True)
class LockReport:
    result: LockResult
    written: tuple[Path, ...]
    removed: tuple[Path, ...]
    warnings: tuple[str, ...] = ()


def run_lock(
    project: Project,
    *,
    environments: Sequence[str] = (),
    update: Sequence[str] = (),
    full: bool = False,
    solver: Solver | None = None,
    explain_time_limit: float | None = None,
    pypi: PypiResolver | None = None,
) -> LockReport:
    """Lock the composition; write only what changed, all or nothing on failure.

    When something does not solve, or an aligned package cannot be shared, raises
    :class:`~twinlock.conflict_model.ConflictsError` carrying the conflict report.
    """
    if not update and not full and solver is None:
        unchanged = _report_if_unchanged(project, environments)
        if unchanged is not None:
            return unchanged
    previous = _previous_locks(project, tolerate_errors=full)
    # conda-lock's writer is slow to import; load it while the solver works.
    prewarm = threading.Thread(target=importlib.import_module, args=("conda_lock.lockfile",))
    with _LazySolver(project, prewarm) as lazy:
        try:
            result = lock_composition(
                project.composition,
                previous,
                solver or lazy,
                sources=project.sources,
                environments=environments,
                update=update,
                full=full,
                pypi=pypi or project.pypi_resolver(),
            )
        except (UnsolvableError, AlignmentError) as exc:
            raise _explained(project, exc, solver or lazy.solver, explain_time_limit) from None
        reused = {(s.environment, s.platform) for s in result.summaries if s.action == "reused"}
        warnings = _verify_reused(
            project,
            [
                lk.with_platforms(
                    [p for p in lk.platforms if (lk.environment, p.platform) in reused]
                )
                for lk in result.locks
            ],
            solver or (lazy.solver if reused else None),
        )
    contents: dict[Path, str] = {}
    for lock in result.locks:
        contents |= _render_if_changed(project, lock, previous.get(lock.environment))
    removed = () if environments else orphan_files(project)
    written = write_files(contents, removed)
    warnings += result.held_back
    warnings += kernel_warnings(project.composition, {lk.environment: lk for lk in result.locks})
    warnings += [
        w
        for lock in result.locks
        for w in overlap_warnings(project.composition.environment(lock.environment), lock)
    ]
    return LockReport(result, tuple(written), tuple(removed), tuple(warnings))


class _LazySolver:
    """Builds the real solver (and starts the writer import) only if a solve is needed.

    A context manager: leaving it closes the real solver, if one was built.
    """

    def __init__(self, project: Project, prewarm: threading.Thread) -> None:
        self._project = project
        self._prewarm = prewarm
        self._solver: RattlerSolver | None = None

    def __enter__(self) -> _LazySolver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._solver is not None:
            self._solver.close()

    @property
    def solver(self) -> RattlerSolver:
        """One real solver per lock: alignment and conflict reports reuse its repodata."""
        if self._solver is None:
            self._solver = self._project.solver()
        return self._solver

    def solve_all(self, requests: Sequence[SolveRequest]) -> list[SolveOutcome]:
        if not requests:
            return []
        # Alignment calls back for re-solves: start the import only once.
        if self._prewarm.ident is None:
            self._prewarm.start()
        try:
            return self.solver.solve_all(requests)
        finally:
            self._prewarm.join()


def _previous_locks(project: Project, *, tolerate_errors: bool) -> dict[str, EnvironmentLock]:
    try:
        return project.read_locks()
    except LockFileError:
        if tolerate_errors:
            return {}
        raise


def _render_if_changed(
    project: Project, lock: EnvironmentLock, previous: EnvironmentLock | None
) -> dict[Path, str]:
    paths = project.paths
    out = {
        paths.explicit(lock.environment, p): render_explicit(lock, p) for p in lock.platform_names
    }
    lock_path = paths.conda_lock(lock.environment)
    if previous != lock or not lock_path.is_file():
        out[lock_path] = render_conda_lock(lock)
    return out


def _report_if_unchanged(project: Project, environments: Sequence[str]) -> LockReport | None:
    """A no-op relock: every selected lock is sound, current and agrees with the channel.

    Each lock is read and validated in full, its ``@EXPLICIT`` twins must be
    exactly what it renders to, and its conda files' hashes must match the
    channel's records. Returns None as soon as anything may need work; the full
    path then decides (and reports a damaged lock). Hashes the channel
    contradicts raise: re-deciding would reuse the same pins. A layer's hash
    takes its base's pins from the base's lock, which is checked with it.
    """
    if not environments and orphan_files(project):
        return None
    composition = project.composition
    selected = with_layers(composition, composition.select(list(environments)))
    sound = {env.name: _sound_lock(project, env.name) for env in selected}
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
    with project.solver() as finder:  # closed before exit: no rattler object outlives the call
        warnings = _verify_reused(project, locks, finder)
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
        return path.read_bytes() == text.encode()
    except OSError:
        return False


def _without_packages(lock: EnvironmentLock) -> EnvironmentLock:
    """*lock* as :meth:`Project.expected_shells` describes it: metadata and hashes only."""
    return lock.with_platforms(
        [
            PlatformLock.create(p.platform, p.input_hash, p.virtual_packages, ())
            for p in lock.platforms
        ]
    )


def _verify_reused(project: Project, locks: Sequence[EnvironmentLock], finder: object) -> list[str]:
    """Raise when the channel contradicts a reused pin's hashes; warn when it cannot vouch."""
    if not locks or not isinstance(finder, PackageFinder):
        return []  # a test double that cannot look records up
    findings = verify_against_channel(locks, finder)
    if any(f.verdict == "mismatch" for f in findings):
        source = display_path(project.paths.directory)
        raise mismatch_error(findings, source)
    return [f"{f.environment} {f.platform}: cannot verify {f}" for f in findings]


def _explained(
    project: Project,
    error: UnsolvableError | AlignmentError,
    solver: Solver,
    time_limit: float | None,
) -> TwinlockError:
    """The failure of a lock, with a conflict report (when the solver can list names)."""
    from twinlock.explain.alignment import explain_clash
    from twinlock.explain.conflicts import explain_composition
    from twinlock.explain.model import DEFAULT_TIME_LIMIT, ConflictAnalysis, ConflictsError
    from twinlock.explain.search import SolveBudget

    analyser = solver
    if not isinstance(analyser, PackageIndex):
        return error
    limit = DEFAULT_TIME_LIMIT if time_limit is None else time_limit
    if isinstance(error, AlignmentError):
        budget = SolveBudget(analyser, limit, time.monotonic)
        clash = explain_clash(project.composition, error, budget)
        return ConflictsError((), ConflictAnalysis((), (clash,)))
    findings = _layer_findings(project, error, solver)
    explained = {key for key, found in findings.items() if found.replaces_report}
    targets = [(env, plat) for env, plat, _ in error.failures if (env, plat) not in explained]
    analysis = ConflictAnalysis(())
    if targets:
        analysis = explain_composition(
            project.composition, analyser, analyser, targets=targets, time_limit=limit
        )
    layers = tuple(clash for found in findings.values() for clash in found.clashes)
    return ConflictsError(error.failures, replace(analysis, layers=layers))


def _layer_findings(
    project: Project, error: UnsolvableError, solver: Solver
) -> dict[tuple[str, str], LayerFindings]:
    """For layers that fail with their base's pins held: which addition needs which pin
    to move, per (layer, platform)."""
    from twinlock.explain.layers import explain_layer

    if not isinstance(error, LayerUnsolvableError):
        return {}
    return {
        (layer, platform): explain_layer(project.composition, layer, platform, base, solver)
        for (layer, platform), base in sorted(error.bases.items())
    }
