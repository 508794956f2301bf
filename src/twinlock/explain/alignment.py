"""Alignment clashes in the conflict report: which requirements hold an aligned package apart.

A composition's ``align`` list asks for one version and build of each listed
package in every environment of a platform (:mod:`twinlock.lock.alignment`). When
the environments solve one by one but cannot share a build, the lock fails and
the report must say which *requirements* are to blame, in which environment,
like any other conflict.

For a clash of package ``P`` on a platform, each environment holds a pin of
``P``. Every pin is a candidate; for each environment that does not hold it,
a *trial* asks: does this environment solve with the candidate as a hard pin
(the spec ``P ==version build``)? When it does not, the minimal sets of its
requirements that clash with the pin are found by the same deletion search as
ordinary conflicts (:func:`~twinlock.explain.search.find_conflicts`), the pin
ordered first. When every trial of a candidate is accepted, the environments
could share it on their own: the clash then comes from the other aligned
packages or from an environment that was not being relocked.

:func:`find_alignment_clashes` looks for clashes among freshly solved
environments (``twinlock explain``); :func:`explain_clash` explains one that
a lock ran into. Both spend a shared :class:`~twinlock.explain.search.SolveBudget`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from twinlock.errors import AlignmentError
from twinlock.explain.condense import condense
from twinlock.explain.model import AlignmentClash, AlignmentTrial, Conflict, pin_spec
from twinlock.explain.search import (
    OutOfTime,
    SolveBudget,
    by_importance,
    find_conflicts,
)
from twinlock.lock.alignment import align_locks
from twinlock.model.composition import Composition, Environment
from twinlock.model.lock import PlatformLock
from twinlock.solve.adapter import SolveOutcome, SolveRequest

Key = tuple[str, str]  # (environment, platform)


@dataclass(frozen=True)
class AlignmentFindings:
    clashes: tuple[AlignmentClash, ...]
    complete: bool  # False: the time limit cut the check short
    checked: tuple[str, ...] = ()  # the align list, when two environments shared a platform


def find_alignment_clashes(
    composition: Composition, solved: Mapping[Key, SolveOutcome], budget: SolveBudget
) -> AlignmentFindings:
    """Every aligned package the *solved* environments of a platform cannot share.

    Each platform is checked on its own; after a clash its package is left out
    so the check can go on to the next one (every clash is reported, not only
    the first).
    """
    if not composition.align:
        return AlignmentFindings((), complete=True)
    clashes: list[AlignmentClash] = []
    checked: tuple[str, ...] = ()
    for platform in sorted({platform for _, platform in solved}):
        locks = {
            key: PlatformLock.create(platform, "", (), outcome.packages or ())
            for key, outcome in solved.items()
            if key[1] == platform
        }
        if len(locks) < 2:
            continue
        checked = composition.align
        try:
            clashes += _clashes_on(composition, locks, budget)
        except OutOfTime:
            return AlignmentFindings(tuple(clashes), False, checked)
    return AlignmentFindings(tuple(clashes), True, checked)


def _clashes_on(
    composition: Composition, locks: Mapping[Key, PlatformLock], budget: SolveBudget
) -> list[AlignmentClash]:
    def request_for(env: str, platform: str) -> SolveRequest:
        return SolveRequest.for_environment(composition, composition.environment(env), platform)

    names = list(composition.align)
    clashes: list[AlignmentClash] = []
    while names:
        try:
            align_locks(names, locks, request_for, budget)
            return clashes
        except AlignmentError as error:
            clashes.append(explain_clash(composition, error, budget))
            names.remove(error.package)
    return clashes


def explain_clash(
    composition: Composition, error: AlignmentError, budget: SolveBudget
) -> AlignmentClash:
    """The trials of every pin *error* names in every environment that does not hold it."""
    pins = tuple(sorted(error.pins.items()))
    candidates = list(dict.fromkeys(pin for _, pin in pins))
    trials = tuple(
        _trial(composition, composition.environment(env), error, pin, budget)
        for pin in candidates
        for env, held in pins
        if held != pin
    )
    return AlignmentClash(error.package, error.platform, pins, trials)


def _trial(
    composition: Composition,
    env: Environment,
    error: AlignmentError,
    candidate: str,
    budget: SolveBudget,
) -> AlignmentTrial:
    """Does *env* solve with *candidate* hard-pinned? If not, which requirements refuse it?"""
    pin = pin_spec(error.package, candidate)
    template = SolveRequest.for_environment(composition, env, error.platform)
    result = find_conflicts(
        [pin, *by_importance(env.specs_on(error.platform))], budget.probe(template)
    )
    conflicts = tuple(
        Conflict(c.specs, condense(c.message, c.specs), c.message) for c in result.conflicts
    )
    return AlignmentTrial(env.name, candidate, result.solvable, conflicts, result.complete)
