"""Why ``--update X`` stopped short: the kept pins that hold a named package back.

``--update X`` re-solves preferring every previous pin but X's. When a kept pin
cannot coexist with a newer X (``astropy 5.3.4`` needs ``numpy <2``), the solver
keeps the pin and moves X only as far as it allows. That is correct, but silent;
this module finds such cases by solving once more without preferences and
names the kept pins that differ there and touch X (X needs them, or they need
X), so the user can update both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from twinlock.model.lock import LockedPackage
from twinlock.solve.adapter import SolveOutcome, Solver

_MAX_NAMED = 5


def held_back_updates(
    outcomes: Iterable[SolveOutcome], updates: frozenset[str], solver: Solver
) -> list[str]:
    """A message per (updated package, platform) that kept pins held below its best version."""
    probes = [
        o
        for o in outcomes
        if o.packages is not None and o.request.locked and updates & {p.name for p in o.packages}
    ]
    if not probes:
        return []
    free = solver.solve_all([replace(o.request, locked=()) for o in probes])
    messages: list[str] = []
    for outcome, unpinned in zip(probes, free, strict=True):
        if outcome.packages is None or unpinned.packages is None:
            continue
        for name in sorted(updates & {p.name for p in outcome.packages}):
            message = _held_back(name, outcome, unpinned.packages)
            if message:
                messages.append(message)
    return messages


def _held_back(name: str, outcome: SolveOutcome, best: Sequence[LockedPackage]) -> str | None:
    from rattler import Version

    assert outcome.packages is not None
    got = {p.name: p for p in outcome.packages}
    free = {p.name: p for p in best}
    if name not in free or Version(free[name].version) <= Version(got[name].version):
        return None
    kept = {p.name: p for p in outcome.request.locked}
    moved = [n for n, pin in sorted(kept.items()) if n in free and free[n].version != pin.version]
    neighbours = _neighbours(name, outcome.packages) | _neighbours(name, best)
    holders = [n for n in moved if n in neighbours] or moved
    if not holders:
        return None
    named = ", ".join(f"{n} {kept[n].version}" for n in holders[:_MAX_NAMED])
    more = f" and {len(holders) - _MAX_NAMED} more" if len(holders) > _MAX_NAMED else ""
    pins = "the kept pin" if len(holders) == 1 else "the kept pins"
    verb = "holds" if len(holders) == 1 else "hold"
    return (
        f"--update {name}: {name} went to {got[name].version} on {outcome.request.platform}, "
        f"not {free[name].version}: {pins} {named}{more} {verb} it back; "
        f"update both: --update {','.join([name, *holders[:_MAX_NAMED]])}"
    )


def _neighbours(name: str, packages: Sequence[LockedPackage]) -> set[str]:
    """Packages *name* depends on, and packages that depend on *name*."""
    out: set[str] = set()
    for pkg in packages:
        deps = pkg.dependency_map()
        if pkg.name == name:
            out |= set(deps)
        elif name in deps:
            out.add(pkg.name)
    return out
