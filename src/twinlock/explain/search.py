"""Minimal conflicting sets of match specs, found by deletion search over solves.

Pure logic over a *probe*: a function that solves a batch of spec sets (all
independent, so the solver adapter runs them concurrently) and returns one
:class:`~twinlock.solve.adapter.SolveOutcome` per set. The search relies on one
property of conda solving: it is monotone (if a set of specs cannot be solved,
no superset can).

:func:`find_conflicts` finds every minimal conflict of a spec list, whatever
its order: after finding one conflict, it goes on from each way of breaking it
(the list without one of its members, then without one member of each conflict
found there, and so on: Reiter's hitting-set tree, as MARCO-style enumerators
do), reusing known conflicts instead of solving where it can, and stops when
every way of breaking all the conflicts found solves. Then every unsolvable
subset of the list holds one of them. Each conflict is found with QuickXplain
(Junker 2004), first narrowed to the specs the solver's own explanation names
(usually the whole conflict, so the search then only solves small sets); it is
minimal as solving is monotone, and solved once more for the solver's own
explanation of exactly that set.

The probe may raise :class:`OutOfTime`; the search then returns what it found
so far, marked incomplete, with the removals it had still to explore.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from twinlock.explain.condense import mentions
from twinlock.model.composition import Requirement
from twinlock.solve.adapter import SolveOutcome, Solver, SolveRequest

Probe = Callable[[Sequence[tuple[str, ...]]], list[SolveOutcome]]


class OutOfTime(Exception):
    """Raised by a probe when the search's time budget is spent."""


@dataclass(frozen=True)
class FoundConflict:
    """A minimal conflicting set (in the given priority order) and the solver's message."""

    specs: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class SearchResult:
    conflicts: tuple[FoundConflict, ...]
    complete: bool  # False: stopped early (time limit); more conflicts may remain
    solvable: bool | None = None  # did all of the specs solve? None: out of time before asking
    # When incomplete: the sets of specs whose removal was still to be explored (the
    # rest of the specs may hold conflicts not found); () is the whole list.
    unexplored: tuple[tuple[str, ...], ...] = ()


# The share of the time limit the conflict search may use: the rest is kept for the
# hints, so a search cut short still says what to do about the conflicts it found.
SEARCH_SHARE = 0.8


class SolveBudget:
    """Counts solves, caches them and enforces the deadline of one explanation run.

    Also a :class:`~twinlock.solve.adapter.Solver` (``solve_all``, uncached: its
    requests may carry pins the cache key does not see), so code that takes a
    solver, such as alignment, spends the same budget. Searches (:meth:`probe`)
    stop at :data:`SEARCH_SHARE` of the time limit, everything else at the limit.
    """

    def __init__(self, solver: Solver, time_limit: float, clock: Callable[[], float]) -> None:
        self.solver = solver
        self.clock = clock
        self.time_limit = time_limit
        self.started = clock()
        self.deadline = self.started + time_limit
        self.search_deadline = self.started + SEARCH_SHARE * time_limit
        self.solves = 0
        self._cache: dict[tuple[str, str, frozenset[str]], SolveOutcome] = {}

    def elapsed(self) -> float:
        """Seconds since the run began, on the clock the deadline is checked against."""
        return self.clock() - self.started

    def solve(
        self,
        trials: Sequence[tuple[SolveRequest, tuple[str, ...]]],
        deadline: float | None = None,
    ) -> list[SolveOutcome]:
        """Solve each (template, specs) trial, all uncached ones in one concurrent batch.

        The templates carry no pins: the cache is keyed by environment, platform and specs.
        Raises OutOfTime past *deadline* (default: the time limit's).
        """

        def key(trial: tuple[SolveRequest, tuple[str, ...]]) -> tuple[str, str, frozenset[str]]:
            return (trial[0].environment, trial[0].platform, frozenset(trial[1]))

        todo = {key(t): t for t in trials if key(t) not in self._cache}
        if todo:
            requests = [replace(template, specs=specs) for template, specs in todo.values()]
            outcomes = self._run(requests, self.deadline if deadline is None else deadline)
            for k, outcome in zip(todo, outcomes, strict=True):
                self._cache[k] = outcome
        return [self._cache[key(t)] for t in trials]

    def solve_all(self, requests: Sequence[SolveRequest]) -> list[SolveOutcome]:
        """Solve *requests* as they are (no cache); raises OutOfTime past the deadline.

        The first batch always runs, so even a zero time limit says what does not solve.
        """
        return self._run(requests, self.deadline)

    def _run(self, requests: Sequence[SolveRequest], deadline: float) -> list[SolveOutcome]:
        if not requests:
            return []
        if self.solves and self.clock() > deadline:
            raise OutOfTime
        self.solves += len(requests)
        return self.solver.solve_all(requests)

    def probe(self, template: SolveRequest) -> Probe:
        """A probe over variations of *template*'s specs, for searches (their deadline)."""
        return lambda spec_sets: self.solve(
            [(template, s) for s in spec_sets], self.search_deadline
        )


def by_importance(specs: Iterable[str]) -> list[str]:
    """*specs* in search order: the interpreter pin first, as it defines the environment."""
    return sorted(specs, key=lambda spec: Requirement(spec).name != "python")


def find_conflicts(specs: Sequence[str], probe: Probe) -> SearchResult:
    """Every minimal conflict among *specs*, whatever their order (the most important first
    only decides which is found first)."""
    search = _Enumeration(list(dict.fromkeys(specs)), probe)
    try:
        search.run()
    except OutOfTime:
        return SearchResult(search.in_order(), False, search.solvable, search.unexplored())
    return SearchResult(search.in_order(), True, search.solvable)


Removal = frozenset[str]


class _Enumeration:
    """Reiter's hitting-set tree over removals, breadth first.

    A node is a set of specs removed from the list. At a node, a known conflict
    that none of the removed specs breaks is reused; otherwise the rest of the
    specs is solved and, when it fails, QuickXplain finds a new conflict in it.
    The node then branches once per member of that conflict (removing it). A node
    whose rest solves is a leaf, and so is every node removing a superset of it
    (monotonicity: fewer specs solve too). The search ends when every branch
    solves: then every unsolvable subset of the specs holds a conflict found.
    """

    def __init__(self, specs: list[str], probe: Probe) -> None:
        self.specs = specs
        self.probe = probe
        self.found: list[FoundConflict] = []
        self.solvable: bool | None = None
        self.solvable_removals: list[Removal] = []  # removals whose rest solves
        self.todo: dict[Removal, None] = {frozenset(): None}  # in order of discovery
        self.seen: set[Removal] = set(self.todo)
        self.level: list[Removal] = []  # the nodes of the level being explored

    def run(self) -> None:
        while self.todo:
            self.level = list(self.todo)
            self.todo = {}
            while self.level:
                self._visit(self.level[0])
                self.level.pop(0)

    def _visit(self, removal: Removal) -> None:
        """Reuse a conflict that survives *removal*, or solve the rest and find a new one.

        One node at a time, not a level per batch: a conflict found at one node
        usually survives its siblings' removals too, sparing their (full-size) solves.
        """
        if self._covered(removal):
            return
        conflict = self._surviving(removal)
        if conflict is None:
            outcome = self.probe([self._rest(removal)])[0]
            if self.solvable is None:
                self.solvable = outcome.solved
            if outcome.solved:
                self.solvable_removals.append(removal)
                return
            conflict = self._discover(removal, outcome)
        self._branch(removal, conflict)

    def _rest(self, removal: Removal) -> tuple[str, ...]:
        return tuple(s for s in self.specs if s not in removal)

    def _covered(self, removal: Removal) -> bool:
        return any(solved <= removal for solved in self.solvable_removals)

    def _surviving(self, removal: Removal) -> FoundConflict | None:
        return next((c for c in self.found if removal.isdisjoint(c.specs)), None)

    def _discover(self, removal: Removal, outcome: SolveOutcome) -> FoundConflict:
        rest = list(self._rest(removal))
        conflict = _one_conflict(rest, outcome.error or "", self.probe)
        self.found.append(conflict)
        return conflict

    def _branch(self, removal: Removal, conflict: FoundConflict) -> None:
        for spec in conflict.specs:
            child = removal | {spec}
            if child not in self.seen:
                self.seen.add(child)
                self.todo[child] = None

    def in_order(self) -> tuple[FoundConflict, ...]:
        """The conflicts smallest first, then by where their specs are in the list (so the
        most important first), not in the order they happened to be found."""
        position = {spec: i for i, spec in enumerate(self.specs)}
        return tuple(
            sorted(self.found, key=lambda c: (len(c.specs), [position[s] for s in c.specs]))
        )

    def unexplored(self) -> tuple[tuple[str, ...], ...]:
        """What was still to explore, each as the specs removed (in the list's order)."""
        pending = [h for h in [*self.level, *self.todo] if not self._covered(h)]
        return tuple(tuple(s for s in self.specs if s in h) for h in pending)


def _one_conflict(remaining: list[str], message: str, probe: Probe) -> FoundConflict:
    """One minimal conflict of *remaining* (known not to solve), in *remaining*'s order."""
    named = [s for s in remaining if mentions(message, Requirement(s).name)]
    ordered = remaining
    if named and len(named) < len(remaining):
        if not probe([tuple(named)])[0].solved:
            ordered = named
        else:
            # The explanation is incomplete: still try its specs first.
            ordered = named + [s for s in remaining if s not in named]
    conflict = quickxplain(ordered, lambda trial: probe([trial])[0].solved)
    return _with_message(tuple(s for s in remaining if s in conflict), probe)


def quickxplain(specs: Sequence[str], solves: Callable[[tuple[str, ...]], bool]) -> tuple[str, ...]:
    """A minimal subset of *specs* that does not solve (*specs* must not solve).

    Divide and conquer: about 2k·log2(n/k) solves for a conflict of k among n
    specs, preferring conflicts made of the specs listed first.
    """

    def qx(background: tuple[str, ...], check: bool, items: tuple[str, ...]) -> tuple[str, ...]:
        if check and not solves(background):
            return ()
        if len(items) == 1:
            return items
        half = len(items) // 2
        first, second = items[:half], items[half:]
        need_second = qx(background + first, True, second)
        need_first = qx(background + need_second, bool(need_second), first)
        return need_first + need_second

    return qx((), False, tuple(specs)) if specs else ()


def _with_message(conflict: tuple[str, ...], probe: Probe) -> FoundConflict:
    """The conflict with the solver's explanation of exactly this set.

    QuickXplain's answer is minimal as solving is monotone, so the "set minus
    one" solves are not repeated here (tests check them independently).
    """
    return FoundConflict(conflict, probe([conflict])[0].error or "")
