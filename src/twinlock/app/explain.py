"""Why does an environment not solve? (``twinlock explain``), as a library call."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING

from twinlock.app.progress import CountingSolver, Progress, silent
from twinlock.app.project import Project
from twinlock.errors import (
    TwinlockError,
    did_you_mean,
)
from twinlock.model.composition import Composition
from twinlock.solve.adapter import PackageIndex, Solver

if TYPE_CHECKING:
    from twinlock.explain.model import ConflictAnalysis


def run_explain(
    project: Project,
    *,
    environments: Sequence[str] = (),
    platforms: Sequence[str] = (),
    time_limit: float | None = None,
    solver: Solver | None = None,
    python_movable: bool = False,
    progress: Progress = silent,
) -> ConflictAnalysis:
    """A conflict report per selected environment x platform (solvable ones say so),
    and the alignment clashes among the selected environments that solve.

    *python_movable*: the user would change an environment's Python pin, so hints may
    propose a version of Python that fits (otherwise the pin is never relaxed).
    *progress* hears the solves done and the time left of the search's budget.
    """
    from twinlock.explain.conflicts import explain_composition
    from twinlock.explain.model import DEFAULT_TIME_LIMIT

    # A solver made here is closed here: its gateway goes before the interpreter does.
    with ExitStack() as owned:
        analyser = solver or owned.enter_context(project.solver())
        if not isinstance(analyser, PackageIndex):
            raise TypeError("the solver must also list package names (PackageIndex)")
        limit = DEFAULT_TIME_LIMIT if time_limit is None else time_limit
        return explain_composition(
            project.composition,
            CountingSolver(analyser, progress, limit),
            analyser,
            targets=_targets(project.composition, environments, platforms),
            time_limit=limit,
            python_movable=python_movable,
        )


def _targets(
    composition: Composition, environments: Sequence[str], platforms: Sequence[str]
) -> list[tuple[str, str]]:
    selected = composition.select(list(environments))
    offered = {p for env in selected for p in env.platforms}
    for platform in platforms:
        if platform not in offered:
            raise TwinlockError(
                f"--platform {platform}: not a platform of "
                f"{', '.join(e.name for e in selected)} "
                f"{did_you_mean(platform, offered)}".rstrip(),
                f"pick one of: {', '.join(sorted(offered))}",
            )
    return [
        (env.name, p) for env in selected for p in env.platforms if not platforms or p in platforms
    ]
