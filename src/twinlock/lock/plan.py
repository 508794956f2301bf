"""Lock planning and assembly: decide what to solve, then build the new locks.

Pure logic over the composition, the previous locks and a :class:`Solver`:

* an environment x platform whose input hash is unchanged is **reused**
  (not solved; its pins are kept byte for byte);
* when only its requirements changed, it is re-solved **preferring** the
  previous pins (``locked_packages``), so unrelated packages do not move;
* when channels, snapshot or virtual packages changed, it is solved afresh
  (a snapshot bump means "take what was current then");
* ``--update PKG`` re-solves preferring every previous pin *except* the named
  packages, so only they and what they force move;
* ``full=True`` ignores previous locks altogether.

Environments with a PyPI layer get it resolved (by a :class:`PypiResolver`,
see :mod:`twinlock.pypi.locking`) after their conda layer, on every platform
that was solved; ``--update`` accepts PyPI names too. A PyPI-only environment
has no conda solve. Each new lock gets its metadata from the composition in
:mod:`twinlock.lock.assemble`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from twinlock.errors import TwinlockError, UnsolvableError
from twinlock.lock.assemble import environment_lock
from twinlock.lock.layers import LayerUnsolvableError, base_lock, waves, with_layers
from twinlock.lock.updates import (
    check_update_names,
    held_back_pypi,
    held_back_updates,
    touches,
)
from twinlock.model.composition import Composition, Environment
from twinlock.model.inputs import SolveInputs, pins_digest
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock
from twinlock.pypi.locking import PypiJob, PypiResolver, add_pypi_layers
from twinlock.solve.adapter import SolveOutcome, Solver, SolveRequest

log = logging.getLogger(__name__)

Action = Literal["reused", "solved"]


@dataclass(frozen=True)
class PackageChange:
    """A package whose pin differs between the previous and the new lock."""

    name: str
    old: str | None  # "version build", None when added
    new: str | None  # None when removed


@dataclass(frozen=True)
class PlatformSummary:
    environment: str
    platform: str
    action: Action
    packages: int
    seconds: float
    changes: tuple[PackageChange, ...] = ()
    pypi: int = 0  # PyPI packages on top of the conda packages
    base: str | None = None  # a layer's base, whose pins it holds ...
    held: int = 0  # ... this many of them


@dataclass(frozen=True)
class LockResult:
    locks: tuple[EnvironmentLock, ...]
    summaries: tuple[PlatformSummary, ...]
    # --update names that kept pins held back (see twinlock.lock.updates)
    held_back: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Plan:
    env: Environment
    inputs: SolveInputs
    previous: PlatformLock | None
    request: SolveRequest | None  # None: reuse previous
    base: PlatformLock | None = None  # a layer's base pins, held fixed

    @property
    def pinned(self) -> tuple[LockedPackage, ...]:
        return self.base.packages if self.base is not None else ()


def lock_composition(
    composition: Composition,
    previous: Mapping[str, EnvironmentLock],
    solver: Solver,
    *,
    sources: Mapping[str, tuple[str, ...]],
    environments: Sequence[str] = (),
    update: Iterable[str] = (),
    full: bool = False,
    pypi: PypiResolver | None = None,
) -> LockResult:
    """Solve what needs solving and return the new locks of the selected environments.

    A selected layer brings its bases, a selected base its layers (see :func:`with_layers`);
    bases solve before their layers (in waves), each layer holding its base's new pins fixed.
    """
    selected = with_layers(composition, composition.select(list(environments)))
    updates = frozenset(n.lower() for n in update)
    check_update_names(updates, selected, previous)
    plans: list[_Plan] = []
    settled: dict[tuple[str, str], tuple[PlatformLock, PlatformSummary]] = {}
    held_back: list[str] = []
    for wave in waves(selected):
        wave_plans = [
            _plan(
                composition,
                env,
                platform,
                previous=previous.get(env.name),
                updates=updates,
                full=full,
                base=base_lock(env, platform, {k: lock for k, (lock, _) in settled.items()}),
            )
            for env in wave
            for platform in env.platforms
        ]
        solved, outcomes = _solve_wave(wave_plans, solver)
        if updates:
            held_back += held_back_updates(outcomes, updates, solver)
        if composition.align:
            skip = {e.name for e in selected}
            solved = _align(
                composition, wave_plans, solved, previous, solver, earlier=settled, locked_now=skip
            )
        settled |= solved
        plans += wave_plans
    # The PyPI layer goes on the final conda layer (its python record, its packages).
    settled = _with_pypi_layers(plans, settled, pypi, updates, full=full)
    if updates and pypi is not None and not full:
        held_back += held_back_pypi(_pypi_jobs(plans, settled), updates, pypi)
    summaries = tuple(summary for _, summary in settled.values())
    return LockResult(_locks(composition, plans, settled, sources), summaries, tuple(held_back))


def _locks(
    composition: Composition,
    plans: Sequence[_Plan],
    settled: Mapping[tuple[str, str], tuple[PlatformLock, PlatformSummary]],
    sources: Mapping[str, tuple[str, ...]],
) -> tuple[EnvironmentLock, ...]:
    """One lock per planned environment, from its settled platforms (composition order)."""
    planned = {p.env.name for p in plans}
    envs = [e for e in composition.environments if e.name in planned]
    return tuple(
        environment_lock(
            composition,
            env,
            [settled[(env.name, p.inputs.platform)][0] for p in plans if p.env.name == env.name],
            sources[env.name],
            [(p.inputs.platform, p.inputs.base_pins) for p in plans if p.env.name == env.name],
        )
        for env in envs
    )


def _solve_wave(
    plans: Sequence[_Plan], solver: Solver
) -> tuple[dict[tuple[str, str], tuple[PlatformLock, PlatformSummary]], list[SolveOutcome]]:
    """Solve the plans that need it; raise on any failure (nothing is written)."""
    # A PyPI-only environment has nothing for the conda solver.
    requests = [p.request for p in plans if p.request is not None and p.request.specs]
    outcomes = {(o.request.environment, o.request.platform): o for o in solver.solve_all(requests)}
    failures = [
        (o.request.environment, o.request.platform, o.error or "")
        for o in outcomes.values()
        if not o.solved
    ]
    failed = {(env, platform) for env, platform, _ in failures}
    bases = {
        (p.env.name, p.inputs.platform): p.base
        for p in plans
        if p.base is not None and (p.env.name, p.inputs.platform) in failed
    }
    if bases:
        raise LayerUnsolvableError(failures, bases)
    if failures:
        raise UnsolvableError(failures)
    settled = {
        (plan.env.name, plan.inputs.platform): _settle(
            plan, outcomes.get((plan.env.name, plan.inputs.platform))
        )
        for plan in plans
    }
    return settled, list(outcomes.values())


def _with_pypi_layers(
    plans: Sequence[_Plan],
    settled: dict[tuple[str, str], tuple[PlatformLock, PlatformSummary]],
    resolver: PypiResolver | None,
    updates: frozenset[str],
    *,
    full: bool,
) -> dict[tuple[str, str], tuple[PlatformLock, PlatformSummary]]:
    """Add the PyPI layer to every solved platform lock of an environment that has one."""
    by_key = {(p.env.name, p.inputs.platform): p for p in plans}
    jobs = _pypi_jobs(plans, settled)
    if not jobs:
        return settled
    if resolver is None:
        raise TwinlockError("PyPI requirements need a PyPI resolver", "pass pypi=UvResolver()")
    layered, layered_seconds = add_pypi_layers(jobs, resolver, updates=updates, full=full)
    out = dict(settled)
    for key, new in layered.items():
        summary, previous = settled[key][1], by_key[key].previous
        changes = summary.changes + (pypi_changes(previous, new) if previous else ())
        seconds = summary.seconds + layered_seconds.get(key, 0.0)
        out[key] = (new, replace(summary, changes=changes, pypi=len(new.pypi), seconds=seconds))
    return out


def _pypi_jobs(
    plans: Sequence[_Plan],
    settled: Mapping[tuple[str, str], tuple[PlatformLock, PlatformSummary]],
) -> list[PypiJob]:
    """The solved platforms of environments with a PyPI layer, on their settled conda layer."""
    return [
        PypiJob(plan.env, settled[key][0], plan.previous, plan.inputs.snapshot)
        for plan in plans
        if settled[(key := (plan.env.name, plan.inputs.platform))][1].action == "solved"
        and plan.env.pypi
    ]


def pypi_changes(old: PlatformLock | None, new: PlatformLock) -> tuple[PackageChange, ...]:
    """PyPI packages added, removed or re-pinned (named ``pypi:<name>``)."""
    before = {p.name: p.version for p in old.pypi} if old else {}
    after = {p.name: p.version for p in new.pypi}
    return tuple(
        PackageChange(f"pypi:{name}", before.get(name), after.get(name))
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    )


def _align(
    composition: Composition,
    plans: Sequence[_Plan],
    settled: Mapping[tuple[str, str], tuple[PlatformLock, PlatformSummary]],
    previous: Mapping[str, EnvironmentLock],
    solver: Solver,
    *,
    earlier: Mapping[tuple[str, str], tuple[PlatformLock, PlatformSummary]],
    locked_now: set[str],
) -> dict[tuple[str, str], tuple[PlatformLock, PlatformSummary]]:
    """Apply the composition's ``align`` list (see :mod:`twinlock.lock.alignment`) to one wave."""
    from twinlock.lock.alignment import align_locks

    by_key = {(p.env.name, p.inputs.platform): p for p in plans}
    # Environments not being locked keep their previous pins, and earlier waves (bases)
    # their new ones: alignment must meet them.
    fixed = {
        (env.name, plat.platform): plat
        for env in composition.environments
        if env.name not in locked_now and env.name in previous
        for plat in previous[env.name].platforms
    }
    fixed |= {key: lock for key, (lock, _) in earlier.items()}

    def request_for(env: str, platform: str) -> SolveRequest:
        plan = by_key[(env, platform)]
        return plan.request or SolveRequest.for_environment(
            composition, plan.env, plan.inputs.platform, pinned=plan.pinned
        )

    aligned = align_locks(
        composition.align,
        {key: lock for key, (lock, _) in settled.items()},
        request_for,
        solver,
        fixed=fixed,
    )
    out = {}
    for key, (lock, summary) in settled.items():
        new = aligned.locks[key]
        if new is lock:
            out[key] = (lock, summary)
            continue
        previous_lock = by_key[key].previous
        out[key] = (
            new,
            replace(
                summary,
                action="solved",
                packages=len(new.packages),
                seconds=summary.seconds + aligned.seconds.get(key, 0.0),
                changes=package_changes(previous_lock, new) if previous_lock else (),
            ),
        )
    return out


def _plan(
    composition: Composition,
    env: Environment,
    platform: str,
    *,
    previous: EnvironmentLock | None,
    updates: frozenset[str],
    full: bool,
    base: PlatformLock | None = None,
) -> _Plan:
    inputs = SolveInputs.for_environment(
        composition, env, platform, pins_digest(base) if base else None
    )
    pinned = base.packages if base is not None else ()
    prev_platform = previous.platform(platform) if previous and not full else None
    if prev_platform is None:
        request = SolveRequest.for_environment(composition, env, platform, pinned=pinned)
        return _Plan(env, inputs, None, request, base)
    assert previous is not None
    names = {p.name for p in prev_platform.packages} | {p.name for p in prev_platform.pypi}
    touched = touches(updates, names)
    if prev_platform.input_hash == inputs.digest() and not touched:
        return _Plan(env, inputs, prev_platform, None, base)
    recorded = SolveInputs.recorded_in(previous, platform)
    # A moved base is like a changed requirement: the layer's own pins are still preferred.
    keep_pins = touched or (recorded is not None and inputs.only_requirements_differ(recorded))
    locked = tuple(p for p in prev_platform.packages if p.name not in updates) if keep_pins else ()
    request = SolveRequest.for_environment(composition, env, platform, locked, pinned)
    return _Plan(env, inputs, prev_platform, request, base)


def _settle(plan: _Plan, outcome: SolveOutcome | None) -> tuple[PlatformLock, PlatformSummary]:
    lock, summary = _settled(plan, outcome)
    return lock, replace(summary, base=plan.env.extends, held=len(plan.pinned))


def _settled(plan: _Plan, outcome: SolveOutcome | None) -> tuple[PlatformLock, PlatformSummary]:
    env, platform = plan.env.name, plan.inputs.platform
    if plan.request is None:
        assert plan.previous is not None
        lock = plan.previous
        summary = PlatformSummary(env, platform, "reused", len(lock.packages), 0.0)
        return lock, replace(summary, pypi=len(lock.pypi))
    packages: tuple[LockedPackage, ...] = ()
    if plan.request.specs:  # else PyPI-only: no conda layer
        assert outcome is not None and outcome.packages is not None
        packages = outcome.packages
    seconds = outcome.seconds if outcome is not None else 0.0
    lock = PlatformLock.create(
        platform, plan.inputs.digest(), plan.inputs.virtual_packages, packages
    )
    changes = package_changes(plan.previous, lock) if plan.previous else ()
    summary = PlatformSummary(env, platform, "solved", len(lock.packages), seconds, changes)
    return lock, summary


def package_changes(old: PlatformLock | None, new: PlatformLock) -> tuple[PackageChange, ...]:
    """Packages added, removed or re-pinned between two locks of one platform."""
    before = old.by_name() if old else {}
    after = new.by_name()
    changes = []
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name), after.get(name)
        old_text = f"{a.version} {a.build}" if a else None
        new_text = f"{b.version} {b.build}" if b else None
        if old_text != new_text:
            changes.append(PackageChange(name, old_text, new_text))
    return tuple(changes)
