"""CLI commands for env maintainers: lock, check, explain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from twinlock.cli.app import (
    CompositionArg,
    EnvOpt,
    LocksDirOpt,
    MirrorOpt,
    app,
    handle_errors,
)
from twinlock.cli.commands import check_command, lock_command, run_guarded, split_values


@app.command()
def lock(
    compositions: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[COMPOSITION]...",
            help="Composition files (default: [project] composition, or the only "
            "envs/*.yaml); several are locked in one process, sharing one solver.",
        ),
    ] = None,
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
    code = run_guarded(
        lambda: lock_command(
            compositions or [],
            env=env or [],
            update=update or [],
            full=full,
            locks_dir=locks_dir,
            mirror=mirror or [],
        )
    )
    if code:
        raise typer.Exit(code)


@app.command()
def check(
    composition: CompositionArg = None,
    locks_dir: LocksDirOpt = None,
) -> None:
    """Exit 0 when every lock is fresh and consistent, 1 listing what is stale and why."""
    code = run_guarded(lambda: check_command(composition, locks_dir))
    if code:
        raise typer.Exit(code)


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
    from twinlock.explain.render import conflict_json, conflict_text

    project = open_project(composition, mirrors=mirror or [])
    analysis = run_explain(
        project,
        environments=split_values(env),
        platforms=split_values(platform),
        time_limit=time_limit,
        python_movable=movable_python,
    )
    typer.echo((conflict_json if as_json else conflict_text)(analysis))
    if not analysis.ok:
        raise typer.Exit(1)
