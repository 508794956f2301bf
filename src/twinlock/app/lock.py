"""Lock a composition (``twinlock lock``): reuse what is fresh, solve the rest, write atomically."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from twinlock.app.progress import (
    CountingSolver,
    Progress,
    ReportingResolver,
    ReportingSolver,
    Step,
    silent,
)
from twinlock.app.project import Project, orphan_files
from twinlock.errors import (
    AlignmentError,
    InputFileError,
    LockFileError,
    TwinlockError,
    UnsolvableError,
)
from twinlock.fileio import display_path, read_bytes_if_exists, write_files
from twinlock.lock.check import align_warnings, kernel_warnings
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
from twinlock.spec.load import condarc_path

log = logging.getLogger(__name__)

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
    solver_factory: Callable[[], Solver] | None = None,
    progress: Progress = silent,
) -> LockReport:
    """Lock the composition; write only what changed, all or nothing on failure.

    When something does not solve, or an aligned package cannot be shared, raises
    :class:`~twinlock.explain.model.ConflictsError` carrying the conflict report.
    *progress* hears each environment x platform being solved, reused and written.
    """
    if not update and not full and solver is None:
        unchanged = _report_if_unchanged(project, environments)
        if unchanged is not None:
            log.info("every lock's inputs are unchanged: nothing to solve")
            _report_summaries(unchanged.result, progress)
            return unchanged
    previous = _previous_locks(project, tolerate_errors=full)
    # A solver this call builds is closed before it returns; a shared one (run_locks)
    # is closed by its owner.
    with _LazySolver(solver_factory or project.solver, owned=solver_factory is None) as lazy:
        try:
            result = lock_composition(
                project.composition,
                previous,
                ReportingSolver(solver or lazy, progress),
                sources=project.sources,
                environments=environments,
                update=update,
                full=full,
                pypi=ReportingResolver(pypi or project.pypi_resolver(), progress),
            )
        except (UnsolvableError, AlignmentError) as exc:
            raise _explained(
                project, exc, solver or lazy.solver, explain_time_limit, progress
            ) from None
        _report_summaries(result, progress)
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
    _report_written(project, result, set(written), progress)
    locked = {lk.environment: lk for lk in result.locks}
    warnings += result.held_back
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
            )
        ]
    from concurrent.futures import ThreadPoolExecutor

    solvers: dict[tuple[tuple[str, str], ...], Solver] = {}
    guard = threading.Lock()

    def shared(project: Project) -> Callable[[], Solver]:
        key = tuple(sorted(project.config.mirrors.items()))

        def factory() -> Solver:
            with guard:
                if key not in solvers:
                    solvers[key] = project.solver()
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
        )

    try:
        with ThreadPoolExecutor(max_workers=len(projects)) as pool:
            futures = [pool.submit(lock_one, project) for project in projects]
        return [future.result() for future in futures]
    finally:  # the shared solvers: no rattler object outlives the call
        for made in solvers.values():
            if isinstance(made, RattlerSolver):
                made.close()


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


def noop_report(project: Project, environments: Sequence[str]) -> LockReport | None:
    """What an immediate relock would report when it is a no-op (None when it is not)."""
    return _report_if_unchanged(project, environments)
