"""CLI commands for env maintainers: lock, check, explain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from twinlock.cli.app import (
    QUIET,
    CompositionArg,
    CompositionOpt,
    EnvOpt,
    JsonOpt,
    LocksDirOpt,
    MirrorOpt,
    PlatformsOpt,
    app,
    either,
    handle_errors,
    split_values,
)


@app.command()
@handle_errors
def lock(
    composition: CompositionArg = None,
    composition_opt: CompositionOpt = None,
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
    as_json: JsonOpt = False,
) -> None:
    """Solve every environment x platform and write conda-lock and @EXPLICIT files."""
    from twinlock.app import shapes
    from twinlock.app.lock import run_lock
    from twinlock.app.project import open_project
    from twinlock.cli import render
    from twinlock.cli.progress import progress_display
    from twinlock.explain.model import ConflictsError
    from twinlock.explain.render import conflict_text

    project = open_project(
        either(composition, composition_opt), locks_dir=locks_dir, mirrors=mirror or []
    )
    try:
        with progress_display(quiet=QUIET[0]) as progress:
            report = run_lock(
                project,
                environments=split_values(env),
                update=split_values(update),
                full=full,
                progress=progress,
            )
    except ConflictsError as exc:
        typer.echo(conflict_text(exc.analysis), err=True)
        raise
    if as_json:
        typer.echo(shapes.dumps(shapes.lock_document(report, Path.cwd())))
    else:
        typer.echo(render.lock_report(report, Path.cwd()))


@app.command()
@handle_errors
def check(
    composition: CompositionArg = None,
    composition_opt: CompositionOpt = None,
    locks_dir: LocksDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Exit 0 when every lock is fresh and consistent, 1 listing what is stale and why."""
    from twinlock.app import shapes
    from twinlock.app.check import run_check
    from twinlock.app.project import open_project
    from twinlock.cli import render

    project = open_project(either(composition, composition_opt), locks_dir=locks_dir)
    findings = run_check(project)
    checked = sum(len(e.platforms) for e in project.composition.environments)
    if as_json:
        typer.echo(shapes.dumps(shapes.check_document(findings, checked)))
    else:
        typer.echo(render.check_report(findings, checked))
    if findings:
        raise typer.Exit(1)


@app.command()
@handle_errors
def explain(
    composition: CompositionArg = None,
    composition_opt: CompositionOpt = None,
    env: EnvOpt = None,
    platform: PlatformsOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (stable shape, version 1).")
    ] = False,
    time_limit: Annotated[
        float,
        typer.Option("--time-limit", metavar="S", min=0, help="Stop searching after S seconds."),
    ] = 60.0,
    movable_python: Annotated[
        bool,
        typer.Option(
            "--movable-python",
            help="Python pins may change: hints may propose a Python that fits.",
        ),
    ] = False,
    mirror: MirrorOpt = None,
) -> None:
    """Say why environments do not solve, or cannot share an aligned package.

    Absent names, minimal conflicts and hints; aligned packages with the specs that clash.

    Exit 0 when everything solves and aligns, 1 otherwise.
    """
    from twinlock.app.explain import run_explain
    from twinlock.app.project import open_project
    from twinlock.cli.progress import progress_display
    from twinlock.explain.render import conflict_json, conflict_text

    project = open_project(either(composition, composition_opt), mirrors=mirror or [])
    with progress_display(quiet=QUIET[0]) as progress:
        analysis = run_explain(
            project,
            environments=split_values(env),
            platforms=split_values(platform),
            time_limit=time_limit,
            python_movable=movable_python,
            progress=progress,
        )
    typer.echo((conflict_json if as_json else conflict_text)(analysis))
    if not analysis.ok:
        raise typer.Exit(1)
