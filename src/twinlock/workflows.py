"""Commands as library calls: load a project, lock it, check it.

This is the seam between the pure core (:mod:`twinlock.locking`,
:mod:`twinlock.check`) and the edges (:mod:`twinlock.files`, the solver
adapter). The CLI calls these functions and renders what they return.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twinlock import files
from twinlock.check import Finding, check_consistency, check_freshness, misalignment_findings
from twinlock.composition import Composition
from twinlock.config import ProjectConfig, parse_mirror_options
from twinlock.errors import (
    AlignmentError,
    LockFileError,
    TwinlockError,
    UnsolvableError,
    did_you_mean,
)
from twinlock.kernels import kernel_warnings
from twinlock.lockfile import read_lock_metadata, render_conda_lock, render_explicit
from twinlock.locking import LockResult, PlatformSummary, expected_shell, lock_composition
from twinlock.lockmodel import EnvironmentLock, LockedPackage, PypiPackage, without_package_facts
from twinlock.pypilocking import PypiResolver, overlap_warnings
from twinlock.solver import PackageIndex, RattlerSolver, SolveOutcome, Solver, SolveRequest

if TYPE_CHECKING:
    from twinlock.conflict_model import ConflictAnalysis


@dataclass(frozen=True)
class Project:
    """A composition file, its project configuration and where its locks go."""

    config: ProjectConfig
    composition_path: Path
    composition: Composition
    paths: files.LockPaths

    @property
    def sources(self) -> dict[str, tuple[str, ...]]:
        """Per environment, the root-relative files its requirements come from."""
        return files.environment_sources(self.composition, self.composition_path, self.config)

    def expected_shells(self) -> dict[str, EnvironmentLock]:
        """Per environment, what a fresh lock records (metadata and hashes, no packages)."""
        sources = self.sources
        return {
            env.name: expected_shell(self.composition, env, sources[env.name])
            for env in self.composition.environments
        }

    def read_locks(self) -> dict[str, EnvironmentLock]:
        return files.read_locks(self.paths, [e.name for e in self.composition.environments])

    def solver(self) -> Solver:
        return RattlerSolver(self.config.mirrors, files.local_channel_dir)

    def pypi_resolver(self) -> PypiResolver:
        from twinlock.pypi import UvResolver

        return UvResolver()


def open_project(
    composition: Path | None,
    *,
    locks_dir: Path | None = None,
    mirrors: Sequence[str] = (),
    cwd: Path | None = None,
) -> Project:
    """Resolve the composition (argument, config default, or the only envs/*.yaml)."""
    cwd = cwd or Path.cwd()
    config = files.load_config(composition.parent if composition else cwd)
    config = config.with_mirrors(parse_mirror_options(list(mirrors), cwd=cwd))
    path = composition or config.composition or _only_composition(config.root)
    comp = files.load_composition(path)
    base = locks_dir or config.default_locks_dir
    return Project(config, path, comp, files.LockPaths(base / comp.name))


def _only_composition(root: Path) -> Path:
    candidates = sorted((root / "envs").glob("*.yaml"))
    if len(candidates) == 1:
        return candidates[0]
    found = ", ".join(c.name for c in candidates) or "none"
    raise TwinlockError(
        f"no COMPOSITION given and no single envs/*.yaml to default to (found: {found})",
        "pass the composition file, e.g. twinlock lock envs/rsp.yaml, "
        "or set [project] composition in twinlock.toml",
    )


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
    lazy = _LazySolver(project, prewarm)
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
    removed = () if environments else _orphans(project)
    written = files.write_files(contents, removed)
    warnings = kernel_warnings(project.composition, {lk.environment: lk for lk in result.locks})
    warnings += [
        w
        for lock in result.locks
        for w in overlap_warnings(project.composition.environment(lock.environment), lock)
    ]
    return LockReport(result, tuple(written), tuple(removed), tuple(warnings))


class _LazySolver:
    """Builds the real solver (and starts the writer import) only if a solve is needed."""

    def __init__(self, project: Project, prewarm: threading.Thread) -> None:
        self._project = project
        self._prewarm = prewarm
        self._solver: Solver | None = None

    @property
    def solver(self) -> Solver:
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


def _orphans(project: Project) -> tuple[Path, ...]:
    """Lock files in the directory that no environment x platform of the composition owns."""
    owned = set()
    for env in project.composition.environments:
        owned.add(project.paths.conda_lock(env.name))
        owned |= {project.paths.explicit(env.name, p) for p in env.platforms}
    return tuple(p for p in project.paths.existing_files() if p not in owned)


def _report_if_unchanged(project: Project, environments: Sequence[str]) -> LockReport | None:
    """A no-op relock, decided from lock metadata alone (package lists are not parsed).

    Returns None as soon as anything may need work; the full path then decides.
    """
    if not environments and _orphans(project):
        return None
    summaries: list[PlatformSummary] = []
    shells = project.expected_shells()
    for env in project.composition.select(list(environments)):
        shell = shells[env.name]
        text = files.read_text_if_exists(project.paths.conda_lock(env.name))
        if text is None or not _metadata_matches(read_lock_metadata(text), shell):
            return None
        for plat in shell.platforms:
            count = _explicit_count(project, env.name, plat.platform, plat.input_hash)
            if count is None:
                return None
            summaries.append(PlatformSummary(env.name, plat.platform, "reused", count, 0.0))
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


def _explicit_count(project: Project, env: str, platform: str, input_hash: str) -> int | None:
    """Packages in an @EXPLICIT file that carries *input_hash*, else None."""
    text = files.read_text_if_exists(project.paths.explicit(env, platform))
    if text is None or f"# input-hash: {input_hash}\n" not in text:
        return None
    body = text.partition("@EXPLICIT\n")[2]
    return sum(1 for line in body.splitlines() if line and not line.startswith("#"))


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
    findings += misalignment_findings(project.composition, locks)
    findings += [
        Finding(p.name, None, "orphan", f"{p.name} belongs to no environment x platform")
        for p in _orphans(project)
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
        if files.read_text_if_exists(path) != render_explicit(lock, platform):
            out.append(
                Finding(lock.environment, platform, "stale", f"{path.name} is missing or differs")
            )
    return out


def _explained(
    project: Project,
    error: UnsolvableError | AlignmentError,
    solver: Solver,
    time_limit: float | None,
) -> TwinlockError:
    """The failure of a lock, with a conflict report (when the solver can list names)."""
    from twinlock.conflict_alignment import explain_clash
    from twinlock.conflict_model import DEFAULT_TIME_LIMIT, ConflictAnalysis, ConflictsError
    from twinlock.conflict_search import SolveBudget
    from twinlock.conflicts import explain_composition

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


def run_explain(
    project: Project,
    *,
    environments: Sequence[str] = (),
    platforms: Sequence[str] = (),
    time_limit: float | None = None,
    solver: Solver | None = None,
) -> ConflictAnalysis:
    """A conflict report per selected environment x platform (solvable ones say so),
    and the alignment clashes among the selected environments that solve."""
    from twinlock.conflict_model import DEFAULT_TIME_LIMIT
    from twinlock.conflicts import explain_composition

    analyser = solver or project.solver()
    if not isinstance(analyser, PackageIndex):
        raise TypeError("the solver must also list package names (PackageIndex)")
    return explain_composition(
        project.composition,
        analyser,
        analyser,
        targets=_targets(project.composition, environments, platforms),
        time_limit=DEFAULT_TIME_LIMIT if time_limit is None else time_limit,
    )


def _targets(
    composition: Composition, environments: Sequence[str], platforms: Sequence[str]
) -> list[tuple[str, str]]:
    selected = composition.select(list(environments))
    offered = {p for env in selected for p in env.platforms}
    for platform in platforms:
        if platform not in offered:
            raise TwinlockError(
                f"--platform {platform}: not a platform of "
                f"{', '.join(e.name for e in selected)} "
                f"{did_you_mean(platform, offered)}".rstrip(),
                f"pick one of: {', '.join(sorted(offered))}",
            )
    return [
        (env.name, p) for env in selected for p in env.platforms if not platforms or p in platforms
    ]
