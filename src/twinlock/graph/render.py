"""Renderings of a :class:`~twinlock.graph.model.DependencyGraph`: DOT, Mermaid, JSON and text.

Pure functions from graph values to strings; the CLI prints or writes them
(SVG goes through :mod:`twinlock.graph.svg`). Requested roots stand out in
every format (filled boxes in DOT and Mermaid, ``"root": true`` in JSON,
``[requested: ...]`` in text). Edge labels show only the constraint, since the
target node already names the package.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence

from twinlock.graph.model import DependencyGraph, Node, TreeLine, WhyPath
from twinlock.model.composition import Requirement

GRAPH_FORMATS = ("dot", "json", "mermaid", "svg")
# Mermaid's default renderer limits (maxEdges, maxTextSize): GitHub will not draw more.
MERMAID_MAX_EDGES = 500
MERMAID_MAX_TEXT = 50_000
# Pictures with more packages than this leave constraints off the edges.
LABELLED_NODES = 40


def constraint(spec: str) -> str:
    """``libzlib >=1.2.13,<2.0a0`` -> ``>=1.2.13,<2.0a0`` (``*`` when unconstrained)."""
    return spec.partition(" ")[2].strip() or "*"


def _title(graph: DependencyGraph) -> str:
    text = f"{graph.environment} on {graph.platform}: {len(graph.graph)} packages"
    if graph.cut:
        text += f", {graph.cut}"
    if graph.hidden:
        text += f" ({graph.hidden} more hidden: change --depth, or --focus PKG --radius N)"
    return text


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: DependencyGraph, *, edge_labels: bool = True) -> str:
    """Graphviz DOT, left to right, roots filled."""
    lines = [
        f"digraph {_dot_quote(graph.environment)} {{",
        f"  label={_dot_quote(_title(graph))}; labelloc=t; fontsize=20; fontname=Helvetica;",
        # pack: unconnected packages tile beside the main drawing, not in one tall column.
        '  rankdir=LR; ranksep=0.6; nodesep=0.15; pack=true; packmode="array_u";',
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica",'
        " fontsize=11];",
        '  edge [color="#8899aa", arrowsize=0.6, fontname="Helvetica", fontsize=8,'
        ' fontcolor="#556677"];',
    ]
    for key, node in graph.keyed_nodes():
        style = ', fillcolor="#cfe3ff", penwidth=1.6' if node.is_root else ""
        label = f"{_dot_quote(node.name)[:-1]}\\n{_dot_quote(node.version)[1:]}"
        lines.append(f"  {_dot_quote(key)} [label={label}{style}];")
    for a, b, spec in graph.edges():
        attrs = f" [label={_dot_quote(constraint(spec))}]" if edge_labels else ""
        lines.append(f"  {_dot_quote(a)} -> {_dot_quote(b)}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_id(key: str) -> str:
    """A Mermaid node id unique per package key: letters and digits as they are, every
    other character escaped (``_`` -> ``_5f``, ``-`` -> ``_2d``), so ``typing-extensions``
    and ``typing_extensions`` stay two nodes; the prefix keeps ids off keywords (``end``)."""
    return "p_" + re.sub(
        r"[^A-Za-z0-9]", lambda m: "".join(f"_{b:02x}" for b in m[0].encode()), key
    )


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("|", "#124;")


def to_mermaid(graph: DependencyGraph, *, edge_labels: bool = True) -> str:
    """A Mermaid flowchart (renders on GitHub and in most Markdown viewers)."""
    # Front matter: Mermaid draws the title above the graph (a %% comment would not show).
    title = json.dumps(_title(graph))  # a YAML double-quoted string
    lines = ["---", f"title: {title}", "---", "flowchart LR"]
    for key, node in graph.keyed_nodes():
        lines.append(f'  {_mermaid_id(key)}["{_mermaid_text(node.label)}"]')
    for a, b, spec in graph.edges():
        label = f'|"{_mermaid_text(constraint(spec))}"| ' if edge_labels else ""
        lines.append(f"  {_mermaid_id(a)} --> {label}{_mermaid_id(b)}")
    roots = [_mermaid_id(n) for n in graph.roots]
    if roots:
        lines.append("  classDef root fill:#cfe3ff,stroke:#335,stroke-width:2px")
        lines.append(f"  class {','.join(roots)} root")
    return "\n".join(lines) + "\n"


def _mermaid_within_limits(graph: DependencyGraph, *, edge_labels: bool) -> str:
    """Mermaid text that its renderer accepts: past :data:`MERMAID_MAX_EDGES` edges or
    :data:`MERMAID_MAX_TEXT` characters, only the packages nearest the roots that fit,
    with a title saying so and where the rest is."""

    @functools.cache  # the search asks about the count it returns, and so does the result
    def text(count: int) -> str:
        shown = graph if count == len(order) else graph.subset(order[:count], cut)
        return to_mermaid(shown, edge_labels=edge_labels)

    def fits(count: int) -> bool:
        sub = graph.graph.subgraph(order[:count])
        return sub.number_of_edges() <= MERMAID_MAX_EDGES and len(text(count)) <= MERMAID_MAX_TEXT

    order = _nearest_roots_first(graph)
    cut = (
        f"cut to fit Mermaid's limits ({MERMAID_MAX_EDGES} edges, {MERMAID_MAX_TEXT} "
        "characters); --format dot or json has every package"
    )
    if fits(len(order)):
        return text(len(order))
    low, high = 0, len(order) - 1  # the largest count that fits is in [low, high]
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    return text(low)


def _nearest_roots_first(graph: DependencyGraph) -> list[str]:
    """Every package, by its distance from the nearest root (either direction), then by key."""
    import networkx as nx

    tops = graph.roots or sorted(graph.graph, key=lambda n: -graph.graph.degree(n))[:1]
    distance = nx.multi_source_dijkstra_path_length(graph.graph.to_undirected(), tops)
    return sorted(graph.graph, key=lambda n: (distance.get(n, len(graph.graph)), n))


def _node_json(key: str, node: Node) -> dict[str, object]:
    return {
        "id": key,  # what edges' "from" and "to" name
        "name": node.name,
        "version": node.version,
        "build": node.build,
        "channel": node.channel,
        "root": node.is_root,
        "requested": [_request_json(r) for r in node.requests],
    }


def _request_json(req: Requirement) -> dict[str, str]:
    out = {"spec": req.spec}
    if req.requested_by:
        out["requested-by"] = req.requested_by
    if req.reason:
        out["reason"] = req.reason
    return out


def to_json(graph: DependencyGraph) -> str:
    data = {
        "environment": graph.environment,
        "platform": graph.platform,
        "hidden": graph.hidden,
        "nodes": [_node_json(k, n) for k, n in graph.keyed_nodes()],
        "edges": [{"from": a, "to": b, "spec": s} for a, b, s in graph.edges()],
    }
    return json.dumps(data, indent=2) + "\n"


def render_graph(
    graph: DependencyGraph,
    fmt: str,
    *,
    all_edges: bool = False,
    edge_labels: bool | None = None,
) -> str:
    """*graph* in one of :data:`GRAPH_FORMATS` (svg runs Graphviz).

    Pictures drop edges implied by longer paths unless *all_edges*; JSON always
    has every edge. Edge labels default to on for small pictures only.
    """
    if fmt == "json":
        return to_json(graph)
    if not all_edges:
        graph = graph.reduced()
    labels = len(graph.graph) <= LABELLED_NODES if edge_labels is None else edge_labels
    if fmt == "mermaid":
        return _mermaid_within_limits(graph, edge_labels=labels)
    text = to_dot(graph, edge_labels=labels)
    if fmt == "svg":
        from twinlock.graph.svg import render_svg

        return render_svg(text)
    return text


def provenance(req: Requirement) -> str:
    """``"jupyterlab >=4,<5" (requested by X: reason)`` or just the quoted spec."""
    extra = []
    if req.requested_by:
        extra.append(f"requested by {req.requested_by}")
    if req.reason:
        extra.append(req.reason)
    return f'"{req.spec}"' + (f" ({': '.join(extra)})" if extra else "")


def why_text(
    graph: DependencyGraph, name: str, paths: Sequence[WhyPath], *, more: bool, roots: int
) -> str:
    """Numbered paths, one edge per line, with each root's request and provenance."""
    node = graph.node(name)
    head = f"{node.name} {node.version} ({node.build}) in {graph.environment} on {graph.platform}"
    if not paths:
        return f"{head}: not reachable from any requested package (an orphan of the lock)"
    count = f"{len(paths)}{'+' if more else ''} path(s)"
    lines = [
        f"{head}: {count} from {roots} requested package(s), shortest first",
        "(a path starts at the nearest requested package above it)",
        "",
    ]
    width = len(str(len(paths)))
    for i, path in enumerate(paths, 1):
        root = graph.node(path.root)
        requests = " and ".join(provenance(r) for r in root.requests)
        lines.append(f"{i:>{width}}. {root.name} {root.version}  <- requested: {requests}")
        for step in path.steps:
            dependent = graph.node(step.dependent)
            pad = " " * (width + 2)
            lines.append(f"{pad}{dependent.name} {dependent.version} needs {step.spec}")
    if more:
        lines += ["", "(more paths exist; raise --limit to see them, or --limit 0 for all)"]
    return "\n".join(lines)


def tree_text(graph: DependencyGraph, lines: Sequence[TreeLine], *, inverted: bool) -> str:
    """A drawn tree; ``(*)`` marks a subtree shown above, ``...`` one cut by --depth."""
    legend = "(*) shown above, ... cut by --depth"
    out = [f"{_title(graph)}; {legend}"]
    open_levels: list[bool] = []  # per depth: do more siblings follow?
    for i, line in enumerate(lines):
        last = _is_last(lines, i)
        del open_levels[line.depth :]
        rails = "".join("│   " if more else "    " for more in open_levels[1:])
        branch = "" if line.depth == 0 else ("└── " if last else "├── ")
        open_levels.append(not last)
        out.append(rails + branch + _tree_label(graph, line, inverted))
    return "\n".join(out)


def _is_last(lines: Sequence[TreeLine], index: int) -> bool:
    depth = lines[index].depth
    for later in lines[index + 1 :]:
        if later.depth <= depth:
            return later.depth < depth
    return True


def _tree_label(graph: DependencyGraph, line: TreeLine, inverted: bool) -> str:
    node = graph.node(line.name)
    text = f"{node.name} {node.version}"
    if line.spec is not None:
        wanted = constraint(line.spec).replace("*", "any") if line.spec == line.name else None
        text += f"  (needs {line.spec})" if inverted else f"  ({wanted or constraint(line.spec)})"
    if node.is_root:
        text += f"  [requested: {', '.join(r.spec for r in node.requests)}]"
    if line.repeated:
        text += " (*)"
    if line.truncated:
        text += " ..."
    return text
