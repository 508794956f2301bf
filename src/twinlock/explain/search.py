"""Minimal conflicting sets of match specs, found by deletion search over solves.

Pure logic over a *probe*: a function that solves a batch of spec sets (all
independent, so the solver adapter runs them concurrently) and returns one
:class:`~twinlock.solver.SolveOutcome` per set. The search relies on one
property of conda solving: it is monotone (if a set of specs cannot be solved,
no superset can).

:func:`find_conflicts` finds every conflict of an ordered spec list, one at a
time: solve the list; while it fails, find one minimal conflicting set, drop
its least important member (the last in the given order) and solve again.
Each conflict is found with QuickXplain (Junker 2004), first narrowed to the
specs the solver's own explanation names (usually the whole conflict, so the
search then only solves small sets), and confirmed minimal with one batch that
solves every "conflict minus one spec" concurrently.

The probe may raise :class:`OutOfTime`; the search then returns what it found
so far, marked incomplete.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

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
    kept: tuple[str, ...]  # what remains after dropping one spec per conflict
    complete: bool  # False: stopped early (time limit); more conflicts may remain
    solvable: bool | None = None  # did all of the specs solve? None: out of time before asking


class SolveBudget:
    """Counts solves, caches them and enforces the deadline of one explanation run.

    Also a :class:`~twinlock.solver.Solver` (``solve_all``, uncached: its
    requests may carry pins the cache key does not see), so code that takes a
    solver, such as alignment, spends the same budget.
    """

    def __init__(self, solver: Solver, time_limit: float, clock: Callable[[], float]) -> None:
        self.solver = solver
        self.clock = clock
        self.time_limit = time_limit
        self.deadline = clock() + time_limit
        self.solves = 0
        self._cache: dict[tuple[str, str, frozenset[str]], SolveOutcome] = {}

    def solve(self, trials: Sequence[tuple[SolveRequest, tuple[str, ...]]]) -> list[SolveOutcome]:
        """Solve each (template, specs) trial, all uncached ones in one concurrent batch.

        The templates carry no pins: the cache is keyed by environment, platform and specs.
        """

        def key(trial: tuple[SolveRequest, tuple[str, ...]]) -> tuple[str, str, frozenset[str]]:
            return (trial[0].environment, trial[0].platform, frozenset(trial[1]))

        todo = {key(t): t for t in trials if key(t) not in self._cache}
        if todo:
            requests = [replace(template, specs=specs) for template, specs in todo.values()]
            for k, outcome in zip(todo, self.solve_all(requests), strict=True):
                self._cache[k] = outcome
        return [self._cache[key(t)] for t in trials]

    def solve_all(self, requests: Sequence[SolveRequest]) -> list[SolveOutcome]:
        """Solve *requests* as they are (no cache); raises OutOfTime past the deadline.

        The first batch always runs, so even a zero time limit says what does not solve.
        """
        if not requests:
            return []
        if self.solves and self.clock() > self.deadline:
            raise OutOfTime
        self.solves += len(requests)
        return self.solver.solve_all(requests)

    def probe(self, template: SolveRequest) -> Probe:
        """A probe over variations of *template*'s specs."""
        return lambda spec_sets: self.solve([(template, s) for s in spec_sets])


def by_importance(specs: Iterable[str]) -> list[str]:
    """*specs* in search order: the interpreter pin first, as it defines the environment."""
    return sorted(specs, key=lambda spec: Requirement(spec).name != "python")


def find_conflicts(specs: Sequence[str], probe: Probe) -> SearchResult:
    """Every conflict among *specs* (most important first), each reported once."""
    remaining = list(dict.fromkeys(specs))
    found: list[FoundConflict] = []
    solvable = None
    try:
        outcome = probe([tuple(remaining)])[0]
        solvable = outcome.solved
        while not outcome.solved and remaining:
            conflict = _one_conflict(remaining, outcome.error or "", probe)
            found.append(conflict)
            remaining.remove(conflict.specs[-1])
            outcome = probe([tuple(remaining)])[0]
    except OutOfTime:
        return SearchResult(tuple(found), tuple(remaining), False, solvable)
    return SearchResult(tuple(found), tuple(remaining), True, solvable)


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
    return _confirm_minimal(tuple(s for s in remaining if s in conflict), probe)


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


def _confirm_minimal(conflict: tuple[str, ...], probe: Probe) -> FoundConflict:
    """Solve the set and every 'set minus one' at once; shrink while a smaller set fails.

    With a monotone solver QuickXplain's answer is already minimal and this is
    one batch; it also yields the solver's explanation of exactly this set.
    """
    while True:
        # The empty set always solves: no need to ask.
        subsets = [t for t in (tuple(s for s in conflict if s != x) for x in conflict) if t]
        whole, *rest = probe([conflict, *subsets])
        smaller = [t for t, o in zip(subsets, rest, strict=True) if not o.solved]
        if whole.solved or not smaller:
            return FoundConflict(conflict, whole.error or "")
        conflict = smaller[0]


def mentions(text: str, name: str) -> bool:
    """True when *text* names the package *name* (not merely a longer name containing it)."""
    return re.search(rf"(?<![\w.\-]){re.escape(name)}(?![\w\-]|\.\w)", text) is not None


_BRANCH = re.compile(r"^((?:[│ ] {2})*)(?:[├└]─ )?")
_HEADER = "The following packages are incompatible"


def condense(message: str, names: Sequence[str], limit: int = 30) -> tuple[str, ...]:
    """The lines of a solver explanation on paths that involve the conflict.

    The explanation is a forest, one tree per requested spec. A path is kept
    when its last line is about a package of the conflict (*names*) or about a
    package that appears under two different trees (where they meet, e.g. both
    need incompatible ``mkl`` builds); paths about one tree's own dead ends
    (CUDA-only builds, other Pythons' ABI) are dropped only when they name
    neither. Repeated paths and tree glyphs go; depth becomes two-space
    indentation. At most *limit* lines, then a count of the rest.
    """
    text = message.removeprefix("Cannot solve the request because of: ")
    nodes = _nodes(text)
    roots = _roots(nodes)
    under: dict[str, set[str]] = {}
    for (_, body), root in zip(nodes, roots, strict=True):
        under.setdefault(_subject(body), set()).add(root)
    relevant = set(names) | {n for n, trees in under.items() if len(trees) > 1}
    keep = [depth == 0 for depth, _ in nodes]
    for i, (depth, body) in enumerate(nodes):
        is_leaf = i + 1 == len(nodes) or nodes[i + 1][0] <= depth
        if is_leaf and depth > 0 and _subject(body) in relevant:
            _keep_path(nodes, keep, i)
    if all(k == (d == 0) for (d, _), k in zip(nodes, keep, strict=True)):
        keep = [True] * len(nodes)  # nothing matched: condensing would hide the reason
    return _render(nodes, keep, limit)


def _nodes(text: str) -> list[tuple[int, str]]:
    """(depth, text) per line; the 'incompatible' header is dropped, its tree lifted."""
    nodes: list[tuple[int, str]] = []
    lifted = False
    for line in text.splitlines():
        match = _BRANCH.match(line)
        prefix = match.group(0) if match else ""
        depth, body = len(prefix) // 3, line[len(prefix) :].strip()
        if not body:
            continue
        if depth == 0:
            lifted = body == _HEADER
            if lifted:
                continue
        nodes.append((depth - 1 if lifted else depth, body))
    return nodes


def _roots(nodes: list[tuple[int, str]]) -> list[str]:
    roots, current = [], ""
    for depth, body in nodes:
        if depth == 0:
            current = _subject(body)
        roots.append(current)
    return roots


def _subject(body: str) -> str:
    """The package a line is about: its first word (``No candidates ... for X``: X)."""
    if body.startswith("No candidates were found for "):
        body = body.removeprefix("No candidates were found for ")
    return body.split(" ", 1)[0].rstrip(",.")


def _keep_path(nodes: list[tuple[int, str]], keep: list[bool], index: int) -> None:
    """Mark the line at *index* and each of its ancestors."""
    depth = nodes[index][0] + 1
    for j in range(index, -1, -1):
        if nodes[j][0] < depth:
            keep[j] = True
            depth = nodes[j][0]


def _render(nodes: list[tuple[int, str]], keep: list[bool], limit: int) -> tuple[str, ...]:
    lines: list[str] = []
    seen: set[tuple[str, ...]] = set()
    path: list[str] = []
    for (depth, body), kept in zip(nodes, keep, strict=True):
        path = [*path[:depth], body]
        if kept and tuple(path) not in seen:
            seen.add(tuple(path))
            lines.append("  " * depth + body)
    if len(lines) > limit:
        lines = [*lines[:limit], f"... {len(lines) - limit} more lines"]
    return tuple(lines)
