"""Commands as library calls: load a project, lock it, check it.

This is the seam between the pure core (:mod:`twinlock.locking`,
:mod:`twinlock.check`) and the edges (:mod:`twinlock.files`, the solver
adapter). The CLI calls these functions and renders what they return.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twinlock import files
from twinlock.check import Finding, check_consistency, check_freshness
from twinlock.composition import Composition
from twinlock.config import ProjectConfig, parse_mirror_options
from twinlock.errors import LockFileError, TwinlockError
from twinlock.lockfile import read_lock_metadata, render_conda_lock, render_explicit
from twinlock.locking import LockResult, PlatformSummary, expected_shell, lock_composition
from twinlock.lockmodel import EnvironmentLock, LockedPackage, PypiPackage
from twinlock.pypilocking import PypiResolver, overlap_warnings
from twinlock.solver import RattlerSolver, SolveOutcome, Solver, SolveRequest


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
    pypi: PypiResolver | None = None,
) -> LockReport:
    """Lock the composition; write only what changed, all or nothing on failure."""
    if not update and not full and solver is None:
        unchanged = _report_if_unchanged(project, environments)
        if unchanged is not None:
            return unchanged
    previous = _previous_locks(project, tolerate_errors=full)
    # conda-lock's writer is slow to import; load it while the solver works.
    prewarm = threading.Thread(target=importlib.import_module, args=("conda_lock.lockfile",))
    needs_solver: Solver = solver or _LazySolver(project, prewarm)
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
    warnings = [
        w
        for lock in result.locks
        for w in overlap_warnings(project.composition.environment(lock.environment), lock)
    ]
    contents: dict[Path, str] = {}
    for lock in result.locks:
        contents |= _render_if_changed(project, lock, previous.get(lock.environment))
    removed = () if environments else _orphans(project)
    written = files.write_files(contents, removed)
    return LockReport(result, tuple(written), tuple(removed), tuple(warnings))


class _LazySolver:
    """Builds the real solver (and starts the writer import) only if a solve is needed."""

    def __init__(self, project: Project, prewarm: threading.Thread) -> None:
        self._project = project
        self._prewarm = prewarm

    def solve_all(self, requests: Sequence[SolveRequest]) -> list[SolveOutcome]:
        if not requests:
            return []
        self._prewarm.start()
        try:
            return self._project.solver().solve_all(requests)
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
        and meta.get("custom_metadata") == shell.custom_metadata()
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
