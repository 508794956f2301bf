"""CLI commands for auditors: diff two lock sets, export an SBOM."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from twinlock.cli.app import (
    CompositionArg,
    CompositionOpt,
    EnvOpt,
    LocksDirOpt,
    PlatformsOpt,
    app,
    handle_errors,
    open_given,
)
from twinlock.cli.commands import diff_command, run_guarded, split_values


@app.command()
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
    code = run_guarded(lambda: diff_command(old, new, git, output_format, exit_code))
    if code:
        raise typer.Exit(code)


@app.command()
@handle_errors
def sbom(
    composition: CompositionArg = None,
    composition_opt: CompositionOpt = None,
    env: EnvOpt = None,
    platform: PlatformsOpt = None,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="SBOM format: cyclonedx-json.")
    ] = "cyclonedx-json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the SBOM here (default: stdout).")
    ] = None,
    locks_dir: LocksDirOpt = None,
) -> None:
    """A CycloneDX SBOM of the locked packages (one component per package and platform)."""
    from twinlock.app.audit import run_sbom
    from twinlock.app.output import check_output, write_output

    check_output(output)
    project = open_given(composition, composition_opt, locks_dir=locks_dir)
    document = run_sbom(
        project,
        environments=split_values(env),
        platforms=split_values(platform),
        output_format=output_format,
    )
    if output is None:
        typer.echo(document.text)
        return
    write_output(output, document.text + "\n")
    typer.echo(f"wrote {output} ({document.components} components)")


@app.command(name="export")
@handle_errors
def export_command(
    composition: CompositionArg = None,
    composition_opt: CompositionOpt = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="pixi-lock (one multi-environment lock pixi and rattler read), explicit, "
            "or environment-yml.",
        ),
    ] = "pixi-lock",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="pixi-lock: the file (default pixi.lock). Text formats: a directory "
            "(default: standard output for one environment x platform, else build/export).",
        ),
    ] = None,
    env: EnvOpt = None,
    platform: PlatformsOpt = None,
    locks_dir: LocksDirOpt = None,
) -> None:
    """Export the locks for other tools: pixi, rattler-based installers, conda."""
    from twinlock.app.export import run_export

    project = open_given(composition, composition_opt, locks_dir=locks_dir)
    report = run_export(
        project,
        fmt,
        output=output,
        environments=split_values(env),
        platforms=split_values(platform),
    )
    if report.text is not None:
        typer.echo(report.text, nl=False)
    for path in report.written:
        typer.echo(f"wrote {path}", err=True)
