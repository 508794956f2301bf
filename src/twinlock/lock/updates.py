"""Why ``--update X`` stopped short: the kept pins that hold a named package back.

``--update X`` re-solves preferring every previous pin but X's (conda's
``locked_packages``, uv's preferences). When a kept pin cannot coexist with a
newer X (``astropy 5.3.4`` needs ``numpy <2``), the solver keeps the pin and
moves X only as far as it allows. That is correct, but silent; this module finds
such cases by solving once more without preferences (only when ``--update`` is
given) and names the kept pins that differ there and touch X (X needs them, or
they need X), so the user can update both. It also checks that every ``--update``
name is a locked package (:func:`check_update_names`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from twinlock.errors import TwinlockError, did_you_mean
from twinlock.model.composition import Environment, normalize_pypi_name
from twinlock.model.lock import EnvironmentLock
from twinlock.pypi.locking import PypiJob, PypiResolver, pypi_request
from twinlock.solve.adapter import SolveOutcome, Solver

_MAX_NAMED = 5


class _Pinned(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    def dependency_map(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class _Probe:
    """One platform's result with preferences (*got*, *kept*) and without them (*best*)."""

    platform: str
    names: frozenset[str]
    got: Sequence[_Pinned]
    kept: Sequence[_Pinned]
    best: Sequence[_Pinned]


def held_back_updates(
    outcomes: Iterable[SolveOutcome], updates: frozenset[str], solver: Solver
) -> list[str]:
    """Conda: a message per (updated package, platform) a kept pin held below its best."""
    solved = [
        (o, updates & {p.name for p in o.packages})
        for o in outcomes
        if o.packages is not None and o.request.locked
    ]
    solved = [(o, names) for o, names in solved if names]
    if not solved:
        return []
    free = solver.solve_all([replace(o.request, locked=()) for o, _ in solved])
    probes = [
        _Probe(o.request.platform, frozenset(names), o.packages, o.request.locked, f.packages)
        for (o, names), f in zip(solved, free, strict=True)
        if o.packages is not None and f.packages is not None
    ]
    return [m for probe in probes for m in _messages(probe, _conda_newer)]


def held_back_pypi(
    jobs: Sequence[PypiJob], updates: frozenset[str], resolver: PypiResolver
) -> list[str]:
    """PyPI: the same, for the PyPI layers just resolved (*jobs* carry their new pins)."""
    wanted = frozenset(normalize_pypi_name(u) for u in updates)
    requests = [(job, pypi_request(job, updates, full=False)) for job in jobs]
    solved = [
        (job, request, wanted & {p.name for p in job.lock.pypi})
        for job, request in requests
        if request.preferences
    ]
    solved = [(job, request, names) for job, request, names in solved if names]
    if not solved:
        return []
    free = resolver.resolve_all([replace(r, preferences=()) for _, r, _ in solved])
    probes = [
        _Probe(job.lock.platform, names, job.lock.pypi, request.preferences, f.packages)
        for (job, request, names), f in zip(solved, free, strict=True)
        if f.packages is not None
    ]
    return [m for probe in probes for m in _messages(probe, _pypi_newer)]


def _messages(probe: _Probe, newer: Callable[[str, str], bool]) -> list[str]:
    got = {p.name: p for p in probe.got}
    best = {p.name: p for p in probe.best}
    kept = {p.name: p for p in probe.kept}
    out = []
    for name in sorted(probe.names):
        if name not in best or not newer(best[name].version, got[name].version):
            continue
        moved = [
            n for n, pin in sorted(kept.items()) if n in best and best[n].version != pin.version
        ]
        near = _neighbours(name, probe.got) | _neighbours(name, probe.best)
        holders = [n for n in moved if n in near] or moved
        if holders:
            pairs = [(n, kept[n].version) for n in holders]
            version, free = got[name].version, best[name].version
            out.append(_message(name, probe.platform, version, free, pairs))
    return out


def _message(name: str, platform: str, got: str, best: str, holders: list[tuple[str, str]]) -> str:
    """The warning for *name*: where it went, where it could go, which kept pins hold it."""
    named = ", ".join(f"{n} {version}" for n, version in holders[:_MAX_NAMED])
    more = f" and {len(holders) - _MAX_NAMED} more" if len(holders) > _MAX_NAMED else ""
    pins, verb = ("the kept pin", "holds") if len(holders) == 1 else ("the kept pins", "hold")
    also = ",".join([name, *(n for n, _ in holders[:_MAX_NAMED])])
    return (
        f"--update {name}: {name} went to {got} on {platform}, not {best}: "
        f"{pins} {named}{more} {verb} it back; update both: --update {also}"
    )


def _neighbours(name: str, packages: Sequence[_Pinned]) -> set[str]:
    """Packages *name* depends on, and packages that depend on *name*."""
    out: set[str] = set()
    for pkg in packages:
        deps = pkg.dependency_map()
        if pkg.name == name:
            out |= set(deps)
        elif name in deps:
            out.add(pkg.name)
    return out


def _conda_newer(a: str, b: str) -> bool:
    from rattler import Version

    return Version(a) > Version(b)


def _pypi_newer(a: str, b: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) > Version(b)
    except InvalidVersion:
        return False


def check_update_names(
    updates: frozenset[str],
    selected: Sequence[Environment],
    previous: Mapping[str, EnvironmentLock],
) -> None:
    """Every --update name must be locked in a selected environment (did you mean)."""
    if not updates:
        return
    plats = [p for env in selected if env.name in previous for p in previous[env.name].platforms]
    locked_names = {pkg.name for plat in plats for pkg in plat.packages}
    locked_names |= {pkg.name for plat in plats for pkg in plat.pypi}
    for name in sorted(u for u in updates if not touches({u}, locked_names)):
        raise TwinlockError(
            f"--update {name}: no such package in the locks of "
            f"{', '.join(e.name for e in selected)} {did_you_mean(name, locked_names)}".rstrip(),
            "name a package that is already locked (add new ones as requirements instead)",
        )


def touches(updates: Iterable[str], names: set[str]) -> bool:
    """Does any --update name match a locked conda name or (normalised) PyPI name?"""
    return any(u in names or normalize_pypi_name(u) in names for u in updates)
