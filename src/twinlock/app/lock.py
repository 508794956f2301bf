"""Lock a composition (``twinlock lock``): reuse what is fresh, solve the rest, write atomically."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from twinlock.app.lockreport import LockReport
from twinlock.app.progress import (
    CountingSolver,
    Progress,
    ReportingResolver,
    ReportingSolver,
    Step,
    silent,
)
from twinlock.app.project import Project, orphan_files, solver_over
from twinlock.app.unchanged import known_records, report_if_unchanged, verify_reused
from twinlock.errors import (
    AlignmentError,
    LockFileError,
    TwinlockError,
    UnsolvableError,
)
from twinlock.fileio import write_files
from twinlock.lock.check import align_warnings, kernel_warnings
from twinlock.lock.format import render_conda_lock, render_explicit
from twinlock.lock.layers import LayerUnsolvableError
from twinlock.lock.plan import LockResult, lock_composition
from twinlock.model.lock import EnvironmentLock
from twinlock.pypi.locking import PypiResolver, overlap_warnings
from twinlock.pypi.plan import PypiOutcome, PypiRequest
from twinlock.solve.adapter import (
    PackageIndex,
    RattlerSolver,
    SolveOutcome,
    Solver,
    SolveRequest,
)

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from twinlock.explain.layers import LayerFindings


def run_lock(
    project: Project,
    *,
    environments: Sequence[str] = (),
    update: Sequence[str] = (),
    full: bool = False,
    solver: Solver | None = None,
    explain_time_limit: float | None = None,
    pypi: PypiResolver | None = None,
    solver_factory: Callable[[], Solver] | None = None,
    progress: Progress = silent,
    predict_rerun: bool = False,
) -> LockReport:
    """Lock the composition; write only what changed, all or nothing on failure.

    When something does not solve, or an aligned package cannot be shared, raises
    :class:`~twinlock.explain.model.ConflictsError` carrying the conflict report.
    *progress* hears each environment x platform being solved, reused and written.
    With *predict_rerun*, the report carries what an immediate rerun would report
    (for the no-op stamp), decided from the locks in hand and the records the
    solve returned, not by reading and verifying the files again.
    """
    if not update and not full and solver is None:
        unchanged = report_if_unchanged(project, environments)
        if unchanged is not None:
            log.info("every lock's inputs are unchanged: nothing to solve")
            _report_summaries(unchanged.result, progress)
            return replace(unchanged, rerun=unchanged) if predict_rerun else unchanged
    previous = _previous_locks(project, tolerate_errors=full)
    # A solver this call builds is closed before it returns; a shared one (run_locks)
    # is closed by its owner.
    factory = solver_factory or _solver_factory(project.config.mirrors)
    with _LazySolver(factory, owned=solver_factory is None) as lazy:
        try:
            result = lock_composition(
                project.composition,
                previous,
                ReportingSolver(solver or lazy, progress),
                sources=project.sources,
                environments=environments,
                update=update,
                full=full,
                pypi=ReportingResolver(pypi or _UvWhenNeeded(), progress),
            )
        except (UnsolvableError, AlignmentError) as exc:
            raise _explained(
                project, exc, solver or lazy.solver, explain_time_limit, progress
            ) from None
        _report_summaries(result, progress)
        reused = {(s.environment, s.platform) for s in result.summaries if s.action == "reused"}
        records = known_records(solver or lazy.solver, result, reused)
        warnings = verify_reused(
            project,
            [
                lk.with_platforms(
                    [p for p in lk.platforms if (lk.environment, p.platform) in reused]
                )
                for lk in result.locks
            ],
            records if reused else None,
        )
        report = _write_locks(
            project,
            result,
            previous,
            environments=environments,
            warnings=warnings,
            progress=progress,
        )
        if not predict_rerun:
            return report
        known = {lk.environment: lk for lk in result.locks}
        return replace(report, rerun=report_if_unchanged(project, environments, known, records))


def _write_locks(
    project: Project,
    result: LockResult,
    previous: dict[str, EnvironmentLock],
    *,
    environments: Sequence[str],
    warnings: list[str],
    progress: Progress,
) -> LockReport:
    """Write what changed (all or nothing) and collect the lock's warnings."""
    contents: dict[Path, str] = {}
    for lock in result.locks:
        contents |= _render_if_changed(project, lock, previous.get(lock.environment))
    removed = () if environments else orphan_files(project)
    written = write_files(contents, removed)
    _report_written(project, result, set(written), progress)
    locked = {lk.environment: lk for lk in result.locks}
    warnings = [*warnings, *result.held_back]
    warnings += kernel_warnings(project.composition, locked)
    # Environments not relocked (--env) still hold aligned packages.
    warnings += align_warnings(project.composition, {**previous, **locked})
    warnings += [
        w
        for lock in result.locks
        for w in overlap_warnings(project.composition.environment(lock.environment), lock)
    ]
    return LockReport(result, tuple(written), tuple(removed), tuple(warnings))


def _report_summaries(result: LockResult, progress: Progress) -> None:
    for s in result.summaries:
        if s.action == "reused":
            log.info("%s %s: reused (inputs unchanged)", s.environment, s.platform)
            progress(Step.of(s.environment, s.platform, "reused", f"{s.packages} packages"))


def _report_written(
    project: Project, result: LockResult, written: set[Path], progress: Progress
) -> None:
    for s in result.summaries:
        path = project.paths.explicit(s.environment, s.platform)
        if path in written:
            log.info("wrote %s", path)
            progress(Step.of(s.environment, s.platform, "written", path.name))


def run_locks(
    projects: Sequence[Project],
    *,
    environments: Sequence[str] = (),
    update: Sequence[str] = (),
    full: bool = False,
    progress: Progress = silent,
    predict_rerun: bool = False,
) -> list[LockReport]:
    """Lock several compositions in one process, concurrently, sharing solvers.

    Projects that read their channels from the same mirrors share one solver,
    so repodata is loaded and parsed once for all of them. Each composition is
    written all-or-nothing on its own; the first failure (in argument order) is
    raised once every composition has finished.
    """
    if len(projects) == 1:
        return [
            run_lock(
                projects[0],
                environments=environments,
                update=update,
                full=full,
                progress=progress,
                predict_rerun=predict_rerun,
            )
        ]
    from concurrent.futures import ThreadPoolExecutor

    solvers: dict[tuple[tuple[str, str], ...], Solver] = {}
    guard = threading.Lock()

    def shared(project: Project) -> Callable[[], Solver]:
        mirrors = project.config.mirrors
        key = tuple(sorted(mirrors.items()))

        def factory() -> Solver:
            with guard:
                if key not in solvers:
                    solvers[key] = _solver_factory(mirrors)()
                return solvers[key]

        return factory

    def lock_one(project: Project) -> LockReport:
        return run_lock(
            project,
            environments=environments,
            update=update,
            full=full,
            solver_factory=shared(project),
            progress=progress,
            predict_rerun=predict_rerun,
        )

    try:
        with ThreadPoolExecutor(max_workers=len(projects)) as pool:
            futures = [pool.submit(lock_one, project) for project in projects]
        return [future.result() for future in futures]
    finally:  # the shared solvers: no rattler object outlives the call
        for made in solvers.values():
            if isinstance(made, RattlerSolver):
                made.close()


def _solver_factory(mirrors: Mapping[str, str]) -> Callable[[], RattlerSolver]:
    """A solver over *mirrors*, built from plain values: the stages never hold the project."""
    return partial(solver_over, mirrors)


class _UvWhenNeeded:
    """The uv resolver, imported and built only when a PyPI layer is to be resolved."""

    def resolve_all(self, requests: Sequence[PypiRequest]) -> list[PypiOutcome]:
        if not requests:
            return []
        from twinlock.pypi.uv import UvResolver

        return UvResolver().resolve_all(requests)


class _LazySolver:
    """Builds the real solver only if a solve is needed.

    A context manager: leaving it closes the solver it built (when it owns it), so no
    rattler object outlives the lock.
    """

    def __init__(self, factory: Callable[[], Solver], *, owned: bool = True) -> None:
        self._factory = factory
        self._owned = owned
        self._solver: Solver | None = None

    def __enter__(self) -> _LazySolver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._owned and isinstance(self._solver, RattlerSolver):
            self._solver.close()

    @property
    def solver(self) -> Solver:
        """One real solver per lock: alignment and conflict reports reuse its repodata."""
        if self._solver is None:
            self._solver = self._factory()
        return self._solver

    def solve_all(self, requests: Sequence[SolveRequest]) -> list[SolveOutcome]:
        if not requests:
            return []
        return self.solver.solve_all(requests)


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


def _explained(
    project: Project,
    error: UnsolvableError | AlignmentError,
    solver: Solver,
    time_limit: float | None,
    progress: Progress = silent,
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
    counting = CountingSolver(analyser, progress, limit)
    if isinstance(error, AlignmentError):
        budget = SolveBudget(counting, limit, time.monotonic)
        clash = explain_clash(project.composition, error, budget)
        return ConflictsError((), ConflictAnalysis((), (clash,)))
    findings = _layer_findings(project, error, solver)
    explained = {key for key, found in findings.items() if found.replaces_report}
    targets = [(env, plat) for env, plat, _ in error.failures if (env, plat) not in explained]
    analysis = ConflictAnalysis(())
    if targets:
        analysis = explain_composition(
            project.composition, counting, analyser, targets=targets, time_limit=limit
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
