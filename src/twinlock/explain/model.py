"""Conflict reports as data: what :mod:`twinlock.explain.conflicts` finds and tools read.

Two kinds of finding share one report:

* a :class:`ConflictReport` per environment x platform: whether it solves,
  requested names the channels lack, minimal sets of clashing specs and hints;
* an :class:`AlignmentClash` per package listed under ``align`` that cannot
  take one build in every environment of a platform although each environment
  solves on its own: the pins each environment holds and, for each pin an
  environment refuses, the minimal sets of that environment's requirements
  that clash with it.

JSON shape (:func:`analysis_as_json`; stable, version 1; fields are only added)::

    {"version": 1,
     "reports": [{
        "environment": "payload", "platform": "linux-64",
        "solvable": false,            # true: nothing else below is filled in
        "complete": true,             # false: time limit hit, more conflicts may remain
        "time_limit": 60.0,
        "seconds": 3.1, "solves": 57, # since the run began: the clock the time limit uses
        "unexplored": [["numpy 2.*"]],  # when incomplete: the ways of breaking the conflicts
                                      # found that were not explored (specs removed)
        "absent": [{"spec": "eups >=2.2.8", "name": "eups", "suggestions": ["..."]}],
        "conflicts": [{
            "specs": ["python >=3.11,<3.12", "fitsio >=1.2.1"],   # most important first
            "explanation": ["condensed solver lines", "  indented by depth"],
            "solver_message": "the solver's full text for exactly these specs",
            "hints": [{
                "spec": "fitsio >=1.2.1",
                "fits": [{"environment": "lab", "fits": true}],  # null: lab alone fails
                "belongs_in": ["lab"],    # only for a conflict {the Python pin, this spec}
                "python_pin": false,      # the environment's Python pin: never relaxed
                "relaxation": {"package": "fitsio", "version": "1.2.0",
                               "newest": true} | null}]}]}],   # null for the Python pin
     "alignment": [{
        "package": "libzlib", "platform": "linux-64",
        "environments": ["lab", "payload"],
        "pins": {"lab": "1.3.1 hb9d3cd8_2", "payload": "1.2.13 h4ab18f5_6"},
        "complete": true,
        "trials": [{                  # one per (pin, environment that does not hold it)
            "environment": "payload", "candidate": "1.3.1 hb9d3cd8_2",
            "accepted": false,        # true: solves with it; null: out of time
            "conflicts": [{"specs": ["libzlib ==1.3.1 hb9d3cd8_2", "libzlib 1.2.*"],
                           "explanation": ["..."], "solver_message": "...",
                           "hints": []}]}]}],
     "alignment_complete": true,      # false: the time limit cut the alignment check short
     "aligned": ["libzlib", "numpy"], # the align list, when two environments were compared
     "layers": [{                     # only when a layer cannot keep its base's pins
        "layer": "extras", "base": "payload", "platform": "linux-64",
        "addition": "numpy >=2", "requested_by": "survey team" | null,
        "pins": [{"package": "numpy", "pin": "1.26.4 py311h...", "moves_to": "2.1.3 ..." | null,
                  "requirement": "numpy 1.26.*" | null, "requested_by": "..." | null,
                  "forbidden": true}]}]}  # the base's requirement does not admit moves_to

A third kind, a :class:`BasePinClash`, says which requirement a layer adds
(``extends: BASE``) needs which of its base's held pins to move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from twinlock.errors import UnsolvableError

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
    """What could be done with one spec of a conflict.

    *fits* is information (the spec would solve with each other environment's
    requirements); *belongs_in* is advice, given only when the conflict is
    exactly {the Python pin, this spec}. The Python pin gets no relaxation unless
    the user marked Python as movable.
    """

    spec: str
    fits: tuple[Fit, ...]
    relaxation: Relaxation | None
    belongs_in: tuple[str, ...] = ()
    python_pin: bool = False


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
    unexplored: tuple[tuple[str, ...], ...] = ()  # removals left when the time ran out

    @classmethod
    def solved(cls, environment: str, platform: str, time_limit: float) -> ConflictReport:
        return cls(environment, platform, solvable=True, time_limit=time_limit)


@dataclass(frozen=True)
class AlignmentTrial:
    """Whether *environment* solves with *candidate* (``version build``) of the package."""

    environment: str
    candidate: str
    accepted: bool | None  # None: out of time before it was tried
    # Minimal sets of the environment's requirements, each with the candidate's pin spec.
    conflicts: tuple[Conflict, ...] = ()
    complete: bool = True


@dataclass(frozen=True)
class AlignmentClash:
    """An aligned package the environments of one platform cannot share."""

    package: str
    platform: str
    pins: tuple[tuple[str, str], ...]  # (environment, "version build"), by environment
    trials: tuple[AlignmentTrial, ...]

    @property
    def environments(self) -> tuple[str, ...]:
        return tuple(env for env, _ in self.pins)

    @property
    def complete(self) -> bool:
        return all(t.complete for t in self.trials)

    def pin_spec(self, candidate: str) -> str:
        return pin_spec(self.package, candidate)


def pin_spec(package: str, candidate: str) -> str:
    """The match spec that hard-pins *candidate* (``version build``) of *package*."""
    return f"{package} =={candidate}"


@dataclass(frozen=True)
class HeldPin:
    """A base pin a layer's addition needs moved: what it is, what the addition would
    take instead, and the base requirement that names the package (if any)."""

    package: str
    pin: str  # "version build"
    moves_to: str | None  # "version build" the unpinned solve took; None: dropped
    requirement: str | None = None
    requested_by: str | None = None
    # The base's requirement does not admit ``moves_to``: the base itself must change.
    forbidden: bool = False


@dataclass(frozen=True)
class BasePinClash:
    """A layer's addition that does not solve with its base's pins held."""

    layer: str
    base: str
    platform: str
    addition: str
    requested_by: str | None
    pins: tuple[HeldPin, ...]


@dataclass(frozen=True)
class ConflictAnalysis:
    """Everything ``twinlock explain`` found: reports and alignment clashes."""

    reports: tuple[ConflictReport, ...]
    alignment: tuple[AlignmentClash, ...] = ()
    alignment_complete: bool = True  # False: the time limit cut the alignment check short
    aligned: tuple[str, ...] = ()  # the align list, when it was checked
    layers: tuple[BasePinClash, ...] = ()

    @property
    def ok(self) -> bool:
        return all(r.solvable for r in self.reports) and not self.alignment and not self.layers


class ConflictsError(UnsolvableError):
    """Some environment x platform does not solve, or an aligned package cannot be
    shared; *analysis* says why (exit code 1)."""

    def __init__(
        self, failures: Sequence[tuple[str, str, str]], analysis: ConflictAnalysis
    ) -> None:
        super().__init__(failures)
        self.analysis = analysis
        what = [f"cannot solve {r.environment} on {r.platform}" for r in analysis.reports]
        what += [
            f"cannot align {c.package} on {c.platform} across {' and '.join(c.environments)}"
            for c in analysis.alignment
        ]
        what += [
            f"cannot add '{c.addition}' to {c.layer} on {c.platform} without moving "
            f"{_pin_names(c)} pinned by its base {c.base}"
            for c in analysis.layers
        ]
        self.message = f"{'; '.join(what)} (conflict report above); nothing was written"
        fixes = []
        if any(r.absent for r in analysis.reports):
            fixes.append("fix or remove the absent names")
        if any(r.conflicts for r in analysis.reports):
            fixes.append("relax, remove or move each conflict's specs as its hints suggest")
        if analysis.reports and not fixes:
            fixes.append("run `twinlock explain --time-limit S` with more time to find the clash")
        if analysis.layers:
            fixes.append(
                "relax each addition to fit the base's pins, or change the base itself "
                "(its layers relock with it)"
            )
        if analysis.alignment:
            fixes.append(
                "relax the requirements that hold each aligned package apart, "
                "or drop it from 'align'"
            )
        self.hint = f"{'; '.join(fixes)}; `twinlock explain --json` gives the report for tools"
        self.args = (self.message,)


def _pin_names(clash: BasePinClash, shown: int = 5) -> str:
    """The pins that matter most (those the base forbids to move, then requested ones)."""
    pins = ordered_pins(clash)
    names = ", ".join(p.package for p in pins[:shown])
    return names + (f" and {len(pins) - shown} more" if len(pins) > shown else "")


def ordered_pins(clash: BasePinClash) -> list[HeldPin]:
    """Forbidden pins first, then those a base requirement names, then the rest."""
    return sorted(clash.pins, key=lambda p: (not p.forbidden, p.requirement is None, p.package))


def analysis_as_json(analysis: ConflictAnalysis) -> dict[str, Any]:
    """The documented JSON shape (see the module docstring)."""
    out: dict[str, Any] = {
        "version": JSON_VERSION,
        "reports": [_report_json(r) for r in analysis.reports],
        "alignment": [_clash_json(c) for c in analysis.alignment],
        "alignment_complete": analysis.alignment_complete,
        "aligned": list(analysis.aligned),
    }
    if analysis.layers:
        out["layers"] = [_layer_json(c) for c in analysis.layers]
    return out


def _layer_json(clash: BasePinClash) -> dict[str, Any]:
    return {
        "layer": clash.layer,
        "base": clash.base,
        "platform": clash.platform,
        "addition": clash.addition,
        "requested_by": clash.requested_by,
        "pins": [
            {
                "package": p.package,
                "pin": p.pin,
                "moves_to": p.moves_to,
                "requirement": p.requirement,
                "requested_by": p.requested_by,
                "forbidden": p.forbidden,
            }
            for p in clash.pins
        ],
    }


def _report_json(report: ConflictReport) -> dict[str, Any]:
    return {
        "environment": report.environment,
        "platform": report.platform,
        "solvable": report.solvable,
        "complete": report.complete,
        "time_limit": report.time_limit,
        "seconds": round(report.seconds, 3),
        "solves": report.solves,
        "unexplored": [list(removal) for removal in report.unexplored],
        "absent": [
            {"spec": a.spec, "name": a.name, "suggestions": list(a.suggestions)}
            for a in report.absent
        ],
        "conflicts": [_conflict_json(c) for c in report.conflicts],
    }


def _conflict_json(conflict: Conflict) -> dict[str, Any]:
    return {
        "specs": list(conflict.specs),
        "explanation": list(conflict.explanation),
        "solver_message": conflict.solver_message,
        "hints": [_hint_json(h) for h in conflict.hints],
    }


def _clash_json(clash: AlignmentClash) -> dict[str, Any]:
    return {
        "package": clash.package,
        "platform": clash.platform,
        "environments": list(clash.environments),
        "pins": dict(clash.pins),
        "complete": clash.complete,
        "trials": [
            {
                "environment": t.environment,
                "candidate": t.candidate,
                "accepted": t.accepted,
                "conflicts": [_conflict_json(c) for c in t.conflicts],
            }
            for t in clash.trials
        ],
    }


def _hint_json(hint: Hint) -> dict[str, Any]:
    relaxation = hint.relaxation
    return {
        "spec": hint.spec,
        "fits": [{"environment": f.environment, "fits": f.fits} for f in hint.fits],
        "belongs_in": list(hint.belongs_in),
        "python_pin": hint.python_pin,
        "relaxation": None
        if relaxation is None
        else {
            "package": relaxation.package,
            "version": relaxation.version,
            "newest": relaxation.newest,
        },
    }
