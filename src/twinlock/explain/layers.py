"""Why a layer does not solve on its base: which addition needs which base pin to move.

A layer (``extends: BASE``) solves with every pin of its base held. When that
fails, three batches of real solves name the culprits:

1. the layer, and each addition alone on the base, with the pins held: if the
   layer solves there is nothing to explain; the additions that fail are the
   culprits (all of them together when only their combination fails);
2. per culprit, the same *without* the held pins (base pins only preferred), and
   so with the base's requirements reduced to their names (an addition may need a
   pin the base's own requirement forbids: ``numpy >=2`` on a base asking
   ``numpy 1.26.*``). The base pins the first of the two that solves moves are the
   candidates; a culprit that fails both clashes on its own, and the ordinary
   conflict report (:mod:`twinlock.explain.conflicts`) applies;
3. per culprit and moved pin, the solve with just that pin released: the pins
   whose release alone lets it solve are named (all moved pins when no single one
   does, e.g. several that must move together, or too many to try one by one).

Each clash names the addition and its ``requested-by``, and each base pin with
the base requirement of that package and its ``requested-by`` when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from twinlock.explain.model import BasePinClash, HeldPin
from twinlock.lock.check import package_record
from twinlock.model.composition import Composition, Environment, Requirement
from twinlock.model.lock import LockedPackage, PlatformLock
from twinlock.solve.adapter import Solver, SolveRequest

# Beyond this many pins moved by one addition, releasing them one by one costs more
# than it tells (they are all reported).
MAX_RELEASE_TRIALS = 20


@dataclass(frozen=True)
class _Culprit:
    """An addition (or, when only their combination fails, all of them) and what it moved."""

    addition: Requirement
    specs: tuple[str, ...]  # the addition's specs on top of the base's
    on_base: tuple[str, ...] = ()  # the base's specs it solved with: strict, else loose
    moved: Mapping[str, LockedPackage | None] = field(default_factory=dict)


@dataclass(frozen=True)
class LayerFindings:
    """The base-pin clashes of one layer x platform; *complete* when they explain every
    failing addition (else the ordinary conflict report must cover the rest)."""

    clashes: tuple[BasePinClash, ...] = ()
    complete: bool = False

    @property
    def replaces_report(self) -> bool:
        """True when the clashes say everything (no ordinary report needed)."""
        return bool(self.clashes) and self.complete


def explain_layer(
    composition: Composition, layer: str, platform: str, base: PlatformLock, solver: Solver
) -> LayerFindings:
    """The additions of *layer* on *platform* that need pins of *base* to move (none when
    the layer solves with them, or an addition fails without them too)."""
    env = composition.environment(layer)
    base_env = composition.base_of(env)
    if base_env is None or not env.additions:
        return LayerFindings()
    pinned = base.packages
    free = SolveRequest.for_environment(composition, env, platform, locked=pinned)
    held = replace(free, locked=(), pinned=pinned)
    strict = tuple(r.spec for r in env.requirements if r not in env.additions)
    trials = [held] + [replace(held, specs=(*strict, a.spec)) for a in env.additions]
    outcomes = solver.solve_all(trials)
    if outcomes[0].solved:
        return LayerFindings()
    culprits = [
        _Culprit(a, (a.spec,))
        for a, o in zip(env.additions, outcomes[1:], strict=True)
        if not o.solved
    ] or [_combined(env.additions)]
    explained = _moves(culprits, free, strict, pinned, solver)
    blocking = _blocking(free, explained, pinned=pinned, solver=solver)
    clashes = tuple(
        BasePinClash(
            layer=env.name,
            base=base_env.name,
            platform=platform,
            addition=culprit.addition.spec,
            requested_by=culprit.addition.requested_by,
            pins=tuple(_held(base_env, pin, culprit.moved[pin.name]) for pin in pins),
        )
        for culprit, pins in blocking
    )
    return LayerFindings(clashes, complete=len(explained) == len(culprits))


def _combined(additions: Sequence[Requirement]) -> _Culprit:
    """All additions as one culprit: none fails alone, together they do."""
    who = sorted({a.requested_by for a in additions if a.requested_by})
    label = Requirement(" + ".join(a.spec for a in additions), ", ".join(who) or None)
    return _Culprit(label, tuple(a.spec for a in additions))


def _moves(
    culprits: Sequence[_Culprit],
    free: SolveRequest,
    strict: tuple[str, ...],
    pinned: tuple[LockedPackage, ...],
    solver: Solver,
) -> list[_Culprit]:
    """Per culprit, the base pins it moves with the pins free (base pins preferred): with the
    base's requirements as written, else by name only (it needs a pin the base forbids).
    Culprits that fail even then are left to the ordinary conflict report."""
    # The base's requirements by name only: an addition may need a pin its base forbids.
    loose = tuple(dict.fromkeys(Requirement(s).name for s in strict))
    trials = [replace(free, specs=(*b, *c.specs)) for c in culprits for b in (strict, loose)]
    outcomes = solver.solve_all(trials)
    out = []
    for i, culprit in enumerate(culprits):
        tried = zip(outcomes[2 * i : 2 * i + 2], (strict, loose), strict=True)
        found = next(((o.packages, b) for o, b in tried if o.packages is not None), None)
        if found is not None:
            out.append(replace(culprit, on_base=found[1], moved=_moved(pinned, found[0])))
    return out


def _moved(
    pinned: Sequence[LockedPackage], solution: Sequence[LockedPackage]
) -> dict[str, LockedPackage | None]:
    """Base pins a free solve did not keep: name -> what it took instead (None: dropped)."""
    taken = {p.name: p for p in solution}
    return {
        p.name: taken.get(p.name)
        for p in pinned
        if p.name not in taken or taken[p.name].key != p.key
    }


def _blocking(
    free: SolveRequest,
    culprits: Sequence[_Culprit],
    *,
    pinned: tuple[LockedPackage, ...],
    solver: Solver,
) -> list[tuple[_Culprit, list[LockedPackage]]]:
    """Per culprit, the moved pins whose release alone lets it solve (else all it moved)."""
    moved = {c.addition.spec: [p for p in pinned if p.name in c.moved] for c in culprits}
    keys = [
        (c, pin)
        for c in culprits
        if len(moved[c.addition.spec]) <= MAX_RELEASE_TRIALS
        for pin in moved[c.addition.spec]
    ]
    trials = [
        replace(
            free,
            specs=(*c.on_base, *c.specs),
            pinned=tuple(p for p in pinned if p.name != pin.name),
        )
        for c, pin in keys
    ]
    solved = [o.solved for o in solver.solve_all(trials)] if trials else []
    out = []
    for culprit in culprits:
        alone = [pin for (c, pin), ok in zip(keys, solved, strict=True) if c is culprit and ok]
        out.append((culprit, alone or moved[culprit.addition.spec]))
    return out


def _held(base: Environment, pin: LockedPackage, moves_to: LockedPackage | None) -> HeldPin:
    named = next((r for r in base.requirements if r.name == pin.name), None)
    return HeldPin(
        package=pin.name,
        pin=f"{pin.version} {pin.build}",
        moves_to=f"{moves_to.version} {moves_to.build}" if moves_to else None,
        requirement=named.spec if named else None,
        requested_by=named.requested_by if named else None,
        forbidden=named is not None and moves_to is not None and not _admits(named, moves_to),
    )


def _admits(requirement: Requirement, pkg: LockedPackage) -> bool:
    """Does *requirement* match *pkg* (name, version, build)?"""
    from rattler import MatchSpec

    return bool(MatchSpec(requirement.spec).matches(package_record(pkg)))
