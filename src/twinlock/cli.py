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


DIFF_FORMATS = ("text", "markdown", "json")


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


def main() -> None:
    app()
