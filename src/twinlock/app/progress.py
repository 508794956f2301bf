"""Progress events of long use cases (lock, explain, PyPI resolution, mirror, rebuild).

Library code never prints: a use case takes an optional ``progress`` callback and
reports :class:`Step` values to it; the CLI renders them on stderr (live lines on a
terminal, plain lines under ``NO_COLOR``/``TERM=dumb``, nothing when piped or
``--quiet``). The solver and the PyPI resolver are wrapped here, so the stages
below ``app`` know nothing about progress.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: reporting needs neither the solver nor PyPI planning
    from twinlock.pypi.locking import PypiResolver
    from twinlock.pypi.plan import PypiOutcome, PypiRequest
    from twinlock.solve.adapter import SolveOutcome, Solver, SolveRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    """One line of progress: *task* (``lab linux-64``) is now in *state*.

    States: ``solving``, ``solved``, ``failed``, ``reused``, ``written``,
    ``resolving PyPI``, ``PyPI resolved``, ``searching``, ``fetching``, ``done``.
    ``done``/``total`` count work within the task when known.
    """

    task: str
    state: str
    detail: str = ""
    seconds: float | None = None
    done: int | None = None
    total: int | None = None

    @classmethod
    def of(cls, environment: str, platform: str, state: str, detail: str = "") -> Step:
        return cls(f"{environment} {platform}", state, detail)


Progress = Callable[[Step], None]


def silent(_: Step) -> None:
    """The default: nobody is watching."""


class ReportingSolver:
    """A solver that reports each request it solves (``solving`` -> ``solved``/``failed``)."""

    def __init__(self, solver: Solver, progress: Progress) -> None:
        self._solver = solver
        self._progress = progress

    def solve_all(self, requests: Sequence[SolveRequest]) -> list[SolveOutcome]:
        for r in requests:
            self._progress(Step.of(r.environment, r.platform, "solving", f"{len(r.specs)} specs"))
        outcomes = self._solver.solve_all(requests)
        for o in outcomes:
            r = o.request
            if o.packages is None:
                step = Step(f"{r.environment} {r.platform}", "failed", "does not solve", o.seconds)
            else:
                count = f"{len(o.packages)} packages"
                step = Step(f"{r.environment} {r.platform}", "solved", count, o.seconds)
            log.info("%s: %s %s in %.2f s", step.task, step.state, step.detail, o.seconds)
            self._progress(step)
        return outcomes


class ReportingResolver:
    """A PyPI resolver that reports each environment x platform it resolves."""

    def __init__(self, resolver: PypiResolver, progress: Progress) -> None:
        self._resolver = resolver
        self._progress = progress

    def resolve_all(self, requests: Sequence[PypiRequest]) -> list[PypiOutcome]:
        for r in requests:
            detail = f"{len(r.requirements)} requirements"
            self._progress(Step.of(r.environment, r.platform, "resolving PyPI", detail))
        outcomes = self._resolver.resolve_all(requests)
        for o in outcomes:
            r = o.request
            task = f"{r.environment} {r.platform}"
            if o.packages is None:
                self._progress(Step(task, "failed", "PyPI layer does not resolve", o.seconds))
                continue
            count = f"{len(o.packages)} PyPI packages"
            log.info("%s: PyPI resolved %s in %.2f s", task, count, o.seconds)
            self._progress(Step(task, "PyPI resolved", count, o.seconds))
        return outcomes


class CountingSolver:
    """Reports the conflict search: solves done and the time left of its budget."""

    def __init__(
        self,
        solver: Solver,
        progress: Progress,
        time_limit: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._solver = solver
        self._progress = progress
        self._clock = clock
        self._deadline = clock() + time_limit
        self.solves = 0

    def solve_all(self, requests: Sequence[SolveRequest]) -> list[SolveOutcome]:
        outcomes = self._solver.solve_all(requests)
        self.solves += len(requests)
        left = max(0.0, self._deadline - self._clock())
        tasks = sorted({f"{r.environment} {r.platform}" for r in requests})
        self._progress(
            Step(
                ", ".join(tasks) or "explain",
                "searching",
                f"{self.solves} solve{'' if self.solves == 1 else 's'}, {left:.0f} s left",
                done=self.solves,
            )
        )
        return outcomes
