"""Lock the PyPI layer of environments whose conda layer was just (re)solved (pure).

Called by :func:`twinlock.lock.plan.lock_composition` with the conda result of
every environment x platform it solved; reused platform locks keep their PyPI
layer as they keep their conda pins. Builds one
:class:`~twinlock.pypi.plan.PypiRequest` per platform (Python version from
``python:`` or the conda ``python`` record, previous PyPI pins as
preferences unless ``full``, ``--update`` names as upgrades), runs them through a
:class:`PypiResolver` and returns the platform locks with their ``pypi`` set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from twinlock.errors import PypiError, PypiUnsolvableError
from twinlock.model.composition import Environment, normalize_pypi_name
from twinlock.model.lock import EnvironmentLock, PlatformLock
from twinlock.pypi.plan import (
    PypiOutcome,
    PypiRequest,
    conda_provided,
    glibc_of,
    is_unknown_project,
    python_version_of,
    supported_platform,
)


class PypiResolver(Protocol):
    def resolve_all(self, requests: Sequence[PypiRequest]) -> list[PypiOutcome]: ...


@dataclass(frozen=True)
class PypiJob:
    """One environment x platform whose conda layer is *lock* (PyPI layer still to add)."""

    env: Environment
    lock: PlatformLock
    previous: PlatformLock | None
    snapshot: str | None = None  # the composition's, as ISO-8601 UTC text


def pypi_request(job: PypiJob, updates: frozenset[str], *, full: bool) -> PypiRequest:
    env, lock = job.env, job.lock
    python = env.python or python_version_of(lock.packages)
    where = f"{env.name} on {lock.platform}"
    if python is None:
        raise PypiError(
            f"{where}: has PyPI requirements but its conda layer has no python",
            'add python to its conda requirements, or make it PyPI-only with python: "3.X"',
        )
    if not supported_platform(lock.platform):
        raise PypiError(
            f"{where}: uv cannot resolve PyPI packages for {lock.platform}",
            "drop the platform from this environment or its PyPI requirements",
        )
    previous = job.previous.pypi if job.previous is not None and not full else ()
    return PypiRequest(
        environment=env.name,
        platform=lock.platform,
        python_version=python,
        requirements=tuple(r.requirement for r in env.pypi),
        glibc=glibc_of(lock.virtual_packages),
        provided=conda_provided(lock.packages),
        preferences=previous,
        upgrade=frozenset(normalize_pypi_name(u) for u in updates),
        exclude_newer=job.snapshot,
        indexes=env.pypi_indexes,
        allowed_hashes={r.name: r.hashes for r in env.pypi if r.hashes},
    )


def add_pypi_layers(
    jobs: Sequence[PypiJob],
    resolver: PypiResolver,
    *,
    updates: frozenset[str] = frozenset(),
    full: bool = False,
) -> tuple[dict[tuple[str, str], PlatformLock], dict[tuple[str, str], float]]:
    """{(env, platform): the lock with its PyPI layer}, and uv's seconds; raise on failure."""
    requests = [pypi_request(job, updates, full=full) for job in jobs]
    outcomes = resolver.resolve_all(requests)
    unknown = [o for o in outcomes if o.error and is_unknown_project(o.error)]
    if unknown:
        first = unknown[0]
        raise PypiError(
            f"PyPI layer of {first.request.environment} on {first.request.platform}: {first.error}",
            "check the project name on the package index (https://pypi.org)",
        )
    failures = [
        (o.request.environment, o.request.platform, f"PyPI layer (uv): {o.error}")
        for o in outcomes
        if o.packages is None
    ]
    if failures:
        raise PypiUnsolvableError(failures)
    by_key = {(o.request.environment, o.request.platform): o for o in outcomes}
    out = {}
    for job in jobs:
        key = (job.env.name, job.lock.platform)
        packages = by_key[key].packages or ()
        out[key] = replace(job.lock, pypi=tuple(sorted(packages)))
    return out, {key: o.seconds for key, o in by_key.items()}


def overlap_warnings(env: Environment, lock: EnvironmentLock) -> list[str]:
    """Names on both sides (conda and PyPI) of one environment, normalised (pyyaml ~ PyYAML).

    A PyPI requirement conda already satisfies is noted (uv was constrained to
    conda's version and the PyPI layer leaves it to conda); a project locked on
    both sides means two installers would write the same files.
    """
    out = []
    for plat in lock.platforms:
        where = f"{env.name} {plat.platform}"
        for req in env.pypi:
            provider = plat.provider(req.name)
            if provider is not None and plat.pypi_package(req.name) is None:
                out.append(
                    f"{where}: PyPI requirement '{req.spec}' is provided by conda's "
                    f"{provider.name} {provider.version}; the PyPI layer does not reinstall it"
                )
        for conda, pip in plat.overlaps():
            out.append(
                f"{where}: '{pip.name}' is locked on both sides, conda {conda.name} "
                f"{conda.version} and PyPI {pip.version}: move it to one side"
            )
    return out
