"""CLI commands for writing compositions: ``twinlock init`` (from conda-lock inputs) and
``twinlock schema`` (the JSON Schema editors use)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from twinlock.cli.app import app, handle_errors
from twinlock.cli.commands import split_values


@app.command()
@handle_errors
def init(
    file: Annotated[
        list[Path] | None,
        typer.Option(
            "--file",
            "-f",
            help="conda-lock environment.yml (repeat to merge, as conda-lock -f a -f b).",
        ),
    ] = None,
    virtual_package_spec: Annotated[
        Path | None,
        typer.Option(
            "--virtual-package-spec", help="conda-lock virtual-packages.yml -> system-requirements."
        ),
    ] = None,
    lockfile: Annotated[
        Path | None,
        typer.Option("--lockfile", help="An existing conda-lock.yml whose pins to start from."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Composition name.")] = None,
    platform: Annotated[
        list[str] | None,
        typer.Option("--platform", "-p", help="Target platforms (repeat or comma-separate)."),
    ] = None,
    snapshot: Annotated[
        str | None, typer.Option("--snapshot", help="Ignore packages published later (ISO date).")
    ] = None,
    lab_python: Annotated[
        str, typer.Option("--lab-python", help="Python version of the suggested lab.")
    ] = "3.12",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Default: envs/<name>.yaml.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the composition; write nothing.")
    ] = False,
) -> None:
    """Write a composition (lab + your environment as payload) from conda-lock inputs."""
    from twinlock.app.init import InitOptions, run_init

    options = InitOptions(
        files=tuple(file or ()),
        virtual_packages=virtual_package_spec,
        lockfile=lockfile,
        name=name,
        output=output,
        platforms=tuple(split_values(platform)),
        snapshot=snapshot,
        lab_python=lab_python,
        force=force,
    )
    report = run_init(options, cwd=Path.cwd(), dry_run=dry_run)
    if dry_run:
        typer.echo(report.text, nl=False)
    else:
        typer.echo(f"wrote {report.path}" if report.written else f"unchanged {report.path}")
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"next: {report.next_command}", err=dry_run)


@app.command()
@handle_errors
def schema() -> None:
    """Print the JSON Schema of compositions (editors complete keys and flag typos with it)."""
    from twinlock.app.schema import composition_schema_text

    typer.echo(composition_schema_text(), nl=False)
