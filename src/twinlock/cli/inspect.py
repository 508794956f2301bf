"""CLI commands that look inside a lock: graph, why, tree, overlap."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from twinlock.cli.app import (
    CompositionArg,
    CompositionOpt,
    JsonOpt,
    LocksDirOpt,
    PlatformsOpt,
    app,
    complete_environment,
    complete_package,
    complete_platform,
    handle_errors,
    open_given,
    pick,
)
from twinlock.cli.commands import split_values
from twinlock.errors import TwinlockError

PlatformOpt = Annotated[
    str | None,
    typer.Option(
        "--platform",
        "-p",
        help="Platform of the lock (default: its first platform).",
        autocompletion=complete_platform,
    ),
]
OneEnvOpt = Annotated[
    str | None,
    typer.Option("--env", "-e", help="Environment name.", autocompletion=complete_environment),
]
# conda users read -c as --channel: the composition's old short option stays for a
# release, hidden, with a deprecation note (cli.app.pick).
OldCompositionOpt = Annotated[Path | None, typer.Option("-c", hidden=True)]


@app.command("graph")
@handle_errors
def graph_command(
    composition: CompositionArg = None,
    composition_opt: CompositionOpt = None,
    env: Annotated[
        str | None,
        typer.Option(
            "--env", "-e", help="Environment to draw.", autocompletion=complete_environment
        ),
    ] = None,
    platform: PlatformOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="dot, json, mermaid or svg (needs Graphviz).")
    ] = "dot",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
    depth: Annotated[
        int | None,
        typer.Option(min=0, help="Only packages this many steps below the roots (0: roots only)."),
    ] = None,
    focus: Annotated[
        str | None, typer.Option(help="Only this package and its neighbourhood.")
    ] = None,
    radius: Annotated[int, typer.Option(min=1, help="Neighbourhood size for --focus.")] = 1,
    all_edges: Annotated[
        bool, typer.Option("--all-edges", help="Keep edges implied by longer paths.")
    ] = False,
    edge_labels: Annotated[
        bool | None,
        typer.Option(
            "--edge-labels/--no-edge-labels", help="Constraints on edges (default: small graphs)."
        ),
    ] = None,
    locks_dir: LocksDirOpt = None,
) -> None:
    """Export the dependency graph of one environment x platform.

    JSON is the whole graph unless --depth or --focus is given. Without them, a
    picture of more than 70 packages is cut to as many levels below the requested
    packages as stay within 70 (at least the requested packages themselves), and
    its title says so. Pictures drop edges implied by longer paths unless
    --all-edges; a Mermaid graph beyond Mermaid's limits (500 edges) keeps the
    packages nearest the requested ones and says so.
    """
    from twinlock.app.inspect import graph_view
    from twinlock.app.output import check_output, write_output
    from twinlock.graph import render as graphrender

    if fmt not in graphrender.GRAPH_FORMATS:
        raise TwinlockError(
            f"unknown --format '{fmt}'",
            f"use one of: {', '.join(graphrender.GRAPH_FORMATS)}",
        )
    check_output(output)
    project = open_given(composition, composition_opt, locks_dir=locks_dir)
    whole = fmt == "json"  # data for tools: whole unless --depth/--focus says otherwise
    drawn = graph_view(project, env, platform, depth=depth, focus=focus, radius=radius, whole=whole)
    shown = drawn.shown
    text = graphrender.render_graph(shown, fmt, all_edges=all_edges, edge_labels=edge_labels)
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_output(output, text)
        typer.echo(
            f"wrote {output} ({len(shown.graph)} of {len(drawn.full.graph)} packages)", err=True
        )


@app.command()
@handle_errors
def why(
    words: Annotated[
        list[str],
        typer.Argument(
            help="Package to explain (the older form ENV PACKAGE still works).",
            metavar="PACKAGE",
            autocompletion=complete_package,
            show_default=False,
        ),
    ],
    env: OneEnvOpt = None,
    platform: PlatformOpt = None,
    limit: Annotated[
        int, typer.Option(min=0, help="Show at most this many paths (0: every path).")
    ] = 10,
    composition: CompositionOpt = None,
    old_composition: OldCompositionOpt = None,
    locks_dir: LocksDirOpt = None,
) -> None:
    """Why is PACKAGE in --env: every path from a requested package to it, shortest first."""
    from twinlock.app.inspect import why as why_paths
    from twinlock.app.project import open_project
    from twinlock.graph import render as graphrender

    composition = pick(composition, old_composition, "-c", "--composition")
    env, package = _env_and_package(env, words)
    project = open_project(composition, locks_dir=locks_dir)
    answer = why_paths(project, env, package, platform, limit or None)
    typer.echo(
        graphrender.why_text(
            answer.graph, answer.name, answer.paths, more=answer.more, roots=answer.roots
        )
    )


@app.command()
@handle_errors
def tree(
    # Hidden (deprecated) but still in the usage line: click lists every argument there.
    old_env: Annotated[str | None, typer.Argument(hidden=True, metavar="ENV")] = None,
    env: OneEnvOpt = None,
    invert: Annotated[
        str | None,
        typer.Option(
            help="Show what depends on this package instead.", autocompletion=complete_package
        ),
    ] = None,
    depth: Annotated[int | None, typer.Option(min=0, help="Stop this many levels down.")] = None,
    platform: PlatformOpt = None,
    composition: CompositionOpt = None,
    old_composition: OldCompositionOpt = None,
    locks_dir: LocksDirOpt = None,
) -> None:
    """The dependency tree of --env from its requested packages (or inverted from one)."""
    from twinlock.app.inspect import tree as dependency_tree
    from twinlock.app.project import open_project
    from twinlock.graph import render as graphrender

    composition = pick(composition, old_composition, "-c", "--composition")
    env = pick(env, old_env, "the positional ENV", "--env ENV")
    if env is None:
        raise TwinlockError("tree needs an environment", "pass --env ENV (e.g. --env lab)")
    project = open_project(composition, locks_dir=locks_dir)
    deps, lines = dependency_tree(project, env, platform, depth=depth, invert=invert)
    typer.echo(graphrender.tree_text(deps, lines, inverted=invert is not None))


@app.command()
@handle_errors
def overlap(
    composition: CompositionArg = None,
    composition_opt: CompositionOpt = None,
    platform: PlatformsOpt = None,
    as_json: JsonOpt = False,
    locks_dir: LocksDirOpt = None,
) -> None:
    """Packages shared by environments (identical / build / version differs) and boundary pairs."""
    from twinlock.app.audit import run_overlap
    from twinlock.audit import overlaprender

    project = open_given(composition, composition_opt, locks_dir=locks_dir)
    results = run_overlap(project, split_values(platform))
    render = overlaprender.overlap_json if as_json else overlaprender.overlap_text
    typer.echo(render(project.composition.name, results), nl=not as_json)


def _env_and_package(env: str | None, words: list[str]) -> tuple[str, str]:
    """``why PACKAGE --env ENV``, or the deprecated ``why ENV PACKAGE``."""
    if len(words) == 2 and env is None:
        pick(None, words[0], "the positional ENV", "--env ENV")
        return words[0], words[1]
    if len(words) != 1:
        raise TwinlockError(
            f"why takes one PACKAGE, got {len(words)} words",
            "use: twinlock why PACKAGE --env ENV",
        )
    if env is None:
        raise TwinlockError("why needs an environment", f"use: twinlock why {words[0]} --env ENV")
    return env, words[0]
