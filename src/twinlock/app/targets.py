"""Which locked packages go where: the install targets of ``install`` and ``verify``.

A target is one prefix under ``--root`` and the conda packages its lock pins there;
a prefix shared by layers (``prefix: same``) is one target holding each layer's
packages, base first. :mod:`twinlock.app.install` installs targets,
:mod:`twinlock.app.verify` compares them with what is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from twinlock.app.project import Project
from twinlock.errors import InstallError, LockFileError, did_you_mean
from twinlock.fileio import blocking_file, display_path
from twinlock.install.plan import InstalledPackage, root_path
from twinlock.install.prefix import read_conda_meta
from twinlock.model.composition import Composition, Environment
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock


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


def with_prefix_mates(environments: Sequence[str], chosen: Sequence[Target]) -> list[str]:
    """*environments* plus every environment sharing a prefix with one (all when empty):
    a prefix rebuilt for one of them needs the PyPI layers of all."""
    if not environments:
        return []
    return sorted({*environments, *(n for t in chosen for n in t.names)})


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
    refuse_file_in_place(root, "--root")
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


def installed_packages(path: Path) -> list[InstalledPackage] | None:
    records = read_conda_meta(path)
    return None if records is None else [InstalledPackage.from_conda_meta(r) for r in records]


def refuse_file_in_place(directory: Path, option: str) -> None:
    """An :class:`InstallError` when a file keeps *directory* (given as *option*) from being one."""
    blocker = blocking_file(directory)
    if blocker is not None:
        raise InstallError(
            f"{option} {display_path(directory)}: {display_path(blocker)} is a file, "
            "not a directory",
            f"pass a directory as {option} (it is created when missing)",
        )
