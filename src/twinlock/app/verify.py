"""Verify as a library call (``twinlock verify``): installed prefixes against their locks.

Every difference is a :class:`~twinlock.install.plan.Drift`: packages (and with
``deep``, files) that differ from the lock, a missing prefix, a missing or stale
CEP 22 frozen marker, a PyPI layer out of step, and user-site packages that
would shadow locked ones. The targets are :mod:`twinlock.app.targets`'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from twinlock.app.project import Project
from twinlock.app.targets import (
    current_platform,
    installed_packages,
    targets,
    with_prefix_mates,
)
from twinlock.fileio import read_text_if_exists, sha256_of
from twinlock.install import pypi as pypiinstall
from twinlock.install.frozen import FROZEN_MARKER, frozen_drift
from twinlock.install.plan import Drift, file_drift, package_drift, split_by_layer
from twinlock.install.usersite import shadowing, user_site
from twinlock.model.composition import Environment
from twinlock.model.lock import EnvironmentLock


def run_verify(
    project: Project,
    *,
    root: Path,
    environments: Sequence[str] = (),
    platform: str | None = None,
    deep: bool = False,
    frozen: bool = True,
) -> list[Drift]:
    """Every difference between the installed prefixes under *root* and their locks.

    With *frozen*, a conda prefix without a valid CEP 22 marker is a difference too.
    """
    chosen = targets(project, environments, platform or current_platform(), root)
    drift: list[Drift] = pypiinstall.pypi_drift(
        project.composition,
        project.read_locks(),
        platform=platform or current_platform(),
        root=root,
        environments=with_prefix_mates(environments, chosen),
    )
    for t in chosen:
        installed = installed_packages(t.path)
        if installed is None:
            drift.append(Drift(t.environment, "no-prefix", _no_prefix_detail(t.path)))
            continue
        layers = split_by_layer(t.layers, installed) if t.layers else []
        for name, packages, records in layers or [(t.environment, list(t.packages), installed)]:
            drift += package_drift(name, packages, records)
            if deep:
                drift += file_drift(name, records, _hasher(t.path))
        if frozen:
            drift += frozen_drift(t.environment, read_text_if_exists(t.path / FROZEN_MARKER))
    locks = project.read_locks()
    for env in project.composition.select(list(environments)):
        if env.same_prefix:
            continue  # its Python (and so its user site) is its base's, checked there
        drift += _shadowing(project, env, locks.get(env.name), platform or current_platform())
    return drift


def _shadowing(
    project: Project, env: Environment, lock: EnvironmentLock | None, platform: str
) -> list[Drift]:
    """User-site packages (of whoever runs verify) that shadow *env*'s locked ones."""
    plat = lock.platform(platform) if lock else None
    if (
        lock is None
        or plat is None
        or any(
            e.kernel and e.kernel.lab == env.name and e.kernel.isolate_user_site
            for e in project.composition.environments
        )
    ):
        return []  # a lab hosting isolated kernels drops the user site (its .pth)
    python = plat.package("python")
    site = user_site(env, python.version if python else lock.python)
    if site is None:
        return []
    directory = Path.home() / site
    entries = [p.name for p in directory.iterdir()] if directory.is_dir() else []
    return shadowing(env.name, f"~/{site}", entries, plat)


def _no_prefix_detail(path: Path) -> str:
    """Why *path* is no installed prefix: absent, not a directory, or without conda-meta."""
    if not path.exists():
        return f"{path} does not exist (not installed under this --root?)"
    if not path.is_dir():
        return f"{path} is not a directory"
    return f"{path} has no conda-meta (not a conda environment)"


def _hasher(prefix: Path) -> Callable[[str], str | None]:
    return lambda rel: sha256_of(prefix / rel)
