"""Conflict reports: which requirements clash, why, and what could be done.

For every environment x platform that does not solve, :func:`explain_composition`
reports

1. **absent names**: requested packages the channels do not have at all, with
   close matches among the channels' names the environment does not request;
2. **conflicts**: every minimal set of the remaining specs (the Python pin
   counts as a spec) that cannot be solved together while every proper subset
   can, found by :mod:`twinlock.explain.search` over real solves, the same
   sets whatever order the specs are listed in;
3. the solver's **explanation** of each conflict, condensed to the paths that
   involve its members, each member named (:mod:`twinlock.explain.condense`);
4. **hints** per spec of a conflict: whether it solves together with each
   *other* environment's requirements on that platform (information), where it
   belongs (advice: only for a conflict {the Python pin, the spec}), and the
   newest version of the package that solves with the rest of the conflict
   (never for the Python pin unless the user marked Python as movable);
5. **alignment clashes** (:mod:`twinlock.explain.alignment`): among the
   environments that solve, each package listed under ``align`` that cannot
   take one build in all of them, with the requirements that hold it apart.

Pure over the :class:`~twinlock.solve.adapter.Solver` and
:class:`~twinlock.solve.adapter.PackageIndex` protocols (tests use fakes). The
search is bounded by a time limit, checked before each batch of solves; a
report that stopped early says so (``complete: false``) and what it left.

The findings are data (:mod:`twinlock.explain.model`, which also documents
the JSON shape); rendering is :mod:`twinlock.explain.render`'s.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from twinlock.explain.alignment import find_alignment_clashes
from twinlock.explain.condense import condense
from twinlock.explain.model import (
    DEFAULT_TIME_LIMIT,
    AbsentName,
    Conflict,
    ConflictAnalysis,
    ConflictReport,
    Fit,
    Hint,
    Relaxation,
)
from twinlock.explain.search import (
    OutOfTime,
    SolveBudget,
    by_importance,
    find_conflicts,
)
from twinlock.model.composition import Composition, Environment, Requirement
from twinlock.solve.adapter import PackageIndex, SolveOutcome, Solver, SolveRequest


def explain_composition(
    composition: Composition,
    solver: Solver,
    index: PackageIndex,
    *,
    targets: Sequence[tuple[str, str]] = (),
    time_limit: float = DEFAULT_TIME_LIMIT,
    clock: Callable[[], float] = time.monotonic,
    python_movable: bool = False,
) -> ConflictAnalysis:
    """Reports for each (environment, platform) in *targets* (default: all), in that order,
    and the alignment clashes among the ones that solve.

    An environment's Python pin defines it: its hints never relax it unless
    *python_movable*.
    """
    pairs = list(targets) or [(e.name, p) for e in composition.environments for p in e.platforms]
    budget = SolveBudget(solver, time_limit, clock)
    requests = [
        SolveRequest.for_environment(composition, composition.environment(e), p) for e, p in pairs
    ]
    outcomes = budget.solve([(r, r.specs) for r in requests])
    reports = []
    for (env_name, platform), outcome in zip(pairs, outcomes, strict=True):
        if outcome.solved:
            reports.append(ConflictReport.solved(env_name, platform, time_limit))
            continue
        env = composition.environment(env_name)
        reports.append(
            _explain(composition, env, platform, index, budget, python_movable=python_movable)
        )
    solved = {(o.request.environment, o.request.platform): o for o in outcomes if o.solved}
    alignment = find_alignment_clashes(composition, solved, budget)
    return ConflictAnalysis(
        tuple(reports), alignment.clashes, alignment.complete, alignment.checked
    )


def _explain(
    composition: Composition,
    env: Environment,
    platform: str,
    index: PackageIndex,
    budget: SolveBudget,
    *,
    python_movable: bool,
) -> ConflictReport:
    known = index.package_names(env.channels, platform)
    requirements = env.requirements_on(platform)
    absent = absent_names(requirements, known)
    missing = {a.spec for a in absent}
    ordered = by_importance(r.spec for r in requirements if r.spec not in missing)
    probe = budget.probe(SolveRequest.for_environment(composition, env, platform))
    result = find_conflicts(ordered, probe)
    conflicts = tuple(
        Conflict(c.specs, condense(c.message, c.specs), c.message) for c in result.conflicts
    )
    complete = result.complete
    hinted: list[Conflict] = []
    try:
        # One conflict at a time: when the time runs out, the first ones keep their hints.
        for conflict in conflicts:
            hinted += _with_hints(
                composition, env, platform, (conflict,), budget, python_movable=python_movable
            )
    except OutOfTime:
        complete = False
    conflicts = (*hinted, *conflicts[len(hinted) :])
    return ConflictReport(
        environment=env.name,
        platform=platform,
        solvable=False,
        absent=absent,
        conflicts=conflicts,
        complete=complete,
        time_limit=budget.time_limit,
        # The clock and count the time limit is checked against: since the run began.
        seconds=budget.elapsed(),
        solves=budget.solves,
        unexplored=result.unexplored,
    )


def absent_names(
    requirements: Sequence[Requirement], known: frozenset[str]
) -> tuple[AbsentName, ...]:
    """The requirements whose package name is not in *known*, with close matches among the
    names the environment does not already request."""
    requested = {r.name for r in requirements}
    candidates = sorted(known - requested)
    return tuple(
        AbsentName(r.spec, r.name, close_names(r.name, candidates))
        for r in requirements
        if r.name not in known
    )


def close_names(name: str, candidates: Sequence[str], n: int = 3) -> tuple[str, ...]:
    """Up to *n* of *candidates* nearest *name*: the same name spelt with ``-``/``_``, then
    names that extend it (``jupyterhub`` -> ``jupyterhub-singleuser``, shortest first), then
    names it extends, then by edit distance (at most a third of the name's length)."""

    def spelling(text: str) -> str:
        return text.lower().replace("_", "-")

    wanted = spelling(name)
    ranked: dict[str, tuple[int, int]] = {}
    for candidate in candidates:
        other = spelling(candidate)
        if other == wanted:
            ranked[candidate] = (0, 0)
        elif other.startswith(wanted):
            ranked[candidate] = (1, len(other))
        elif wanted.startswith(other) and len(other) >= 4:
            ranked[candidate] = (2, -len(other))
    budget = max(1, len(wanted) // 3)
    for candidate in difflib.get_close_matches(name, candidates, n=10, cutoff=0.6):
        distance = _edit_distance(wanted, spelling(candidate))
        if candidate not in ranked and distance <= budget:
            ranked[candidate] = (3, distance)
    return tuple(sorted(ranked, key=lambda c: (ranked[c], c))[:n])


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


Key = tuple[tuple[str, ...], str]  # (conflict specs, spec)
Trial = tuple[SolveRequest, tuple[str, ...]]


def _with_hints(
    composition: Composition,
    env: Environment,
    platform: str,
    conflicts: tuple[Conflict, ...],
    budget: SolveBudget,
    *,
    python_movable: bool,
) -> tuple[Conflict, ...]:
    """The conflicts with a hint per spec (two batches of independent solves)."""
    if not conflicts:
        return conflicts
    here = SolveRequest.for_environment(composition, env, platform)
    others = [
        SolveRequest.for_environment(composition, e, platform)
        for e in composition.environments
        if e is not env and platform in e.platforms
    ]
    placements = {
        (c.specs, spec, o.environment): (o, (*o.specs, spec))
        for c in conflicts
        for spec in c.specs
        for o in others
        # A spec unsolvable alone fits nowhere; the interpreter pin defines its environment.
        if len(c.specs) > 1 and Requirement(spec).name != "python"
    }
    relax = {
        (c.specs, spec): (here, (*_without(c.specs, spec), Requirement(spec).name))
        for c in conflicts
        for spec in c.specs
        if spec != Requirement(spec).name and (python_movable or not _is_python(spec))
    }
    trials: list[Trial] = [(o, o.specs) for o in others]
    trials += [*placements.values(), *relax.values()]
    outcomes = budget.solve(trials)
    alone = dict(zip((o.environment for o in others), outcomes, strict=False))
    placed = dict(zip(placements, outcomes[len(others) :], strict=False))
    relaxations = _confirm_newest(relax, outcomes[len(others) + len(placements) :], here, budget)

    def fits(conflict: Conflict, spec: str) -> tuple[Fit, ...]:
        if Requirement(spec).name == "python":
            return ()
        out = []
        for other in others:
            outcome = placed.get((conflict.specs, spec, other.environment))
            if not alone[other.environment].solved:
                out.append(Fit(other.environment, None))
            else:
                out.append(Fit(other.environment, outcome is not None and outcome.solved))
        return tuple(out)

    def hint(conflict: Conflict, spec: str) -> Hint:
        where = fits(conflict, spec)
        return Hint(
            spec,
            where,
            relaxations.get((conflict.specs, spec)),
            belongs_in=_belongs_in(conflict, spec, where),
            python_pin=_is_python(spec),
        )

    return tuple(replace(c, hints=tuple(hint(c, s) for s in c.specs)) for c in conflicts)


def _belongs_in(conflict: Conflict, spec: str, fits: Sequence[Fit]) -> tuple[str, ...]:
    """Where *spec* belongs: only when its conflict is exactly {the Python pin, *spec*}
    and *spec* solves with that environment's requirements. In a larger set moving it is
    no fix the report can vouch for: the user may want it here, and the conflict is the
    whole set (the other environments are then "would solve in", as information)."""
    others = _without(conflict.specs, spec)
    if len(others) != 1 or not _is_python(others[0]) or _is_python(spec):
        return ()
    return tuple(f.environment for f in fits if f.fits)


def _is_python(spec: str) -> bool:
    return Requirement(spec).name == "python"


def _confirm_newest(
    relax: dict[Key, Trial],
    outcomes: Sequence[SolveOutcome],
    here: SolveRequest,
    budget: SolveBudget,
) -> dict[Key, Relaxation]:
    """Relaxations from the solver's picks, each checked: does anything newer solve?"""
    picked: dict[Key, str] = {}
    for key, outcome in zip(relax, outcomes, strict=True):
        version = _version_of(outcome, Requirement(key[1]).name)
        if version is not None:
            picked[key] = version
    checks = {
        key: (here, (*_without(key[0], key[1]), f"{Requirement(key[1]).name} >{version}"))
        for key, version in picked.items()
    }
    newer = dict(zip(checks, budget.solve(list(checks.values())), strict=True))
    return {
        key: Relaxation(Requirement(key[1]).name, version, newest=not newer[key].solved)
        for key, version in picked.items()
    }


def _without(specs: tuple[str, ...], spec: str) -> tuple[str, ...]:
    return tuple(s for s in specs if s != spec)


def _version_of(outcome: SolveOutcome, name: str) -> str | None:
    for package in outcome.packages or ():
        if package.name == name:
            return package.version
    return None
