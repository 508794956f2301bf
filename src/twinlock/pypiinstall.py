"""Install the PyPI layers of a composition's locks (the step after the conda layer).

For every selected environment whose lock has PyPI packages on the platform:
a PyPI-only environment gets its prefix created from a machine interpreter of
the locked Python version (:func:`twinlock.pypi.find_interpreter`) with
``uv venv`` and synced to the lock; a mixed environment gets its PyPI packages
installed on top of the conda layer already in the prefix. All uv calls go
through :mod:`twinlock.pypi`.

``twinlock install`` calls :func:`install_pypi_layers` after its conda layer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from twinlock import files
from twinlock.composition import Composition
from twinlock.errors import LockFileError
from twinlock.lockmodel import EnvironmentLock
from twinlock.pypi import LayerResult, find_interpreter, install_layer


def prefix_path(root: Path, prefix: str) -> Path:
    """Where *prefix* is written under the staging *root*."""
    return root / PurePosixPath(prefix).relative_to("/")


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
        target = prefix_path(root, env.prefix)
        results.append(
            install_layer(target, plat.pypi, interpreter=interpreter, environment=env.name)
        )
    return results


def write_minimal_kernelspec(
    lab_prefix: Path, *, name: str, display_name: str, payload_prefix: str
) -> Path:
    """A kernel.json in the lab prefix that starts the payload's Python with ipykernel.

    Stand-in until ``twinlock install`` (issue 6) writes kernelspecs from the
    composition's ``kernel:`` key; same file layout and launch command.
    """
    python = str(PurePosixPath(payload_prefix) / "bin" / "python")
    spec = {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "python",
        "metadata": {"twinlock": {"prefix": payload_prefix}},
    }
    path = lab_prefix / "share" / "jupyter" / "kernels" / name / "kernel.json"
    files.write_text_atomic(path, json.dumps(spec, indent=2) + "\n")
    return path
