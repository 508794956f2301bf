"""The dependency graph of one locked environment x platform.

A lock is a graph: each locked package is a node (version, build, channel),
each dependency an edge from the dependent to the dependency carrying the spec
that pulled it in (``libcurl -> libzlib`` with ``libzlib >=1.2.13,<2.0a0``).
Packages named by the lock's requirements are the *roots*; they carry the
requirement (and its provenance: who asked for it and why).

:class:`DependencyGraph` wraps a ``networkx.DiGraph`` that is never mutated
after construction: :meth:`limited` and :meth:`focused` return new graphs.
Queries (:meth:`paths_to` for ``twinlock why``, :meth:`tree` for
``twinlock tree``) return plain values that :mod:`twinlock.graph.render` turns
into text, DOT, Mermaid or JSON. Dependencies on virtual packages
(``__glibc``) and on anything not in the lock are not edges.

A PyPI layer adds nodes marked ``channel == build == "pypi"`` (keyed by their
normalised name, ``pypi:<name>`` if a conda package has the same name); their
dependencies are met by other PyPI nodes or by the conda package providing the
project. A PyPI requirement conda satisfies makes that conda node a root.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from twinlock.errors import LockFileError, TwinlockError, did_you_mean
from twinlock.model.composition import (
    Composition,
    Requirement,
    normalize_pypi_name,
    short_channel_name,
)
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock

if TYPE_CHECKING:
    import networkx as nx


_TOP = ("<requested>",)  # not a str: cannot clash with a package name


@dataclass(frozen=True)
class Node:
    """One locked package as the graph shows it."""

    name: str
    version: str
    build: str
    channel: str  # short name, e.g. conda-forge
    requests: tuple[Requirement, ...] = ()  # non-empty for roots

    @property
    def is_root(self) -> bool:
        return bool(self.requests)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class Step:
    """One edge of a path: *dependent* needs *spec*, met by *dependency*."""

    dependent: str
    spec: str
    dependency: str


@dataclass(frozen=True)
class WhyPath:
    """A path from a requested root down to the package asked about."""

    root: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class TreeLine:
    """One line of a printed tree: depth, package, the spec on the edge into it."""

    depth: int
    name: str
    spec: str | None  # None for the top of the tree
    repeated: bool = False  # already shown above: its subtree is not repeated
    truncated: bool = False  # has children beyond the depth limit


@dataclass(frozen=True)
class DependencyGraph:
    environment: str
    platform: str
    graph: nx.DiGraph[str]
    hidden: int = 0  # packages of the full graph left out by limited()/focused()
    cut: str = ""  # which part limited()/focused() kept, e.g. "around libzlib (radius 1)"

    @classmethod
    def from_lock(cls, lock: EnvironmentLock, platform: str | None = None) -> DependencyGraph:
        """The graph of *lock* on *platform* (default: the lock's only or first platform)."""
        import networkx as nx

        plat = lock.platform(platform or lock.platform_names[0])
        if plat is None:
            raise TwinlockError(
                f"environment '{lock.environment}' is not locked for {platform} "
                f"{did_you_mean(platform or '', lock.platform_names)}".rstrip(),
                f"pass --platform with one of: {', '.join(lock.platform_names)}",
            )
        requests: dict[str, list[Requirement]] = {}
        for req in lock.requirements:
            requests.setdefault(req.name, []).append(req)
        graph: nx.DiGraph[str] = nx.DiGraph()
        for pkg in plat.packages:
            graph.add_node(pkg.name, node=_node(pkg, tuple(requests.get(pkg.name, ()))))
        for pkg in plat.packages:
            for spec in pkg.depends:
                target = spec.split(" ", 1)[0].lower()
                if target in graph and target != pkg.name:
                    graph.add_edge(pkg.name, target, spec=spec)
        if plat.pypi:
            _add_pypi_layer(graph, lock, plat)
        return cls(lock.environment, plat.platform, graph)

    def node(self, name: str) -> Node:
        attrs: Mapping[str, Node] = self.graph.nodes[name]
        return attrs["node"]

    def keyed_nodes(self) -> list[tuple[str, Node]]:
        """(key, node), sorted by key: the key is the package name, ``pypi:<name>`` for a
        PyPI package whose name a conda package already has (edges use keys)."""
        return [(n, self.node(n)) for n in sorted(self.graph)]

    def edges(self) -> list[tuple[str, str, str]]:
        """(dependent, dependency, spec), sorted."""
        return sorted((a, b, str(data["spec"])) for a, b, data in self.graph.edges(data=True))

    @property
    def roots(self) -> list[str]:
        return sorted(n for n in self.graph if self.node(n).is_root)

    def require(self, name: str) -> str:
        """*name* normalised, or an error suggesting a near miss."""
        key = name.lower()
        if key not in self.graph and normalize_pypi_name(key) in self.graph:
            key = normalize_pypi_name(key)  # jupyter_client -> the PyPI node jupyter-client
        if key not in self.graph:
            raise TwinlockError(
                f"'{name}' is not in the lock of {self.environment} on {self.platform} "
                f"{did_you_mean(key, self.graph)}".rstrip(),
                f"name a package locked in {self.environment} (see twinlock tree "
                f"{self.environment})",
            )
        return key

    def root_count(self, name: str) -> int:
        """How many requested packages the paths to *name* start from (itself included)."""
        import networkx as nx

        target = self.require(name)
        above = nx.descendants(self._search_graph(target), target) | {target}
        return sum(1 for n in above if n in self.graph and self.node(str(n)).is_root)

    def limited(self, depth: int) -> DependencyGraph:
        """Only the packages within *depth* dependency steps of a root (0: roots only)."""
        import networkx as nx

        lengths = nx.multi_source_dijkstra_path_length(self.graph, self.roots, cutoff=depth)
        cut = f"within {depth} step(s) of the requested ones" if depth else "the requested ones"
        return self._sub(lengths, cut)

    def focused(self, name: str, radius: int = 1) -> DependencyGraph:
        """*name* and the packages within *radius* edges of it, in either direction."""
        import networkx as nx

        near = nx.single_source_shortest_path_length(
            self.graph.to_undirected(as_view=True), self.require(name), cutoff=radius
        )
        return self._sub(near, f"around {name} (radius {radius})")

    def reduced(self) -> DependencyGraph:
        """The same packages without edges implied by longer paths (for drawing).

        ``jupyterlab -> python`` goes when ``jupyterlab -> ipykernel -> python``
        exists. Computed on the condensation, so dependency cycles (python <->
        pip) keep their edges and reachability is unchanged.
        """
        import networkx as nx

        condensed = nx.condensation(self.graph)
        members: Mapping[str, int] = condensed.graph["mapping"]
        kept = nx.transitive_reduction(condensed)
        sub = self.graph.edge_subgraph(
            (a, b)
            for a, b in self.graph.edges
            if members[a] == members[b] or kept.has_edge(members[a], members[b])
        ).copy()
        sub.add_nodes_from(self.graph.nodes(data=True))
        return DependencyGraph(self.environment, self.platform, sub, self.hidden, self.cut)

    def subset(self, keep: Iterable[str], cut: str) -> DependencyGraph:
        """Only the packages *keep*; *cut* says which part that is (shown in titles)."""
        return self._sub(dict.fromkeys(keep), cut)

    def _sub(self, keep: Mapping[str, object], cut: str) -> DependencyGraph:
        sub = self.graph.subgraph(keep).copy()
        hidden = self.hidden + len(self.graph) - len(sub)
        return DependencyGraph(self.environment, self.platform, sub, hidden, cut)

    def paths_to(self, name: str, limit: int | None = None) -> tuple[list[WhyPath], bool]:
        """Paths from a root to *name*, shortest first, and whether more exist than *limit*.

        A path stops at the first root it meets from below: a root reached
        through another root is already explained by its own, shorter path.
        """
        target = self.require(name)
        stop = None if limit is None else limit + 1
        paths = list(itertools.islice(self._root_paths(target), stop))
        if limit is not None and len(paths) > limit:
            return paths[:limit], True
        return paths, False

    def _root_paths(self, target: str) -> Iterator[WhyPath]:
        import networkx as nx

        if self.node(target).is_root:
            yield WhyPath(target, ())
        search = self._search_graph(target)
        if not nx.has_path(search, target, _TOP):
            return
        for chain in nx.shortest_simple_paths(search, target, _TOP):
            names = [str(n) for n in reversed(chain[:-1])]
            if len(names) < 2:
                continue
            steps = tuple(
                Step(a, self.graph.edges[a, b]["spec"], b) for a, b in itertools.pairwise(names)
            )
            yield WhyPath(names[0], steps)

    def _search_graph(self, target: str) -> nx.DiGraph[object]:
        """The reversed graph, topped by a virtual node every root hangs from.

        Edges leaving a root upwards are cut (except from *target* itself).
        """
        import networkx as nx

        search: nx.DiGraph[object] = nx.DiGraph()
        search.add_nodes_from(self.graph)
        search.add_edges_from((b, a) for a, b in self.graph.edges)
        for root in self.roots:
            if root != target:
                search.remove_edges_from([(root, up) for up in list(search.successors(root))])
            search.add_edge(root, _TOP)
        return search

    def tree(self, depth: int | None = None, invert: str | None = None) -> list[TreeLine]:
        """Lines of the forward tree from every root, or of the tree of dependents of *invert*."""
        if invert is None:
            tops, down = self.roots, self.graph.successors
        else:
            tops, down = [self.require(invert)], self.graph.predecessors
        lines: list[TreeLine] = []
        shown: set[str] = set()

        def walk(name: str, level: int, spec: str | None, stack: frozenset[str]) -> None:
            children = sorted(down(name))
            repeated = name in shown and bool(children)
            truncated = depth is not None and level >= depth and bool(children)
            lines.append(TreeLine(level, name, spec, repeated, truncated and not repeated))
            shown.add(name)
            if repeated or truncated:
                return
            for child in children:
                if child not in stack:
                    edge = (name, child) if invert is None else (child, name)
                    walk(child, level + 1, self.graph.edges[edge]["spec"], stack | {child})

        for top in tops:
            walk(top, 0, None, frozenset({top}))
        return lines


def _node(pkg: LockedPackage, requests: tuple[Requirement, ...]) -> Node:
    return Node(pkg.name, pkg.version, pkg.build, short_channel_name(pkg.channel), requests)


def _add_pypi_layer(graph: nx.DiGraph[str], lock: EnvironmentLock, plat: PlatformLock) -> None:
    requests: dict[str, list[Requirement]] = {}
    for req in lock.pypi_requirements:
        requests.setdefault(req.name, []).append(req)
    conda = {normalize_pypi_name(n): n for n in graph}
    keys = {p.name: f"pypi:{p.name}" if p.name in graph else p.name for p in plat.pypi}
    for name, reqs in requests.items():
        if name not in keys and name in conda:  # asked on PyPI, provided by conda
            node: Node = graph.nodes[conda[name]]["node"]
            graph.nodes[conda[name]]["node"] = replace(node, requests=(*node.requests, *reqs))
    for pkg in plat.pypi:
        node = Node(pkg.name, pkg.version, "pypi", "pypi", tuple(requests.get(pkg.name, ())))
        graph.add_node(keys[pkg.name], node=node)
    for pkg in plat.pypi:
        for dep in pkg.depends:
            target = keys.get(dep) or conda.get(dep)
            if target is not None:
                graph.add_edge(keys[pkg.name], target, spec=dep)


# Above this many packages a picture is unreadable: draw only the first levels.
READABLE_NODES = 70


def view(
    graph: DependencyGraph,
    *,
    depth: int | None = None,
    focus: str | None = None,
    radius: int = 1,
    whole: bool = False,
) -> DependencyGraph:
    """The part of *graph* to show: a focus neighbourhood, a depth limit, or all of it.

    With neither option, a picture (not *whole*) of a graph larger than
    :data:`READABLE_NODES` is cut to the most levels below the roots that stay
    within that size (at least the roots themselves); the title says how many
    packages were hidden. Data for tools (*whole*: JSON) is never cut by default.
    """
    if focus is not None:
        if depth is not None:
            raise TwinlockError(
                "--depth and --focus cannot be combined",
                "use --focus PKG --radius N for a neighbourhood, or --depth N from the roots",
            )
        return graph.focused(focus, radius)
    if depth is not None:
        return graph.limited(depth)
    if whole or len(graph.graph) <= READABLE_NODES:
        return graph
    shown = graph.limited(0)
    for level in itertools.count(1):
        deeper = graph.limited(level)
        if len(deeper.graph) > READABLE_NODES or len(deeper.graph) == len(shown.graph):
            break
        shown = deeper
    return replace(shown, cut=f"{shown.cut}, cut by default to stay readable")


def lock_for(
    composition: Composition, locks: Mapping[str, EnvironmentLock], env: str
) -> EnvironmentLock:
    """The lock of environment *env* (a near-miss name is suggested)."""
    name = composition.environment(env).name
    lock = locks.get(name)
    if lock is None:
        raise LockFileError(
            f"environment '{name}' of {composition.source} has no lock yet",
            f"run twinlock lock {composition.source}",
        )
    return lock
