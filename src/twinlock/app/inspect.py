"""Looking inside one environment's lock (``graph``, ``why``, ``tree``) as library calls.

Each function picks the lock of one environment of the project and answers
with :mod:`twinlock.graph.model` values; the CLI renders them with
:mod:`twinlock.graph.render`.
"""

from __future__ import annotations

from dataclasses import dataclass

from twinlock.app.project import Project
from twinlock.errors import TwinlockError
from twinlock.graph.model import DependencyGraph, TreeLine, WhyPath, lock_for, view
from twinlock.lock.store import read_locks
from twinlock.model.lock import EnvironmentLock


def environment_lock(project: Project, env: str | None) -> EnvironmentLock:
    """The lock of *env* (the only environment when *env* is None; near misses suggested)."""
    names = [e.name for e in project.composition.environments]
    if env is None:
        if len(names) != 1:
            raise TwinlockError(
                f"{project.composition.source} has several environments ({', '.join(names)})",
                "choose one with --env",
            )
        env = names[0]
    name = project.composition.environment(env).name
    # Only this environment's lock: parsing the others would double the wait.
    return lock_for(project.composition, read_locks(project.paths, [name]), name)


def dependency_graph(project: Project, env: str | None, platform: str | None) -> DependencyGraph:
    """The dependency graph of *env* on *platform* (default: the lock's first platform)."""
    return DependencyGraph.from_lock(environment_lock(project, env), platform)


@dataclass(frozen=True)
class GraphView:
    """The whole graph and the part of it to draw."""

    full: DependencyGraph
    shown: DependencyGraph


def graph_view(
    project: Project,
    env: str | None,
    platform: str | None,
    *,
    depth: int | None = None,
    focus: str | None = None,
    radius: int = 1,
    whole: bool = False,
) -> GraphView:
    """The graph of *env* cut to a depth, a focus neighbourhood or (unless *whole*: data
    for tools) a readable size."""
    full = dependency_graph(project, env, platform)
    return GraphView(full, view(full, depth=depth, focus=focus, radius=radius, whole=whole))


@dataclass(frozen=True)
class WhyAnswer:
    """Why *name* is in an environment: paths from requested packages, shortest first."""

    graph: DependencyGraph
    name: str
    paths: list[WhyPath]
    more: bool
    roots: int


def why(
    project: Project, env: str, package: str, platform: str | None, limit: int | None
) -> WhyAnswer:
    """At most *limit* paths (None: all) from a requested package to *package*."""
    deps = dependency_graph(project, env, platform)
    name = deps.require(package)
    paths, more = deps.paths_to(name, limit)
    return WhyAnswer(deps, name, paths, more, deps.root_count(name))


def tree(
    project: Project,
    env: str,
    platform: str | None,
    *,
    depth: int | None = None,
    invert: str | None = None,
) -> tuple[DependencyGraph, list[TreeLine]]:
    """The dependency tree of *env* from its requested packages (or inverted from one)."""
    deps = dependency_graph(project, env, platform)
    return deps, deps.tree(depth=depth, invert=invert)
