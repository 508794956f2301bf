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

    project = workflows.open_project(composition, locks_dir=locks_dir, mirrors=mirror or [])
    report = workflows.run_lock(project, environments=_split(env), update=_split(update), full=full)
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


RootOpt = Annotated[
    Path,
    typer.Option(
        "--root", help="Staging root: environments go to ROOT/<prefix> (files refer to <prefix>)."
    ),
]
PlatformOpt = Annotated[
    str | None, typer.Option("--platform", help="Platform lock to use (default: this machine).")
]


@app.command()
@handle_errors
def install(
    composition: CompositionArg = None,
    env: EnvOpt = None,
    platform: PlatformOpt = None,
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
    platform: PlatformOpt = None,
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
