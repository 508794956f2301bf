"""A project: its composition, configuration and lock directory, as every use case opens it.

The use cases beside this module (lock, check, explain, install, rebuild, ...)
take a :class:`Project`; it knows where things are (:mod:`twinlock.spec.load`,
:mod:`twinlock.lock.store`) and builds the adapters (the rattler solver, uv).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from twinlock.errors import (
    TwinlockError,
)
from twinlock.lock.assemble import expected_shell
from twinlock.lock.format import LockReading
from twinlock.lock.store import LockPaths, check_lock_dir, read_lock_readings, read_locks
from twinlock.model.composition import Composition
from twinlock.model.inputs import pins_digest
from twinlock.model.lock import EnvironmentLock
from twinlock.spec.config import ProjectConfig, alias_mirrors, parse_mirror_options
from twinlock.spec.load import (
    condarc_channel_alias,
    environment_sources,
    load_composition,
    load_config,
)

if TYPE_CHECKING:
    # The solver adapter is imported when a use case asks for one (solver()):
    # check, explain, sbom ... open a project without solving.
    from twinlock.solve.adapter import RattlerSolver


@dataclass(frozen=True)
class Project:
    """A composition file, its project configuration and where its locks go."""

    config: ProjectConfig
    composition_path: Path
    composition: Composition
    paths: LockPaths

    @property
    def sources(self) -> dict[str, tuple[str, ...]]:
        """Per environment, the root-relative files its requirements come from."""
        return environment_sources(self.composition, self.composition_path, self.config)

    def expected_shells(
        self, locks: Mapping[str, EnvironmentLock] | None = None
    ) -> dict[str, EnvironmentLock]:
        """Per environment, what a fresh lock records (metadata and hashes, no packages);
        a layer's hashes need its base's lock from *locks*."""
        sources = self.sources
        found = locks or {}
        return {
            env.name: expected_shell(
                self.composition, env, sources[env.name], _pin_digests(found.get(env.extends or ""))
            )
            for env in self.composition.environments
        }

    def read_locks(self) -> dict[str, EnvironmentLock]:
        return read_locks(self.paths, [e.name for e in self.composition.environments])

    def read_lock_readings(self) -> dict[str, LockReading]:
        """The locks with their integrity problems, damaged ones included (for check)."""
        return read_lock_readings(self.paths, [e.name for e in self.composition.environments])

    def solver(self) -> RattlerSolver:
        """A solver over this project's mirrors; close it (``with``) when done."""
        return solver_over(self.config.mirrors)


def solver_over(mirrors: Mapping[str, str]) -> RattlerSolver:
    """A solver reading each channel through its mirror in *mirrors* (the project's)."""
    from twinlock.solve.adapter import RattlerSolver
    from twinlock.solve.channels import local_channel_dir

    return RattlerSolver(mirrors, local_channel_dir)


def _pin_digests(base: EnvironmentLock | None) -> dict[str, str]:
    """Per platform, the pins digest of a layer's base lock (none without one)."""
    return {p.platform: pins_digest(p) for p in base.platforms} if base is not None else {}


def open_project(
    composition: Path | None,
    *,
    locks_dir: Path | None = None,
    mirrors: Sequence[str] = (),
    cwd: Path | None = None,
) -> Project:
    """Resolve the composition (argument, config default, or the only envs/*.yaml)."""
    cwd = cwd or Path.cwd()
    config = load_config(composition.parent if composition else cwd)
    path = composition or config.composition or _only_composition(config.root)
    comp = load_composition(path)
    # conda's channel_alias reads named channels elsewhere; explicit mirrors win over it.
    alias = condarc_channel_alias(os.environ)
    if alias:
        channels = [c for env in comp.environments for c in env.channels]
        config = config.with_mirrors(alias_mirrors(channels, alias), under=True)
    config = config.with_mirrors(parse_mirror_options(list(mirrors), cwd=cwd))
    base = locks_dir or config.default_locks_dir
    check_lock_dir(base / comp.name)
    return Project(config, path, comp, LockPaths(base / comp.name))


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


def orphan_files(project: Project) -> tuple[Path, ...]:
    """Lock files in the directory that no environment x platform of the composition owns."""
    owned = set()
    for env in project.composition.environments:
        owned.add(project.paths.conda_lock(env.name))
        owned |= {project.paths.explicit(env.name, p) for p in env.platforms}
    return tuple(p for p in project.paths.existing_files() if p not in owned)
