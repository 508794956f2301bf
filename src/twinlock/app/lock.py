"""Lock a composition (``twinlock lock``): reuse what is fresh, solve the rest, write atomically."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twinlock.app.project import Project, orphan_files
from twinlock.errors import (
    AlignmentError,
    LockFileError,
    TwinlockError,
    UnsolvableError,
)
from twinlock.fileio import read_text_if_exists, write_files
from twinlock.lock.check import kernel_warnings
from twinlock.lock.format import read_lock_metadata, render_conda_lock, render_explicit
from twinlock.lock.plan import LockResult, PlatformSummary, lock_composition
from twinlock.model.lock import EnvironmentLock, without_package_facts
from twinlock.pypi.locking import PypiResolver, overlap_warnings
from twinlock.solve.adapter import PackageIndex, SolveOutcome, Solver, SolveRequest
from twinlock.spec.load import condarc_path


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
    lazy = _LazySolver(solver_factory or project.solver)
    needs_solver: Solver = solver or lazy
    try:
        result = lock_composition(
            project.composition,
            previous,
            needs_solver,
            sources=project.sources,
            environments=environments,
            update=update,
            full=full,
            pypi=pypi or project.pypi_resolver(),
        )
    except (UnsolvableError, AlignmentError) as exc:
        raise _explained(project, exc, solver or lazy.solver, explain_time_limit) from None
    contents: dict[Path, str] = {}
    for lock in result.locks:
        contents |= _render_if_changed(project, lock, previous.get(lock.environment))
    removed = () if environments else orphan_files(project)
    written = write_files(contents, removed)
    warnings = list(result.held_back)
    warnings += kernel_warnings(project.composition, {lk.environment: lk for lk in result.locks})
    warnings += [
        w
        for lock in result.locks
        for w in overlap_warnings(project.composition.environment(lock.environment), lock)
    ]
    return LockReport(result, tuple(written), tuple(removed), tuple(warnings))


def run_locks(
    projects: Sequence[Project],
    *,
    environments: Sequence[str] = (),
    update: Sequence[str] = (),
    full: bool = False,
) -> list[LockReport]:
    """Lock several compositions in one process, concurrently, sharing solvers.

    Projects that read their channels from the same mirrors share one solver,
    so repodata is loaded and parsed once for all of them. Each composition is
    written all-or-nothing on its own; the first failure (in argument order) is
    raised once every composition has finished.
    """
    if len(projects) == 1:
        return [run_lock(projects[0], environments=environments, update=update, full=full)]
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
        )

    with ThreadPoolExecutor(max_workers=len(projects)) as pool:
        futures = [pool.submit(lock_one, project) for project in projects]
    return [future.result() for future in futures]


class _LazySolver:
    """Builds the real solver only if a solve is needed."""

    def __init__(self, factory: Callable[[], Solver]) -> None:
        self._factory = factory
        self._solver: Solver | None = None

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
    """A no-op relock, decided from lock metadata alone (package lists are not parsed).

    Returns None as soon as anything may need work; the full path then decides.
    """
    if not environments and orphan_files(project):
        return None
    summaries: list[PlatformSummary] = []
    shells = project.expected_shells()
    for env in project.composition.select(list(environments)):
        shell = shells[env.name]
        text = read_text_if_exists(project.paths.conda_lock(env.name))
        if text is None or not _metadata_matches(read_lock_metadata(text), shell):
            return None
        for plat in shell.platforms:
            counts = _explicit_count(project, env.name, plat.platform, plat.input_hash)
            if counts is None:
                return None
            conda, pypi = counts
            summaries.append(
                PlatformSummary(env.name, plat.platform, "reused", conda, 0.0, (), pypi)
            )
    return LockReport(LockResult((), tuple(summaries)), (), ())


def _metadata_matches(meta: Mapping[str, Any], shell: EnvironmentLock) -> bool:
    channels = [c.get("url") if isinstance(c, Mapping) else c for c in meta.get("channels", [])]
    return (
        meta.get("content_hash") == {p.platform: p.input_hash for p in shell.platforms}
        and without_package_facts(meta.get("custom_metadata") or {}) == shell.custom_metadata()
        and channels == list(shell.channels)
        and meta.get("platforms") == list(shell.platform_names)
        and meta.get("sources") == list(shell.sources)
    )


_PYPI_LAYER_RE = re.compile(r"^# PyPI layer \((\d+) packages", re.MULTILINE)


def _explicit_count(
    project: Project, env: str, platform: str, input_hash: str
) -> tuple[int, int] | None:
    """Conda and PyPI packages of an @EXPLICIT file that carries *input_hash*, else None."""
    text = read_text_if_exists(project.paths.explicit(env, platform))
    if text is None or f"# input-hash: {input_hash}\n" not in text:
        return None
    head, _, body = text.partition("@EXPLICIT\n")
    # The header counts the PyPI layer (its packages are listed in the conda-lock file).
    pypi = _PYPI_LAYER_RE.search(head)
    conda = sum(1 for line in body.splitlines() if line and not line.startswith("#"))
    return conda, int(pypi.group(1)) if pypi else 0


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
    analysis = explain_composition(
        project.composition,
        analyser,
        analyser,
        targets=[(env, platform) for env, platform, _ in error.failures],
        time_limit=limit,
    )
    return ConflictsError(error.failures, analysis)


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
