"""Install the PyPI layers of a composition's locks (the step after the conda layer).

For every selected environment whose lock has PyPI packages on the platform:
a PyPI-only environment gets its prefix created from a machine interpreter of
the locked Python version (:func:`twinlock.pypi.uv.find_interpreter`) with
``uv venv`` and synced to the lock; a mixed environment gets its PyPI packages
installed on top of the conda layer already in the prefix. All uv calls go
through :mod:`twinlock.pypi.uv`.

``twinlock install`` calls :func:`install_pypi_layers` after its conda layer,
``twinlock verify`` calls :func:`pypi_drift`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from twinlock.errors import LockFileError
from twinlock.install.plan import Drift, root_path
from twinlock.model.composition import Composition
from twinlock.model.lock import EnvironmentLock
from twinlock.pypi.uv import LayerResult, find_interpreter, install_layer, installed_distributions


def install_pypi_layers(
    composition: Composition,
    locks: Mapping[str, EnvironmentLock],
    *,
    platform: str,
    root: Path,
    environments: Sequence[str] = (),
) -> list[LayerResult]:
    """Install the locked PyPI layer of each selected environment under *root*."""
    results = []
    for env in composition.select(list(environments)):
        lock = locks.get(env.name)
        plat = lock.platform(platform) if lock is not None else None
        if lock is None or plat is None:
            raise LockFileError(
                f"no lock for environment '{env.name}' on {platform}",
                f"run twinlock lock (the composition must list {platform} for {env.name})",
            )
        if not plat.pypi and not env.pypi_only:
            continue
        interpreter = None
        if env.pypi_only:
            version = lock.python or env.python or ""
            interpreter = find_interpreter(env.name, version, env.python_interpreter)
        target = root_path(root, env.prefix)
        results.append(
            install_layer(target, plat.pypi, interpreter=interpreter, environment=env.name)
        )
    return results


def pypi_drift(
    composition: Composition,
    locks: Mapping[str, EnvironmentLock],
    *,
    platform: str,
    root: Path,
    environments: Sequence[str] = (),
) -> list[Drift]:
    """PyPI packages missing or at another version than locked (and, PyPI-only, extras)."""
    drift: list[Drift] = []
    for env in composition.select(list(environments)):
        lock = locks.get(env.name)
        plat = lock.platform(platform) if lock is not None else None
        if plat is None or not (plat.pypi or env.pypi_only):
            continue
        path = root_path(root, env.prefix)
        installed = installed_distributions(path)
        if installed is None:
            drift.append(Drift(env.name, "no-prefix", f"{path} has no Python to inspect"))
            continue
        for pkg in plat.pypi:
            found = installed.get(pkg.name)
            if found is None:
                drift.append(Drift(env.name, "missing", f"{pkg.name} {pkg.version} (PyPI)"))
            elif found != pkg.version:
                drift.append(Drift(env.name, "changed", f"{pkg.name} {pkg.version} -> {found}"))
        if env.pypi_only:  # everything in a venv comes from the lock
            locked = {p.name for p in plat.pypi}
            drift += [
                Drift(env.name, "extra", f"{name} {version} (PyPI)")
                for name, version in sorted(installed.items())
                if name not in locked
            ]
    return drift
