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
    open_given,
)
from twinlock.cli.commands import check_command, lock_command, run_guarded, split_values
from twinlock.errors import TwinlockError


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
    code = run_guarded(
        lambda: lock_command(
            _compositions(compositions or [], composition_opt),
            env=env or [],
            update=update or [],
            full=full,
            locks_dir=locks_dir,
            mirror=mirror or [],
            as_json=as_json,
            quiet=QUIET[0],
        )
    )
    if code:
        raise typer.Exit(code)


def _compositions(positional: list[Path], option: Path | None) -> list[Path]:
    """The compositions to lock: the positional ones, or the one ``--composition`` names."""
    if option is None or positional == [option]:
        return positional or ([option] if option is not None else [])
    if len(positional) > 1:
        raise TwinlockError(
            f"--composition {option} given with several compositions",
            "name the compositions positionally, or one with --composition",
        )
    chosen = either(positional[0] if positional else None, option)
    return [chosen] if chosen is not None else []


@app.command()
def check(
    composition: CompositionArg = None,
    composition_opt: CompositionOpt = None,
    locks_dir: LocksDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Exit 0 when every lock is fresh and consistent, 1 listing what is stale and why."""
    code = run_guarded(
        lambda: check_command(either(composition, composition_opt), locks_dir, as_json=as_json)
    )
    if code:
        raise typer.Exit(code)


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
    from twinlock.cli.progress import progress_display
    from twinlock.explain.render import conflict_json, conflict_text

    project = open_given(composition, composition_opt, mirror=mirror)
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
