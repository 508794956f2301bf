"""Install as a library call (``twinlock install``).

The seam between the pure planning (:mod:`twinlock.install.plan`,
:mod:`twinlock.install.kernels`) and the install adapter (:mod:`twinlock.install.linker`).
Every archive is verified before any prefix is touched, so a bad archive
stops the whole install with nothing written. The PyPI layer of an
environment (:mod:`twinlock.install.pypi`, with uv) follows its conda layer; a
PyPI-only environment has no conda layer and is a uv venv. What goes where comes
from :mod:`twinlock.app.targets`; ``verify`` and ``mirror`` are
:mod:`twinlock.app.verify` and :mod:`twinlock.app.mirror`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from twinlock.app.project import Project
from twinlock.app.targets import (
    Target,
    current_platform,
    installed_packages,
    targets,
    with_prefix_mates,
)
from twinlock.fileio import cache_dir, is_empty_dir, write_files
from twinlock.install import kernels
from twinlock.install import linker as installer
from twinlock.install import pypi as pypiinstall
from twinlock.install.frozen import FROZEN_MARKER, frozen_marker
from twinlock.install.launcher import STAMP
from twinlock.install.plan import Action, decide, prefix_state, root_path
from twinlock.model.composition import Environment
from twinlock.model.lock import LockedPackage
from twinlock.pypi.uv import LayerResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnvironmentResult:
    environment: str
    path: Path
    action: Action
    packages: int
    files: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class InstallReport:
    results: tuple[EnvironmentResult, ...]
    kernel_files: tuple[Path, ...]
    seconds: float
    pypi: tuple[LayerResult, ...] = ()
    frozen: tuple[Path, ...] = ()  # CEP 22 markers written (unchanged ones are not listed)


def run_install(
    project: Project,
    *,
    root: Path,
    environments: Sequence[str] = (),
    platform: str | None = None,
    force: bool = False,
    caches: Sequence[Path] = (),
    progress: installer.Progress | None = None,
    freeze: bool = True,
) -> InstallReport:
    """Install every selected environment into ``root/<prefix>``; all archives verified first.

    With *freeze*, each conda prefix gets CEP 22's ``conda-meta/frozen`` marker, so conda
    refuses to change what was verified (written after the PyPI layer, which uv installs).
    """
    start = time.perf_counter()
    chosen = targets(project, environments, platform or current_platform(), root)
    actions = {t.environment: _action(t, force=force) for t in chosen}
    for t in chosen:
        log.info(
            "%s: %s %d packages into %s",
            t.environment,
            actions[t.environment],
            len(t.packages),
            t.path,
        )
    archive_cache = cache_dir() / "archives"
    sources = installer.ArchiveSources(
        project.config.mirrors, (*caches, archive_cache), archive_cache
    )
    verified = {
        t.environment: _verify_all(t, sources, progress)
        for t in chosen
        if actions[t.environment] != "skip"
    }
    results = [
        _install_one(t, actions[t.environment], verified.get(t.environment), platform, progress)
        for t in chosen
    ]
    layers = pypiinstall.install_pypi_layers(
        project.composition,
        project.read_locks(),
        platform=platform or current_platform(),
        root=root,
        environments=with_prefix_mates(environments, chosen),
    )
    log.info("PyPI layers: %d installed", len(layers))
    frozen = _freeze(project, chosen) if freeze else []
    # Last: the stamp fingerprints conda-meta, the frozen marker included.
    written = _write_kernel_files(project, root, platform or current_platform())
    return InstallReport(
        tuple(results),
        tuple(written),
        time.perf_counter() - start,
        tuple(layers),
        tuple(frozen),
    )


def _action(target: Target, *, force: bool) -> Action:
    """What to do with *target*'s prefix (a prefix holding a lower layer is extended)."""
    lower = [packages for _, packages in target.layers[:-1]]
    records = installed_packages(target.path)
    state = prefix_state(records, is_empty_dir(target.path), target.packages, lower)
    return decide(target.environment, str(target.path), state, force=force)


def _verify_all(
    target: Target, sources: installer.ArchiveSources, progress: installer.Progress | None
) -> list[tuple[LockedPackage, Path]]:
    """Fetch and check every archive of *target*; hashing and downloads run in threads."""
    from concurrent.futures import ThreadPoolExecutor

    total = 2 * len(target.packages)
    done: list[int] = []

    def one(pkg: LockedPackage) -> tuple[LockedPackage, Path]:
        path = installer.fetch_verified(pkg, sources)
        done.append(1)  # list.append is atomic: a safe counter across threads
        if progress:
            event = installer.InstallEvent(target.environment, "verify", pkg.name, len(done), total)
            progress(event)
        return pkg, path

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(one, target.packages))


def _install_one(
    target: Target,
    action: Action,
    verified: list[tuple[LockedPackage, Path]] | None,
    platform: str | None,
    progress: installer.Progress | None,
) -> EnvironmentResult:
    n = len(target.packages)
    if action == "skip" or verified is None:
        if progress:
            progress(installer.InstallEvent(target.environment, "done", "", 2 * n, 2 * n))
        return EnvironmentResult(target.environment, target.path, "skip", n)
    linked = installer.install_prefix(
        target.environment,
        target.path,
        target.prefix,
        verified,
        platform=platform or current_platform(),
        package_cache=cache_dir() / "pkgs",
        replace=action in ("replace", "extend"),
        progress=progress,
    )
    return EnvironmentResult(
        target.environment, target.path, action, n, linked.files, linked.seconds
    )


def _write_kernel_files(project: Project, root: Path, platform: str) -> list[Path]:
    """Kernelspecs, launchers and server config into every lab prefix installed under *root*,
    and a stamp into each kernel's prefix for the launcher to check at start-up."""
    locks = project.read_locks()
    contents: dict[Path, str] = {}
    for item in kernels.kernel_files(project.composition, locks, platform):
        lab: Environment = project.composition.environment(item.lab)
        lab_path = root_path(root, lab.prefix)
        if _installed_at(lab_path):
            contents[lab_path / item.path] = item.text
    written = write_files(contents)
    stamps: dict[Path, str] = {}
    for env in project.composition.environments:
        prefix = root_path(root, env.prefix)
        plat = locks[env.name].platform(platform) if env.name in locks else None
        if env.kernel is not None and plat is not None and _installed_at(prefix):
            stamps[prefix / STAMP] = kernels.stamp_text(plat, prefix)
    return written + write_files(stamps)


def _installed_at(path: Path) -> bool:
    return (path / "conda-meta").is_dir() or (path / "pyvenv.cfg").is_file()


def _freeze(project: Project, chosen: Sequence[Target]) -> list[Path]:
    return write_files(
        {
            t.path / FROZEN_MARKER: frozen_marker(project.composition.name, t.environment)
            for t in chosen
        }
    )
