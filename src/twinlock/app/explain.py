"""Why does an environment not solve? (``twinlock explain``), as a library call."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from typing import TYPE_CHECKING

from twinlock.app.progress import CountingSolver, Progress, silent
from twinlock.app.project import Project
from twinlock.errors import (
    LockFileError,
    TwinlockError,
    did_you_mean,
)
from twinlock.model.composition import Composition
from twinlock.solve.adapter import PackageIndex, Solver

if TYPE_CHECKING:
    from twinlock.explain.layers import LayerFindings
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
        targets = _targets(project.composition, environments, platforms)
        limit = DEFAULT_TIME_LIMIT if time_limit is None else time_limit
        analysis = explain_composition(
            project.composition,
            CountingSolver(analyser, progress, limit),
            analyser,
            targets=targets,
            time_limit=limit,
            python_movable=python_movable,
        )
        findings = _layer_findings(project, targets, analyser)
    if not findings:
        return analysis
    # A layer solves on its own requirements; with its base's pins held it may not.
    explained = {key for key, found in findings.items() if found.replaces_report}
    reports = tuple(r for r in analysis.reports if (r.environment, r.platform) not in explained)
    layers = tuple(clash for found in findings.values() for clash in found.clashes)
    return replace(analysis, reports=reports, layers=layers)


def _layer_findings(
    project: Project, targets: Sequence[tuple[str, str]], solver: Solver
) -> dict[tuple[str, str], LayerFindings]:
    """What each selected layer's additions need moved among its base's locked pins."""
    from twinlock.explain.layers import explain_layer

    composition = project.composition
    if not any(composition.environment(env).extends for env, _ in targets):
        return {}
    try:
        locks = project.read_locks()
    except LockFileError:
        return {}  # no base pins to hold: the ordinary report is all there is
    findings = {}
    for env_name, platform in targets:
        base = locks.get(composition.environment(env_name).extends or "")
        base_plat = base.platform(platform) if base is not None else None
        if base_plat is not None:
            findings[(env_name, platform)] = explain_layer(
                composition, env_name, platform, base_plat, solver
            )
    return findings


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
