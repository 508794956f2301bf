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
    either,
    handle_errors,
    split_values,
)
from twinlock.errors import TwinlockError

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

    from twinlock.app.audit import run_diff
    from twinlock.audit import diffrender
    from twinlock.errors import did_you_mean

    if output_format not in DIFF_FORMATS:
        raise TwinlockError(
            f"--format {output_format}: unknown format "
            f"{did_you_mean(output_format, DIFF_FORMATS)}".rstrip(),
            f"choose one of: {', '.join(DIFF_FORMATS)}",
        )
    result = run_diff(old, new, git=git)
    if output_format == "json":
        text = diffrender.render_json(result)
    elif output_format == "markdown":
        text = diffrender.render_markdown(result)
    else:
        tty = sys.stdout.isatty()
        color = diffrender.use_color(tty, os.environ)
        # Piped or redirected: one row per line, full values (greppable, pasteable).
        width = shutil.get_terminal_size((100, 24)).columns if tty else None
        text = diffrender.render_text(result, color=color, width=width)
    typer.echo(text, nl=False)
    if exit_code and result.exit_code:
        raise typer.Exit(result.exit_code)


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
    from twinlock.app.output import write_output
    from twinlock.app.project import open_project

    project = open_project(either(composition, composition_opt), locks_dir=locks_dir)
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
    from twinlock.app.project import open_project

    project = open_project(either(composition, composition_opt), locks_dir=locks_dir)
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
