"""The ``twinlock`` command line: parse arguments, call the library, render.

Heavy modules (rattler, conda-lock) are imported inside commands so that
``twinlock --help`` starts quickly.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from twinlock.errors import TwinlockError

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
    from twinlock.conflict_model import ConflictsError
    from twinlock.conflictrender import conflict_text

    project = workflows.open_project(composition, locks_dir=locks_dir, mirrors=mirror or [])
    try:
        report = workflows.run_lock(
            project, environments=_split(env), update=_split(update), full=full
        )
    except ConflictsError as exc:
        typer.echo(conflict_text(exc.analysis), err=True)
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
    """Say why environments do not solve, or cannot share an aligned package.

    Absent names, minimal conflicts and hints; aligned packages with the specs that clash.

    Exit 0 when everything solves and aligns, 1 otherwise.
    """
    from twinlock import workflows
    from twinlock.conflictrender import conflict_json, conflict_text

    project = workflows.open_project(composition, mirrors=mirror or [])
    analysis = workflows.run_explain(
        project, environments=_split(env), platforms=_split(platform), time_limit=time_limit
    )
    typer.echo((conflict_json if as_json else conflict_text)(analysis))
    if not analysis.ok:
        raise typer.Exit(1)


# The other commands live in their own modules and register themselves on ``app``.
from twinlock import cli_audit, cli_images, cli_inspect  # noqa: E402, F401


def main() -> None:
    app()
