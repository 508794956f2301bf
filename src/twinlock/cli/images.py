"""CLI commands for image builds: install, verify, mirror, rebuild, tag."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from twinlock.cli.app import (
    QUIET,
    CompositionArg,
    CompositionOpt,
    EnvOpt,
    JsonOpt,
    LocksDirOpt,
    MirrorOpt,
    app,
    complete_platform,
    handle_errors,
    open_given,
)
from twinlock.cli.commands import split_values
from twinlock.errors import TwinlockError


@app.command()
@handle_errors
def rebuild(
    composition: CompositionArg = None,
    composition_opt: CompositionOpt = None,
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
    from twinlock.app.images import rebuild as run_rebuild
    from twinlock.cli import render
    from twinlock.cli.progress import progress_display

    project = open_given(composition, composition_opt, locks_dir=locks_dir, mirror=mirror)
    with progress_display(quiet=QUIET[0]) as progress:
        report = run_rebuild(
            project,
            sources=from_ or [],
            refresh=split_values(refresh),
            update=split_values(update),
            snapshot=_snapshot(snapshot),
            dry_run=dry_run,
            progress=progress,
        )
    typer.echo(render.rebuild_report(report, Path.cwd()))


def _snapshot(text: str | None) -> Any:
    """An ISO date or date-time (UTC unless it says otherwise), or None."""
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
def tag_parse(tags: list[str], alias: AliasOpt = None, as_json: JsonOpt = False) -> None:
    """Category and display name of each tag; exit 2 naming the wrong part of an invalid one."""
    from twinlock.app.images import parse_tags

    _print_tags(parse_tags(tags, alias or []), as_json=as_json)


@tag_app.command("sort")
@handle_errors
def tag_sort(tags: list[str], alias: AliasOpt = None, as_json: JsonOpt = False) -> None:
    """Group tags by category and list each category newest first."""
    from twinlock.app.images import sorted_tags

    _print_tags(sorted_tags(tags, alias or []), as_json=as_json)


def _print_tags(tags: Any, *, as_json: bool) -> None:
    from twinlock.app import shapes
    from twinlock.cli import render

    if as_json:
        typer.echo(shapes.dumps(shapes.tags_document(tags)))
    else:
        typer.echo(render.tag_table(tags))


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
    from twinlock.app.images import new_tag

    tag = new_tag(
        payload_tag,
        build=build,
        built_at=_snapshot(built_at) if built_at else None,
        existing=split_values(existing),
        arch=arch,
    )
    typer.echo(tag.tag)


RootOpt = Annotated[
    Path,
    typer.Option(
        "--root", help="Staging root: environments go to ROOT/<prefix> (files refer to <prefix>)."
    ),
]
InstallPlatformOpt = Annotated[
    str | None,
    typer.Option(
        "--platform",
        "-p",
        help="Platform lock to use (default: this machine).",
        autocompletion=complete_platform,
    ),
]


@app.command()
@handle_errors
def install(
    composition: CompositionArg = None,
    composition_opt: CompositionOpt = None,
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
    freeze: Annotated[
        bool,
        typer.Option(
            "--freeze/--no-freeze",
            help="Write conda-meta/frozen (CEP 22) so conda refuses to change the prefix.",
        ),
    ] = True,
) -> None:
    """Install each environment's locked packages into ROOT/<prefix>, hash-verified."""
    from twinlock.app import install as deploy
    from twinlock.cli import render

    project = open_given(composition, composition_opt, locks_dir=locks_dir, mirror=mirror)
    with _install_progress() as progress:
        report = deploy.run_install(
            project,
            root=root,
            environments=split_values(env),
            platform=platform,
            force=force,
            caches=cache or [],
            progress=progress,
            freeze=freeze,
        )
    typer.echo(render.install_report(report, Path.cwd()))


def _install_progress() -> Any:
    """A rich progress display fed by install events (one bar per environment).

    Under NO_COLOR / TERM=dumb: a plain line per environment and phase instead.
    """
    import contextlib
    import os

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from twinlock.cli.progress import plain_terminal

    console = Console(stderr=True)
    if console.is_terminal and not QUIET[0] and plain_terminal(os.environ):
        return contextlib.nullcontext(_plain_install_lines(console))
    bars = Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[phase]} {task.fields[package]}"),
        transient=True,
        console=console,
        disable=QUIET[0] or not console.is_terminal,
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


def _plain_install_lines(console: Any) -> Any:
    """One line when an environment starts a phase or finishes it (not one per package)."""
    seen: set[tuple[str, str]] = set()

    def on_event(event: Any) -> None:
        key = (event.environment, event.phase)
        if key not in seen or event.done == event.total:
            seen.add(key)
            console.print(
                f"{event.environment}: {event.phase} {event.done}/{event.total}",
                markup=False,
                highlight=False,
            )

    return on_event


@app.command()
@handle_errors
def verify(
    composition: CompositionArg = None,
    composition_opt: CompositionOpt = None,
    env: EnvOpt = None,
    platform: InstallPlatformOpt = None,
    root: RootOpt = Path("/"),
    deep: Annotated[
        bool, typer.Option("--deep", help="Also hash every installed file against conda-meta.")
    ] = False,
    locks_dir: LocksDirOpt = None,
    frozen: Annotated[
        bool,
        typer.Option(
            "--frozen/--no-frozen",
            help="Expect conda-meta/frozen (CEP 22) in each conda prefix, as install writes it.",
        ),
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Exit 0 when installed prefixes match their locks, 1 listing every difference."""
    from twinlock.app import shapes
    from twinlock.app.verify import run_verify
    from twinlock.cli import render

    project = open_given(composition, composition_opt, locks_dir=locks_dir)
    drift = run_verify(
        project,
        root=root,
        environments=split_values(env),
        platform=platform,
        deep=deep,
        frozen=frozen,
    )
    checked = len(project.composition.select(split_values(env)))
    if as_json:
        typer.echo(shapes.dumps(shapes.verify_document(drift, checked, deep=deep)))
    else:
        typer.echo(render.verify_report(drift, checked, deep=deep))
    if drift:
        raise typer.Exit(1)


@app.command(name="mirror")
@handle_errors
def mirror_command(
    composition: CompositionArg = None,
    composition_opt: CompositionOpt = None,
    dest: Annotated[Path, typer.Option("--dest", help="Local channel directory to fill.")] = Path(
        "build/mirror"
    ),
    env: EnvOpt = None,
    locks_dir: LocksDirOpt = None,
    mirror: MirrorOpt = None,
) -> None:
    """Gather every archive the locks need into an indexed local channel (air-gapped installs)."""
    from twinlock.app.mirror import run_mirror
    from twinlock.cli import render
    from twinlock.cli.progress import progress_display

    project = open_given(composition, composition_opt, locks_dir=locks_dir, mirror=mirror)
    with progress_display(quiet=QUIET[0]) as progress:
        report = run_mirror(
            project, dest=dest.resolve(), environments=split_values(env), progress=progress
        )
    typer.echo(render.mirror_report(report, Path.cwd()))


@app.command(name="test")
@handle_errors
def test_command(
    composition: CompositionArg = None,
    composition_opt: CompositionOpt = None,
    env: EnvOpt = None,
    platform: InstallPlatformOpt = None,
    root: RootOpt = Path("/"),
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable results.")] = False,
    locks_dir: LocksDirOpt = None,
) -> None:
    """Run each environment's declared smoke tests (tests:) against its installed prefix."""
    import json

    from twinlock.app.smoke import run_smoke_tests
    from twinlock.cli import render

    project = open_given(composition, composition_opt, locks_dir=locks_dir)
    report = run_smoke_tests(project, root=root, environments=split_values(env), platform=platform)
    typer.echo(json.dumps(report.as_json(), indent=2) if as_json else render.smoke_report(report))
    if report.failed:
        raise typer.Exit(1)
