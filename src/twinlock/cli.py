"""The ``twinlock`` command line: parse arguments, call the library, render.

Heavy modules (rattler, conda-lock) are imported inside commands so that
``twinlock --help`` starts quickly.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from twinlock.errors import TwinlockError

if TYPE_CHECKING:
    from twinlock.lockmodel import EnvironmentLock

app = typer.Typer(
    name="twinlock",
    help="Compose, solve and lock isolated conda environments that live side by side.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])

CompositionArg = Annotated[
    Path | None,
    typer.Argument(
        help="Composition file (default: [project] composition, or the only envs/*.yaml)."
    ),
]
LocksDirOpt = Annotated[
    Path | None, typer.Option("--locks-dir", help="Directory holding <composition>/ lock dirs.")
]
MirrorOpt = Annotated[
    list[str] | None,
    typer.Option("--mirror", metavar="CHANNEL=DIR", help="Read CHANNEL from a local directory."),
]
EnvOpt = Annotated[
    list[str] | None, typer.Option("--env", "-e", help="Only these environments (repeatable).")
]


def handle_errors(func: F) -> F:
    """Turn a TwinlockError into 'error: ... / hint: ...' on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from twinlock import render

        try:
            return func(*args, **kwargs)
        except TwinlockError as exc:
            typer.echo(render.error(exc), err=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


def _split(values: list[str] | None) -> list[str]:
    return [v for item in values or [] for v in item.replace(",", " ").split()]


@app.command()
@handle_errors
def lock(
    composition: CompositionArg = None,
    env: EnvOpt = None,
    update: Annotated[
        list[str] | None,
        typer.Option(
            "--update",
            "-u",
            metavar="PKG",
            help="Let only these packages move (repeat or comma-separate).",
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Ignore existing locks; solve everything.")
    ] = False,
    locks_dir: LocksDirOpt = None,
    mirror: MirrorOpt = None,
) -> None:
    """Solve every environment x platform and write conda-lock and @EXPLICIT files."""
    from twinlock import render, workflows
    from twinlock.conflicts import ConflictsError

    project = workflows.open_project(composition, locks_dir=locks_dir, mirrors=mirror or [])
    try:
        report = workflows.run_lock(
            project, environments=_split(env), update=_split(update), full=full
        )
    except ConflictsError as exc:
        typer.echo(render.conflict_reports(exc.reports), err=True)
        raise
    typer.echo(render.lock_report(report, Path.cwd()))


@app.command()
@handle_errors
def check(
    composition: CompositionArg = None,
    locks_dir: LocksDirOpt = None,
) -> None:
    """Exit 0 when every lock is fresh and consistent, 1 listing what is stale and why."""
    from twinlock import render, workflows

    project = workflows.open_project(composition, locks_dir=locks_dir)
    findings = workflows.run_check(project)
    checked = sum(len(e.platforms) for e in project.composition.environments)
    typer.echo(render.check_report(findings, checked))
    if findings:
        raise typer.Exit(1)


@app.command()
@handle_errors
def rebuild(
    composition: CompositionArg = None,
    from_: Annotated[
        list[str] | None,
        typer.Option(
            "--from",
            metavar="LOCKS_OR_REV",
            help="Historical locks: a lock dir, a lock file, a git revision, or ENV=FILE "
            "(an @EXPLICIT or conda-lock file to import). Repeatable.",
        ),
    ] = None,
    refresh: Annotated[
        list[str] | None,
        typer.Option("--refresh", metavar="ENV", help="Solve these environments anew."),
    ] = None,
    update: Annotated[
        list[str] | None,
        typer.Option("--update", metavar="ENV:PKG", help="Let only these packages move."),
    ] = None,
    snapshot: Annotated[
        str | None,
        typer.Option(
            "--snapshot", metavar="DATE", help="Snapshot for refreshed/updated solves (ISO date)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the diff, write nothing.")
    ] = False,
    locks_dir: LocksDirOpt = None,
    mirror: MirrorOpt = None,
) -> None:
    """Maintenance rebuild: keep historical environments exactly, refresh or update the rest."""
    from twinlock import maintenance, render, workflows
    from twinlock.rebuild import RebuildOptions

    project = workflows.open_project(composition, locks_dir=locks_dir, mirrors=mirror or [])
    options = RebuildOptions.parse(_split(refresh), _split(update), _snapshot(snapshot))
    report = maintenance.run_rebuild(project, sources=from_ or [], options=options, dry_run=dry_run)
    typer.echo(render.rebuild_report(report, Path.cwd()))


def _snapshot(text: str | None) -> Any:
    import datetime as dt

    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise TwinlockError(
            f"--snapshot {text!r}: not an ISO date or date-time", "e.g. --snapshot 2026-10-01"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


tag_app = typer.Typer(help="Rubin Science Platform image tags: parse, sort, compose.")
app.add_typer(tag_app, name="tag")
AliasOpt = Annotated[
    list[str] | None, typer.Option("--alias", help="Tags to treat as aliases (e.g. recommended).")
]


@tag_app.command("parse")
@handle_errors
def tag_parse(tags: list[str], alias: AliasOpt = None) -> None:
    """Category and display name of each tag; exit 2 naming the wrong part of an invalid one."""
    from twinlock import render
    from twinlock.tags import parse_tag

    typer.echo(render.tag_table([parse_tag(t, aliases=alias or []) for t in tags]))


@tag_app.command("sort")
@handle_errors
def tag_sort(tags: list[str], alias: AliasOpt = None) -> None:
    """Group tags by category and list each category newest first."""
    from twinlock import render
    from twinlock.tags import parse_tag, sort_tags

    typer.echo(render.tag_table(sort_tags(parse_tag(t, aliases=alias or []) for t in tags)))


@tag_app.command("compose")
@handle_errors
def tag_compose(
    payload_tag: Annotated[str, typer.Argument(help="The payload's version tag, e.g. r29_2_0.")],
    build: Annotated[int | None, typer.Option("--build", help="Build number N (_rspN).")] = None,
    built_at: Annotated[
        str | None, typer.Option("--built-at", help="Build time; N becomes YYYYMMDDHHMM (UTC).")
    ] = None,
    existing: Annotated[
        list[str] | None,
        typer.Option("--existing", help="Tags already published (never reused)."),
    ] = None,
    arch: Annotated[str | None, typer.Option("--arch", help="amd64 or arm64.")] = None,
) -> None:
    """The tag of a (maintenance) build of PAYLOAD_TAG: <version>_rsp<N>, sorting after all."""
    from twinlock.tags import compose_tag

    tag = compose_tag(
        payload_tag,
        build=build,
        built_at=_snapshot(built_at) if built_at else None,
        existing=_split(existing),
        arch=arch,
    )
    typer.echo(tag.tag)


PlatformOpt = Annotated[
    str | None,
    typer.Option("--platform", "-p", help="Platform of the lock (default: its first platform)."),
]
CompositionOpt = Annotated[
    Path | None,
    typer.Option("--composition", "-c", help="Composition file (default as for 'lock')."),
]


def _env_lock(composition: Path | None, locks_dir: Path | None, env: str | None) -> EnvironmentLock:
    """The lock of *env* (the only environment when *env* is None)."""
    from twinlock import files, graph, workflows

    project = workflows.open_project(composition, locks_dir=locks_dir)
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
    return graph.lock_for(project.composition, files.read_locks(project.paths, [name]), name)


@app.command("graph")
@handle_errors
def graph_command(
    composition: CompositionArg = None,
    env: Annotated[str | None, typer.Option("--env", "-e", help="Environment to draw.")] = None,
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

    Without --depth or --focus, a graph of more than 70 packages is cut to as
    many levels below the requested packages as stay within 70 (at least the
    requested packages themselves). Pictures drop edges implied by longer paths
    unless --all-edges.
    """
    from twinlock import files, graph, graphrender

    lock = _env_lock(composition, locks_dir, env)
    if fmt not in graphrender.GRAPH_FORMATS:
        raise TwinlockError(
            f"unknown --format '{fmt}'",
            f"use one of: {', '.join(graphrender.GRAPH_FORMATS)}",
        )
    full = graph.DependencyGraph.from_lock(lock, platform)
    shown = graph.view(full, depth=depth, focus=focus, radius=radius)
    text = graphrender.render_graph(shown, fmt, all_edges=all_edges, edge_labels=edge_labels)
    if output is None:
        typer.echo(text, nl=False)
    else:
        files.write_text_atomic(output, text)
        typer.echo(f"wrote {output} ({len(shown.graph)} of {len(full.graph)} packages)", err=True)


DIFF_FORMATS = ("text", "markdown", "json")


RootOpt = Annotated[
    Path,
    typer.Option(
        "--root", help="Staging root: environments go to ROOT/<prefix> (files refer to <prefix>)."
    ),
]
InstallPlatformOpt = Annotated[
    str | None, typer.Option("--platform", help="Platform lock to use (default: this machine).")
]


@app.command()
@handle_errors
def diff(
    old: Annotated[
        str | None,
        typer.Argument(help="Old locks: a lock directory, a .conda-lock.yml, or REV1..REV2."),
    ] = None,
    new: Annotated[
        str | None,
        typer.Argument(help="New locks (with --git or REV1..REV2: the PATH to compare)."),
    ] = None,
    git: Annotated[
        str | None,
        typer.Option("--git", metavar="REV", help="Compare PATH at git REV with the working tree."),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="text, markdown or json.")
    ] = "text",
    exit_code: Annotated[
        bool,
        typer.Option("--exit-code", help="Exit 0 when identical, 1 on changes, 3 on a hash alarm."),
    ] = False,
) -> None:
    """What changed between two sets of locks, per environment and platform."""
    import os
    import shutil
    import sys

    from twinlock import diff as lockdiff
    from twinlock import diffrender, locksources, workflows
    from twinlock.errors import TwinlockError, did_you_mean

    if output_format not in DIFF_FORMATS:
        raise TwinlockError(
            f"--format {output_format}: unknown format "
            f"{did_you_mean(output_format, DIFF_FORMATS)}".rstrip(),
            f"choose one of: {', '.join(DIFF_FORMATS)}",
        )
    sides = locksources.diff_sides(
        old, new, git=git, default_path=lambda: workflows.open_project(None).paths.directory
    )
    result = lockdiff.diff_lock_sets(*sides)
    if output_format == "json":
        text = diffrender.render_json(result)
    elif output_format == "markdown":
        text = diffrender.render_markdown(result)
    else:
        color = diffrender.use_color(sys.stdout.isatty(), os.environ)
        width = shutil.get_terminal_size((100, 24)).columns
        text = diffrender.render_text(result, color=color, width=width)
    typer.echo(text, nl=False)
    if exit_code and result.exit_code:
        raise typer.Exit(result.exit_code)


@app.command()
@handle_errors
def explain(
    composition: CompositionArg = None,
    env: EnvOpt = None,
    platform: Annotated[
        list[str] | None,
        typer.Option("--platform", "-p", help="Only these platforms (repeatable)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (stable shape, version 1).")
    ] = False,
    time_limit: Annotated[
        float,
        typer.Option("--time-limit", metavar="S", min=0, help="Stop searching after S seconds."),
    ] = 60.0,
    mirror: MirrorOpt = None,
) -> None:
    """Say why environments do not solve: absent names, minimal conflicts, hints.

    Exit 0 when every selected environment x platform solves, 1 otherwise.
    """
    from twinlock import render, workflows

    project = workflows.open_project(composition, mirrors=mirror or [])
    reports = workflows.run_explain(
        project, environments=_split(env), platforms=_split(platform), time_limit=time_limit
    )
    render_reports = render.conflict_reports_json if as_json else render.conflict_reports
    typer.echo(render_reports(reports))
    if not all(r.solvable for r in reports):
        raise typer.Exit(1)


@app.command()
@handle_errors
def why(
    env: Annotated[str, typer.Argument(help="Environment name.")],
    package: Annotated[str, typer.Argument(help="Package to explain.")],
    platform: PlatformOpt = None,
    limit: Annotated[
        int, typer.Option(min=0, help="Show at most this many paths (0: every path).")
    ] = 10,
    composition: CompositionOpt = None,
    locks_dir: LocksDirOpt = None,
) -> None:
    """Why is PACKAGE in ENV: every path from a requested package to it, shortest first."""
    from twinlock import graph, graphrender

    lock = _env_lock(composition, locks_dir, env)
    deps = graph.DependencyGraph.from_lock(lock, platform)
    name = deps.require(package)
    paths, more = deps.paths_to(name, limit or None)
    typer.echo(graphrender.why_text(deps, name, paths, more=more, roots=deps.root_count(name)))


@app.command()
@handle_errors
def tree(
    env: Annotated[str, typer.Argument(help="Environment name.")],
    invert: Annotated[
        str | None, typer.Option(help="Show what depends on this package instead.")
    ] = None,
    depth: Annotated[int | None, typer.Option(min=0, help="Stop this many levels down.")] = None,
    platform: PlatformOpt = None,
    composition: CompositionOpt = None,
    locks_dir: LocksDirOpt = None,
) -> None:
    """The dependency tree of ENV from its requested packages (or inverted from one package)."""
    from twinlock import graph, graphrender

    lock = _env_lock(composition, locks_dir, env)
    deps = graph.DependencyGraph.from_lock(lock, platform)
    lines = deps.tree(depth=depth, invert=invert)
    typer.echo(graphrender.tree_text(deps, lines, inverted=invert is not None))


@app.command()
@handle_errors
def overlap(
    composition: CompositionArg = None,
    platform: Annotated[
        list[str] | None, typer.Option("--platform", "-p", help="Only these platforms.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    locks_dir: LocksDirOpt = None,
) -> None:
    """Packages shared by environments (identical / build / version differs) and boundary pairs."""
    from twinlock import overlap as overlap_mod
    from twinlock import overlaprender, workflows

    project = workflows.open_project(composition, locks_dir=locks_dir)
    locks = project.read_locks()
    ordered = [locks[e.name] for e in project.composition.environments if e.name in locks]
    results = overlap_mod.overlap(ordered, _split(platform))
    render = overlaprender.overlap_json if as_json else overlaprender.overlap_text
    typer.echo(render(project.composition.name, results), nl=not as_json)


@app.command()
@handle_errors
def sbom(
    composition: CompositionArg = None,
    env: EnvOpt = None,
    platform: Annotated[
        list[str] | None, typer.Option("--platform", "-p", help="Only these platforms.")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="SBOM format: cyclonedx-json.")
    ] = "cyclonedx-json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the SBOM here (default: stdout).")
    ] = None,
    locks_dir: LocksDirOpt = None,
) -> None:
    """A CycloneDX SBOM of the locked packages (one component per package and platform)."""
    import datetime as dt

    from twinlock import files, workflows
    from twinlock import sbom as sbom_lib

    sbom_lib.check_format(output_format)
    project = workflows.open_project(composition, locks_dir=locks_dir)
    locks = sbom_lib.select_locks(
        project.composition, project.read_locks(), _split(env), _split(platform)
    )
    text = sbom_lib.render_sbom(project.composition.name, locks, timestamp=dt.datetime.now(dt.UTC))
    if output is None:
        typer.echo(text)
        return
    files.write_text_atomic(output, text + "\n")
    count = sum(len(p.packages) for lock in locks for p in lock.platforms)
    typer.echo(f"wrote {output} ({count} components)")


@app.command()
@handle_errors
def install(
    composition: CompositionArg = None,
    env: EnvOpt = None,
    platform: InstallPlatformOpt = None,
    root: RootOpt = Path("/"),
    force: Annotated[
        bool, typer.Option("--force", help="Replace prefixes that hold something else.")
    ] = False,
    cache: Annotated[
        list[Path] | None,
        typer.Option("--cache", metavar="DIR", help="Also look for archives in DIR (repeatable)."),
    ] = None,
    locks_dir: LocksDirOpt = None,
    mirror: MirrorOpt = None,
) -> None:
    """Install each environment's locked packages into ROOT/<prefix>, hash-verified."""
    from twinlock import deploy, render, workflows

    project = workflows.open_project(composition, locks_dir=locks_dir, mirrors=mirror or [])
    with _install_progress() as progress:
        report = deploy.run_install(
            project,
            root=root,
            environments=_split(env),
            platform=platform,
            force=force,
            caches=cache or [],
            progress=progress,
        )
    typer.echo(render.install_report(report, Path.cwd()))


def _install_progress() -> Any:
    """A rich progress display fed by install events (one bar per environment)."""
    import contextlib

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    bars = Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[phase]} {task.fields[package]}"),
        transient=True,
        console=console,
        disable=not console.is_terminal,
    )
    tasks: dict[str, Any] = {}

    def on_event(event: Any) -> None:
        if event.environment not in tasks:
            tasks[event.environment] = bars.add_task(
                event.environment, total=event.total, phase="", package=""
            )
        bars.update(
            tasks[event.environment],
            completed=event.done,
            total=event.total,
            phase=event.phase,
            package=event.package,
        )

    @contextlib.contextmanager
    def running() -> Any:
        with bars:
            yield on_event

    return running()


@app.command()
@handle_errors
def verify(
    composition: CompositionArg = None,
    env: EnvOpt = None,
    platform: InstallPlatformOpt = None,
    root: RootOpt = Path("/"),
    deep: Annotated[
        bool, typer.Option("--deep", help="Also hash every installed file against conda-meta.")
    ] = False,
    locks_dir: LocksDirOpt = None,
) -> None:
    """Exit 0 when installed prefixes match their locks, 1 listing every difference."""
    from twinlock import deploy, render, workflows

    project = workflows.open_project(composition, locks_dir=locks_dir)
    drift = deploy.run_verify(
        project, root=root, environments=_split(env), platform=platform, deep=deep
    )
    checked = len(project.composition.select(_split(env)))
    typer.echo(render.verify_report(drift, checked, deep=deep))
    if drift:
        raise typer.Exit(1)


@app.command(name="mirror")
@handle_errors
def mirror_command(
    composition: CompositionArg = None,
    dest: Annotated[Path, typer.Option("--dest", help="Local channel directory to fill.")] = Path(
        "build/mirror"
    ),
    env: EnvOpt = None,
    locks_dir: LocksDirOpt = None,
    mirror: MirrorOpt = None,
) -> None:
    """Gather every archive the locks need into an indexed local channel (air-gapped installs)."""
    from twinlock import deploy, render, workflows

    project = workflows.open_project(composition, locks_dir=locks_dir, mirrors=mirror or [])
    report = deploy.run_mirror(project, dest=dest.resolve(), environments=_split(env))
    typer.echo(render.mirror_report(report, Path.cwd()))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
