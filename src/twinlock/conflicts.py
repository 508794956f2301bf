"""Conflict reports: which requirements clash, why, and where each one belongs.

For every environment x platform that does not solve, :func:`explain_composition`
reports

1. **absent names**: requested packages the channels do not have at all, with
   close matches from the channels' package names;
2. **conflicts**: minimal sets of the remaining specs (the Python pin counts as
   a spec) that cannot be solved together while every proper subset can, found
   by :mod:`twinlock.conflict_search` over real solves; several independent
   conflicts are each reported;
3. the solver's **explanation** of each conflict, condensed to the paths that
   involve its specs;
4. **hints** per spec of a conflict: whether it solves together with each
   *other* environment's requirements on that platform (``fits lab``: it could
   move there), and the nearest relaxation: the newest version of the package
   that solves with the rest of the conflict.

Pure over the :class:`~twinlock.solver.Solver` and
:class:`~twinlock.solver.PackageIndex` protocols (tests use fakes). The search
is bounded by a time limit, checked before each batch of solves; a report that
stopped early says so (``complete: false``).

JSON shape (:func:`reports_as_json`; stable, version 1; fields are only added)::

    {"version": 1,
     "reports": [{
        "environment": "payload", "platform": "linux-64",
        "solvable": false,            # true: nothing else below is filled in
        "complete": true,             # false: time limit hit, more conflicts may remain
        "time_limit": 60.0, "seconds": 3.1, "solves": 57,
        "absent": [{"spec": "eups >=2.2.8", "name": "eups", "suggestions": ["..."]}],
        "conflicts": [{
            "specs": ["python >=3.11,<3.12", "fitsio >=1.2.1"],   # most important first
            "explanation": ["condensed solver lines", "  indented by depth"],
            "solver_message": "the solver's full text for exactly these specs",
            "hints": [{
                "spec": "fitsio >=1.2.1",
                "fits": [{"environment": "lab", "fits": true}],  # null: lab alone fails
                "relaxation": {"package": "fitsio", "version": "1.2.0",
                               "newest": true} | null}]}]}]}
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from twinlock.composition import Composition, Environment, Requirement
from twinlock.conflict_search import OutOfTime, condense, find_conflicts
from twinlock.errors import UnsolvableError
from twinlock.solver import PackageIndex, SolveOutcome, Solver, SolveRequest

DEFAULT_TIME_LIMIT = 60.0
JSON_VERSION = 1


@dataclass(frozen=True)
class AbsentName:
    """A requested spec whose package name no channel has."""

    spec: str
    name: str
    suggestions: tuple[str, ...]


@dataclass(frozen=True)
class Fit:
    """Whether a spec solves together with another environment's requirements."""

    environment: str
    fits: bool | None  # None: that environment does not solve on its own


@dataclass(frozen=True)
class Relaxation:
    """A version of the package that solves with the rest of its conflict."""

    package: str
    version: str
    newest: bool  # confirmed: no newer version solves with the rest


@dataclass(frozen=True)
class Hint:
    spec: str
    fits: tuple[Fit, ...]
    relaxation: Relaxation | None


@dataclass(frozen=True)
class Conflict:
    specs: tuple[str, ...]
    explanation: tuple[str, ...]
    solver_message: str
    hints: tuple[Hint, ...] = ()


@dataclass(frozen=True)
class ConflictReport:
    """The analysis of one environment x platform."""

    environment: str
    platform: str
    solvable: bool
    absent: tuple[AbsentName, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    complete: bool = True
    time_limit: float = DEFAULT_TIME_LIMIT
    seconds: float = 0.0
    solves: int = 0

    @classmethod
    def solved(cls, environment: str, platform: str, time_limit: float) -> ConflictReport:
        return cls(environment, platform, solvable=True, time_limit=time_limit)


class ConflictsError(UnsolvableError):
    """Some environment x platform does not solve; *reports* say why (exit code 1)."""

    def __init__(
        self, failures: Sequence[tuple[str, str, str]], reports: Sequence[ConflictReport]
    ) -> None:
        super().__init__(failures)
        self.reports = tuple(reports)
        where = ", ".join(f"{r.environment} on {r.platform}" for r in self.reports)
        self.message = f"cannot solve {where} (conflict report above); nothing was written"
        self.hint = (
            "fix or remove the absent names, and relax, remove or move each conflict's specs "
            "as its hints suggest; `twinlock explain --json` gives the report for tools"
        )
        self.args = (self.message,)


class _Budget:
    """Counts solves, caches them and enforces the deadline of one explanation run."""

    def __init__(self, solver: Solver, time_limit: float, clock: Callable[[], float]) -> None:
        self.solver = solver
        self.clock = clock
        self.time_limit = time_limit
        self.deadline = clock() + time_limit
        self.solves = 0
        self._cache: dict[tuple[str, str, frozenset[str]], SolveOutcome] = {}

    def solve(self, trials: Sequence[tuple[SolveRequest, tuple[str, ...]]]) -> list[SolveOutcome]:
        """Solve each (template, specs) trial, all uncached ones in one concurrent batch."""

        def key(trial: tuple[SolveRequest, tuple[str, ...]]) -> tuple[str, str, frozenset[str]]:
            return (trial[0].environment, trial[0].platform, frozenset(trial[1]))

        todo = {key(t): t for t in trials if key(t) not in self._cache}
        if todo:
            if self.clock() > self.deadline:
                raise OutOfTime
            requests = [replace(template, specs=specs) for template, specs in todo.values()]
            self.solves += len(requests)
            for k, outcome in zip(todo, self.solver.solve_all(requests), strict=True):
                self._cache[k] = outcome
        return [self._cache[key(t)] for t in trials]

    def probe(self, template: SolveRequest) -> Callable[..., list[SolveOutcome]]:
        """A probe (see :mod:`twinlock.conflict_search`) over variations of *template*."""
        return lambda spec_sets: self.solve([(template, s) for s in spec_sets])


def explain_composition(
    composition: Composition,
    solver: Solver,
    index: PackageIndex,
    *,
    targets: Sequence[tuple[str, str]] = (),
    time_limit: float = DEFAULT_TIME_LIMIT,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[ConflictReport, ...]:
    """Reports for each (environment, platform) in *targets* (default: all), in that order."""
    pairs = list(targets) or [(e.name, p) for e in composition.environments for p in e.platforms]
    budget = _Budget(solver, time_limit, clock)
    requests = [template_request(composition, composition.environment(e), p) for e, p in pairs]
    budget.solves += len(requests)
    outcomes = solver.solve_all(requests)
    reports = []
    for (env_name, platform), outcome in zip(pairs, outcomes, strict=True):
        if outcome.solved:
            reports.append(ConflictReport.solved(env_name, platform, time_limit))
            continue
        env = composition.environment(env_name)
        reports.append(_explain(composition, env, platform, index, budget))
    return tuple(reports)


def template_request(composition: Composition, env: Environment, platform: str) -> SolveRequest:
    """A request to solve *env* on *platform* as it stands (no previous pins)."""
    return SolveRequest(
        environment=env.name,
        platform=platform,
        specs=env.specs,
        channels=env.channels,
        virtual_packages=composition.virtual_packages(platform),
        snapshot=composition.snapshot,
    )


def _explain(
    composition: Composition,
    env: Environment,
    platform: str,
    index: PackageIndex,
    budget: _Budget,
) -> ConflictReport:
    start = budget.clock()
    solves_before = budget.solves
    known = index.package_names(env.channels, platform)
    absent = absent_names(env.requirements, known)
    missing = {a.spec for a in absent}
    # The interpreter defines the environment: its pin is the most important spec.
    ordered = sorted(
        (r.spec for r in env.requirements if r.spec not in missing),
        key=lambda spec: Requirement(spec).name != "python",
    )
    probe = budget.probe(template_request(composition, env, platform))
    result = find_conflicts(ordered, probe)
    conflicts = tuple(
        Conflict(c.specs, condense(c.message, [Requirement(s).name for s in c.specs]), c.message)
        for c in result.conflicts
    )
    complete = result.complete
    try:
        conflicts = _with_hints(composition, env, platform, conflicts, budget)
    except OutOfTime:
        complete = False
    return ConflictReport(
        environment=env.name,
        platform=platform,
        solvable=False,
        absent=absent,
        conflicts=conflicts,
        complete=complete,
        time_limit=budget.time_limit,
        seconds=budget.clock() - start,
        solves=budget.solves - solves_before,
    )


def absent_names(
    requirements: Sequence[Requirement], known: frozenset[str]
) -> tuple[AbsentName, ...]:
    """The requirements whose package name is not in *known*, with close matches."""
    candidates = sorted(known)
    return tuple(
        AbsentName(r.spec, r.name, tuple(difflib.get_close_matches(r.name, candidates, n=3)))
        for r in requirements
        if r.name not in known
    )


Key = tuple[tuple[str, ...], str]  # (conflict specs, spec)
Trial = tuple[SolveRequest, tuple[str, ...]]


def _with_hints(
    composition: Composition,
    env: Environment,
    platform: str,
    conflicts: tuple[Conflict, ...],
    budget: _Budget,
) -> tuple[Conflict, ...]:
    """The conflicts with a hint per spec (two batches of independent solves)."""
    if not conflicts:
        return conflicts
    here = template_request(composition, env, platform)
    others = [
        template_request(composition, e, platform)
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
        if spec != Requirement(spec).name
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

    return tuple(
        replace(
            c,
            hints=tuple(Hint(s, fits(c, s), relaxations.get((c.specs, s), None)) for s in c.specs),
        )
        for c in conflicts
    )


def _confirm_newest(
    relax: dict[Key, Trial], outcomes: Sequence[SolveOutcome], here: SolveRequest, budget: _Budget
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


def reports_as_json(reports: Sequence[ConflictReport]) -> dict[str, Any]:
    """The documented JSON shape (see the module docstring)."""
    return {"version": JSON_VERSION, "reports": [_report_json(r) for r in reports]}


def _report_json(report: ConflictReport) -> dict[str, Any]:
    return {
        "environment": report.environment,
        "platform": report.platform,
        "solvable": report.solvable,
        "complete": report.complete,
        "time_limit": report.time_limit,
        "seconds": round(report.seconds, 3),
        "solves": report.solves,
        "absent": [
            {"spec": a.spec, "name": a.name, "suggestions": list(a.suggestions)}
            for a in report.absent
        ],
        "conflicts": [
            {
                "specs": list(c.specs),
                "explanation": list(c.explanation),
                "solver_message": c.solver_message,
                "hints": [_hint_json(h) for h in c.hints],
            }
            for c in report.conflicts
        ],
    }


def _hint_json(hint: Hint) -> dict[str, Any]:
    relaxation = hint.relaxation
    return {
        "spec": hint.spec,
        "fits": [{"environment": f.environment, "fits": f.fits} for f in hint.fits],
        "relaxation": None
        if relaxation is None
        else {
            "package": relaxation.package,
            "version": relaxation.version,
            "newest": relaxation.newest,
        },
    }
