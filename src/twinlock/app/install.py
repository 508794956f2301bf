"""Install, verify and mirror as library calls (``twinlock install / verify / mirror``).

The seam between the pure planning (:mod:`twinlock.install.plan`,
:mod:`twinlock.install.kernels`) and the install adapter (:mod:`twinlock.install.linker`).
Every archive is verified before any prefix is touched, so a bad archive
stops the whole install with nothing written. The PyPI layer of an
environment (:mod:`twinlock.install.pypi`, with uv) follows its conda layer; a
PyPI-only environment has no conda layer and is a uv venv.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from twinlock.app.progress import Progress, Step, silent
from twinlock.app.project import Project
from twinlock.errors import InstallError, LockFileError, did_you_mean
from twinlock.fileio import (
    blocking_file,
    cache_dir,
    display_path,
    is_empty_dir,
    read_text_if_exists,
    sha256_of,
    write_files,
)
from twinlock.install import kernels
from twinlock.install import linker as installer
from twinlock.install import pypi as pypiinstall
from twinlock.install.frozen import FROZEN_MARKER, frozen_drift, frozen_marker
from twinlock.install.launcher import STAMP
from twinlock.install.plan import (
    Action,
    Drift,
    InstalledPackage,
    decide,
    file_drift,
    package_drift,
    prefix_state,
    root_path,
    split_by_layer,
)
from twinlock.install.prefix import read_conda_meta
from twinlock.install.usersite import shadowing, user_site
from twinlock.model.composition import Composition, Environment
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock
from twinlock.pypi.uv import LayerResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """One environment to install: its locked packages and where they go."""

    environment: str
    prefix: str  # the prefix files refer to (as in the image)
    path: Path  # where it is written: <root>/<prefix>
    packages: tuple[LockedPackage, ...]
    # A prefix shared by layers (prefix: same): each environment's locked packages,
    # base first; the top layer's lock (``packages``) holds them all.
    layers: tuple[tuple[str, tuple[LockedPackage, ...]], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The environments installed into this prefix."""
        return tuple(name for name, _ in self.layers) or (self.environment,)


def _with_prefix_mates(environments: Sequence[str], chosen: Sequence[Target]) -> list[str]:
    """*environments* plus every environment sharing a prefix with one (all when empty):
    a prefix rebuilt for one of them needs the PyPI layers of all."""
    if not environments:
        return []
    return sorted({*environments, *(n for t in chosen for n in t.names)})


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


def current_platform() -> str:
    from rattler import Subdir

    return str(Subdir.current())


def targets(
    project: Project, environments: Sequence[str], platform: str, root: Path
) -> list[Target]:
    """The selected environments' locked conda packages for *platform* (locks must exist).

    PyPI-only environments have no conda layer and are not targets. A prefix shared by
    layers (``prefix: same``) is one target, whichever of its environments was selected:
    its top layer's lock holds the base's pins and the layers' additions.
    """
    blocker = blocking_file(root)
    if blocker is not None:
        raise InstallError(
            f"--root {display_path(root)}: {display_path(blocker)} is a file, not a directory",
            "pass a directory as --root (it is created when missing)",
        )
    locks = project.read_locks()
    out = []
    for chain in _prefix_chains(project.composition, environments):
        plats = [_platform_lock(locks.get(env.name), env, platform) for env in chain]
        top = plats[-1]
        layers = tuple((e.name, p.packages) for e, p in zip(chain, plats, strict=True))
        out.append(
            Target(
                "+".join(e.name for e in chain),
                chain[0].prefix,
                root_path(root, chain[0].prefix),
                top.packages,
                layers if len(chain) > 1 else (),
            )
        )
    return out


def _prefix_chains(
    composition: Composition, environments: Sequence[str]
) -> list[list[Environment]]:
    """The selected conda environments grouped by prefix, each group base first."""
    selected = composition.select(list(environments))
    wanted = {e.prefix for e in selected if not e.pypi_only}
    chains: dict[str, list[Environment]] = {}
    for env in composition.environments:
        if env.prefix in wanted and not env.pypi_only:
            chains.setdefault(env.prefix, []).append(env)

    def depth(env: Environment) -> int:
        base = composition.base_of(env)
        return 0 if base is None or not env.same_prefix else depth(base) + 1

    return [sorted(chain, key=depth) for chain in chains.values()]


def _platform_lock(lock: EnvironmentLock | None, env: Environment, platform: str) -> PlatformLock:
    plat = lock.platform(platform) if lock else None
    if plat is None:
        guess = did_you_mean(platform, env.platforms)
        raise LockFileError(
            f"no lock for environment '{env.name}' on {platform} {guess}".rstrip(),
            f"run twinlock lock (the composition locks {', '.join(env.platforms)}), "
            "or pass --platform",
        )
    return plat


def _installed(path: Path) -> list[InstalledPackage] | None:
    records = read_conda_meta(path)
    return None if records is None else [InstalledPackage.from_conda_meta(r) for r in records]


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
        environments=_with_prefix_mates(environments, chosen),
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
    state = prefix_state(_installed(target.path), is_empty_dir(target.path), target.packages, lower)
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
        environments=_with_prefix_mates(environments, chosen),
    )
    for t in chosen:
        installed = _installed(t.path)
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
    site = user_site(env, plat, python.version if python else lock.python)
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


@dataclass(frozen=True)
class MirrorReport:
    dest: Path
    channels: tuple[str, ...]
    copied: int
    present: int


def run_mirror(
    project: Project,
    *,
    dest: Path,
    environments: Sequence[str] = (),
    progress: Progress = silent,
) -> MirrorReport:
    """Gather every archive the locks need (all platforms) into the local channel *dest*.

    *progress* hears each archive fetched and verified (``done`` of ``total``)."""
    blocker = blocking_file(dest)
    if blocker is not None:
        raise InstallError(
            f"--dest {display_path(dest)}: {display_path(blocker)} is a file, not a directory",
            "pass a directory as --dest (it is created when missing)",
        )
    locks = project.read_locks()
    wanted: dict[str, LockedPackage] = {}
    for env in project.composition.select(list(environments)):
        if env.name not in locks:
            raise LockFileError(f"no lock for environment '{env.name}'", "run twinlock lock")
        for plat in locks[env.name].platforms:
            wanted |= {p.url: p for p in plat.packages}
    channels = tuple(sorted({p.channel for p in wanted.values()}))
    if len(channels) > 1:
        raise InstallError(
            f"the locks use {len(channels)} channels ({', '.join(channels)}); "
            "a mirror directory holds one",
            "mirror one environment at a time with --env, one --dest per channel",
        )
    archive_cache = cache_dir() / "archives"
    sources = installer.ArchiveSources(project.config.mirrors, (archive_cache,), archive_cache)
    verified = []
    for done, pkg in enumerate(wanted.values(), 1):
        verified.append((pkg, installer.fetch_verified(pkg, sources)))
        progress(Step("mirror", "fetching", pkg.file_name, done=done, total=len(wanted)))
    copied = sum(installer.copy_into_channel(path, dest, pkg) for pkg, path in verified)
    installer.index_channel(dest)
    return MirrorReport(dest, channels, copied, len(verified) - copied)
