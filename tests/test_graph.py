"""The dependency graph of a lock: construction, why, tree, views and exports.

Built from a golden lock (tests/data/graph/kernel.conda-lock.yml: python 3.11,
requests with provenance, pyyaml, solved from the snapshot). Rendered outputs
are compared with golden files; regenerate them with TWINLOCK_REGEN_GOLDEN=1.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from tests.conftest import DATA, ProjectFactory
from twinlock.cli.main import app
from twinlock.errors import ExternalToolError, TwinlockError
from twinlock.graph import render as graphrender
from twinlock.graph import svg as graphviz
from twinlock.graph.model import READABLE_NODES, DependencyGraph, view
from twinlock.lock.format import parse_conda_lock
from twinlock.model.lock import EnvironmentLock

GOLDEN = DATA / "graph"
LOCK_FILE = GOLDEN / "kernel.conda-lock.yml"


@pytest.fixture(scope="module")
def lock() -> EnvironmentLock:
    return parse_conda_lock(LOCK_FILE.read_text(), source=str(LOCK_FILE))


@pytest.fixture(scope="module")
def graph(lock: EnvironmentLock) -> DependencyGraph:
    return DependencyGraph.from_lock(lock, "linux-64")


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("TWINLOCK_REGEN_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs (TWINLOCK_REGEN_GOLDEN=1 regenerates it)"


def test_nodes_edges_and_roots_come_from_the_lock(
    lock: EnvironmentLock, graph: DependencyGraph
) -> None:
    plat = lock.platforms[0]
    assert sorted(graph.graph) == sorted(p.name for p in plat.packages)
    assert graph.roots == sorted({r.name for r in lock.requirements})
    for pkg in plat.packages:
        node = graph.node(pkg.name)
        assert (node.version, node.build, node.channel) == (pkg.version, pkg.build, "conda-forge")
        for spec in pkg.depends:
            target = spec.split(" ", 1)[0]
            if target in graph.graph:
                assert graph.graph.edges[pkg.name, target]["spec"] == spec
    # Virtual packages (__glibc) are not nodes.
    assert not [n for n in graph.graph if n.startswith("__")]
    requests = graph.node("requests").requests
    assert [(r.requested_by, r.reason) for r in requests] == [
        ("data access team", "talks to the archive's HTTP API")
    ]


def test_why_paths_of_a_transitive_package(graph: DependencyGraph) -> None:
    paths, more = graph.paths_to("libzlib")
    assert not more and len(paths) >= 3
    lengths = [len(p.steps) for p in paths]
    assert lengths == sorted(lengths) and lengths[0] >= 1
    for path in paths:
        assert graph.node(path.root).is_root
        assert path.steps[0].dependent == path.root and path.steps[-1].dependency == "libzlib"
        for step, after in itertools.pairwise(path.steps):
            assert step.dependency == after.dependent
        for step in path.steps:
            assert step.spec == graph.graph.edges[step.dependent, step.dependency]["spec"]
            assert step.spec.startswith(step.dependency + " ")
    # Every path is distinct, and every root that reaches libzlib starts one.
    assert len({tuple(p.steps) for p in paths}) == len(paths)
    assert graph.root_count("libzlib") == len({p.root for p in paths})


def test_why_limit_and_provenance(graph: DependencyGraph) -> None:
    every, _ = graph.paths_to("libzlib")
    first, more = graph.paths_to("libzlib", limit=2)
    assert more and first == every[:2]
    paths, _ = graph.paths_to("idna")
    text = graphrender.why_text(graph, "idna", paths, more=False, roots=1)
    assert "requested by data access team: talks to the archive's HTTP API" in text
    _golden("why-idna.txt", text + "\n")


def test_why_of_a_root_shows_its_request_first(graph: DependencyGraph) -> None:
    paths, _ = graph.paths_to("python")
    assert paths[0].root == "python" and paths[0].steps == ()
    assert {p.root for p in paths[1:]} <= set(graph.roots) - {"python"}


def test_why_unknown_package_suggests_a_near_miss(graph: DependencyGraph) -> None:
    with pytest.raises(TwinlockError, match=r"'reqests' is not in the lock.*did you mean"):
        graph.paths_to("reqests")


def test_tree_invert(graph: DependencyGraph) -> None:
    lines = graph.tree(invert="idna")
    assert (lines[0].depth, lines[0].name, lines[0].spec) == (0, "idna", None)
    assert lines[1].name == "requests" and lines[1].spec is not None
    assert lines[1].spec.startswith("idna ")
    text = graphrender.tree_text(graph, graph.tree(invert="libzlib"), inverted=True)
    _golden("tree-invert-libzlib.txt", text + "\n")


def test_tree_forward_depth_and_repeats(graph: DependencyGraph) -> None:
    lines = graph.tree(depth=1)
    assert max(line.depth for line in lines) == 1
    assert [line.name for line in lines if line.depth == 0] == graph.roots
    assert any(line.truncated for line in lines)
    full = graph.tree()
    expanded = [ln.name for ln in full if not ln.repeated and any(graph.graph.successors(ln.name))]
    assert len(expanded) == len(set(expanded))  # a subtree is expanded once, then marked (*)
    assert any(line.repeated for line in full)


@pytest.mark.parametrize(
    ("depth", "expected_max"),
    [pytest.param(0, 0, id="roots-only"), pytest.param(1, 1, id="one-level")],
)
def test_limited_keeps_packages_near_the_roots(
    graph: DependencyGraph, depth: int, expected_max: int
) -> None:
    limited = graph.limited(depth)
    lengths = nx.multi_source_dijkstra_path_length(graph.graph, graph.roots)
    assert set(limited.graph) == {n for n, d in lengths.items() if d <= expected_max}
    assert limited.hidden == len(graph.graph) - len(limited.graph)


def test_focus_and_view(graph: DependencyGraph) -> None:
    focused = graph.focused("idna", radius=1)
    assert set(focused.graph) == {"idna", "requests", "python"}
    hidden = len(graph.graph) - 3
    assert (
        graphrender.to_mermaid(focused)
        .splitlines()[1]
        .endswith(
            f"3 packages, around idna (radius 1) ({hidden} more hidden: "
            'change --depth, or --focus PKG --radius N)"'
        )
    )
    assert view(graph) is graph  # small graphs are drawn whole
    with pytest.raises(TwinlockError, match="cannot be combined"):
        view(graph, depth=1, focus="idna")


def test_big_graphs_are_cut_to_a_readable_size(graph: DependencyGraph) -> None:
    big = nx.DiGraph(graph.graph)
    # Hang a long chain below pyyaml so the graph exceeds the readable size.
    node = graph.graph.nodes["yaml"]["node"]
    previous = "yaml"
    for i in range(READABLE_NODES):
        big.add_node(f"x{i}", node=node)
        big.add_edge(previous, f"x{i}", spec=f"x{i}")
        previous = f"x{i}"
    shown = view(DependencyGraph("kernel", "linux-64", big))
    assert len(shown.graph) <= READABLE_NODES and shown.hidden > 0


def test_reduced_drawing_keeps_reachability(graph: DependencyGraph) -> None:
    reduced = graph.reduced()
    assert set(reduced.graph) == set(graph.graph)
    assert reduced.graph.number_of_edges() < graph.graph.number_of_edges()
    for name in graph.graph:
        assert nx.descendants(reduced.graph, name) == nx.descendants(graph.graph, name)


@pytest.mark.parametrize(
    ("fmt", "golden"),
    [
        pytest.param("dot", "kernel.dot", id="dot"),
        pytest.param("mermaid", "kernel.mmd", id="mermaid"),
        pytest.param("json", "kernel.json", id="json"),
    ],
)
def test_exports_match_golden(graph: DependencyGraph, fmt: str, golden: str) -> None:
    _golden(golden, graphrender.render_graph(graph, fmt))


def test_json_export_has_every_edge_and_the_roots(graph: DependencyGraph) -> None:
    data = json.loads(graphrender.render_graph(graph, "json"))
    assert len(data["edges"]) == graph.graph.number_of_edges()
    assert sorted(n["name"] for n in data["nodes"] if n["root"]) == graph.roots


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_svg_through_graphviz(graph: DependencyGraph) -> None:
    svg = graphrender.render_graph(graph, "svg")
    assert "<svg" in svg and ">requests</text>" in svg


def test_svg_without_graphviz_is_a_clear_error(
    graph: DependencyGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graphviz.shutil, "which", lambda _: None)
    with pytest.raises(ExternalToolError, match="needs Graphviz's 'dot' program"):
        graphrender.render_graph(graph, "svg")


@pytest.fixture
def project_dir(make_project: ProjectFactory) -> Path:
    """A project whose only composition is mini.yaml, with the golden lock in place."""
    import yaml

    project = make_project(yaml.safe_load((GOLDEN / "mini.yaml").read_text()))
    project.paths.directory.mkdir(parents=True)
    shutil.copy(LOCK_FILE, project.paths.conda_lock("kernel"))
    return project.config.root


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        pytest.param(["why", "kernel", "idna"], 0, "requests 2.34.2 needs idna", id="why"),
        pytest.param(["tree", "kernel", "--invert", "idna"], 0, "└── requests", id="tree"),
        pytest.param(["graph", "--format", "mermaid"], 0, "flowchart LR", id="graph-one-env"),
        pytest.param(["graph", "--format", "png"], 2, "unknown --format 'png'", id="bad-format"),
        pytest.param(["why", "kernal", "idna"], 2, "did you mean 'kernel'", id="bad-env"),
        pytest.param(["why", "kernel", "idna", "-p", "osx-64"], 2, "not locked for", id="plat"),
    ],
)
def test_cli(
    project_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    code: int,
    expected: str,
) -> None:
    monkeypatch.chdir(project_dir)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    assert expected in result.output
    assert "Traceback" not in result.output


def test_cli_graph_writes_a_file(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project_dir)
    result = CliRunner().invoke(app, ["graph", "-e", "kernel", "-f", "json", "-o", "g.json"])
    assert result.exit_code == 0, result.output
    assert json.loads((project_dir / "g.json").read_text())["environment"] == "kernel"


# --- the bundled example (locks/rsp): every package drawn, every edge exported --------------

RSP = Path(__file__).resolve().parents[1] / "locks" / "rsp"
MERMAID_NODE = re.compile(r'^  (p_[A-Za-z0-9_]+)\["([^"]*)"\]$')
MERMAID_EDGE = re.compile(r"^  (p_[A-Za-z0-9_]+) --> (?:\|[^|]*\| )?(p_[A-Za-z0-9_]+)$")
MERMAID_DIR = Path(
    os.environ.get("TWINLOCK_MERMAID_DIR", Path(__file__).parents[1] / "build" / "mermaid")
)


def rsp_graph(env: str) -> DependencyGraph:
    path = RSP / f"{env}.conda-lock.yml"
    return DependencyGraph.from_lock(
        parse_conda_lock(path.read_text(), source=str(path)), "linux-64"
    )


def parse_mermaid(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Node ids with their labels, and edges, of a flowchart as to_mermaid writes it; every
    line must be one of its kinds and every node defined once."""
    nodes: dict[str, str] = {}
    edges = []
    head, body = text.split("flowchart LR\n")
    assert head.startswith("---\ntitle: ")
    for line in body.splitlines():
        if match := MERMAID_NODE.match(line):
            assert match[1] not in nodes, f"{match[1]} defined twice"
            nodes[match[1]] = match[2]
        elif match := MERMAID_EDGE.match(line):
            edges.append((match[1], match[2]))
        else:
            assert line.startswith(("  classDef ", "  class ")), line
    assert {n for edge in edges for n in edge} <= set(nodes)
    return nodes, edges


def test_lab_mermaid_has_every_package_as_its_own_node() -> None:
    full = rsp_graph("lab")
    assert {"typing-extensions", "typing_extensions"} <= set(full.graph)
    text = graphrender.render_graph(view(full, depth=1000), "mermaid")
    nodes, edges = parse_mermaid(text)
    assert len(nodes) == len(full.graph) == 166
    assert sorted(label.rsplit(" ", 1)[0] for label in nodes.values()) == sorted(full.graph)
    assert len(edges) == full.reduced().graph.number_of_edges()
    dot = graphrender.render_graph(view(full, depth=1000), "dot")
    dot_nodes = re.findall(r'^  ("(?:[^"\\]|\\.)*") \[label=', dot, flags=re.MULTILINE)
    assert len(dot_nodes) == len(set(dot_nodes)) == 166
    assert {'"typing-extensions"', '"typing_extensions"'} <= set(dot_nodes)


def test_payload_mermaid_is_cut_to_mermaids_limits_and_says_so() -> None:
    full = rsp_graph("payload")
    assert full.reduced().graph.number_of_edges() > graphrender.MERMAID_MAX_EDGES
    text = graphrender.render_graph(view(full, depth=1000), "mermaid")
    nodes, edges = parse_mermaid(text)
    assert len(edges) <= graphrender.MERMAID_MAX_EDGES
    assert len(text) <= graphrender.MERMAID_MAX_TEXT
    assert 0 < len(nodes) < len(full.graph)
    title = text.splitlines()[1]
    assert "cut to fit Mermaid's limits" in title and "--format dot or json" in title
    assert f"({len(full.graph) - len(nodes)} more hidden" in title


@pytest.mark.parametrize("env", ["lab", "payload"])
def test_mermaid_parser_accepts_the_bundled_graphs(env: str, tmp_path: Path) -> None:
    """Mermaid's own parser (``make mermaid-parser`` installs it; skipped without it)."""
    if shutil.which("node") is None or not (MERMAID_DIR / "node_modules" / "mermaid").is_dir():
        pytest.skip("Mermaid's parser is not installed (make mermaid-parser)")
    full = rsp_graph(env)
    path = tmp_path / f"{env}.mmd"
    path.write_text(graphrender.render_graph(view(full, depth=1000), "mermaid"))
    script = Path(__file__).parent / "mermaid_parse.mjs"
    run = subprocess.run(
        ["node", str(script), str(MERMAID_DIR), str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(run.stdout)
    assert result["ok"], result
    nodes, edges = parse_mermaid(path.read_text())
    assert (result["nodes"], result["edges"]) == (len(nodes), len(edges))


def test_payload_json_is_the_whole_graph_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(RSP.parents[1])
    result = CliRunner().invoke(app, ["graph", "-e", "payload", "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    path = RSP / "payload.conda-lock.yml"
    (plat,) = [
        p
        for p in parse_conda_lock(path.read_text(), source=str(path)).platforms
        if p.platform == "linux-64"
    ]
    names = {p.name for p in plat.packages}
    assert len(data["nodes"]) == len(names) == 547 and data["hidden"] == 0
    assert {n["id"] for n in data["nodes"]} == names
    lock_edges = {
        (p.name, spec.split(" ", 1)[0])
        for p in plat.packages
        for spec in p.depends
        if spec.split(" ", 1)[0] in names and spec.split(" ", 1)[0] != p.name
    }
    assert {(e["from"], e["to"]) for e in data["edges"]} == lock_edges
    # A picture of the same graph is still cut by default, and its title says so.
    dot = CliRunner().invoke(app, ["graph", "-e", "payload", "-f", "dot"]).stdout
    assert "cut by default to stay readable" in dot and "more hidden" in dot


@pytest.mark.parametrize(
    "names",
    [
        pytest.param(["typing-extensions", "typing_extensions"], id="dash-underscore"),
        pytest.param(["a.b", "a_b", "a-b", "a_2eb"], id="escape-looks-alike"),
        pytest.param(["end", "graph", "x"], id="keywords"),
    ],
)
def test_mermaid_ids_are_unique_per_name(names: list[str]) -> None:
    ids = [graphrender._mermaid_id(n) for n in names]
    assert len(set(ids)) == len(names)
    assert all(re.fullmatch(r"p_[A-Za-z0-9_]+", i) for i in ids)
