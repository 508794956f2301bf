"""``lock`` and ``check`` as plain functions, shared by the typer commands and the fast front.

They print what the command prints and return the exit code; a
:class:`~twinlock.errors.TwinlockError` is rendered by :func:`run_guarded`.
Nothing here imports typer.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from twinlock.errors import TwinlockError

if TYPE_CHECKING:
    from twinlock.app.lockreport import LockReport
    from twinlock.app.project import Project


def split_values(values: Sequence[str] | None) -> list[str]:
    """Repeated and comma- or space-separated option values, as one list."""
    return [v for item in values or [] for v in item.replace(",", " ").split()]


def run_guarded(command: Callable[[], int]) -> int:
    """Run *command*; a TwinlockError becomes 'error: ... / hint: ...' and its exit code.

    An OSError that escapes the stages is reported the same way with exit 2, as the
    typer commands' handler (:func:`twinlock.cli.app.handle_errors`) does.
    """
    try:
        return command()
    except (TwinlockError, OSError) as exc:
        text, code = error_report(exc)
        print(text, file=sys.stderr)
        return code


def error_report(exc: TwinlockError | OSError) -> tuple[str, int]:
    """The 'error: ... / hint: ...' text of *exc* and the exit code it ends with.

    The stages turn the failures they expect into TwinlockErrors; a file or directory
    problem that escapes them (an OSError) is still the user's to fix, exit 2, not a crash.
    """
    from twinlock.cli import render  # only on the way out: a clean run never draws it

    if isinstance(exc, TwinlockError):
        return render.error(exc), exc.exit_code
    return render.error(render.os_error(exc)), 2


def lock_command(
    compositions: Sequence[Path],
    *,
    env: Sequence[str] = (),
    update: Sequence[str] = (),
    full: bool = False,
    locks_dir: Path | None = None,
    mirror: Sequence[str] = (),
    argv: Sequence[str] | None = None,
    as_json: bool = False,
    quiet: bool = False,
) -> int:
    """Lock each composition (the default one when none is named), sharing one solver.

    Progress goes to stderr (a live display on a terminal, unless *quiet*).
    With *as_json* the report is a JSON document (a list of them for several
    compositions). With *argv* (the command line, from the fast front), a text
    run that ends with every lock fresh stamps its inputs so that the same
    command answers at once next time.
    """
    from twinlock.app.lock import run_locks
    from twinlock.app.project import open_project
    from twinlock.cli.progress import progress_display

    cwd = Path.cwd()
    named: list[Path | None] = list(compositions) or [None]
    projects = [open_project(c, locks_dir=locks_dir, mirrors=list(mirror)) for c in named]
    envs, updates = split_values(env), split_values(update)
    try:
        with progress_display(quiet=quiet) as progress:
            reports = run_locks(
                projects,
                environments=envs,
                update=updates,
                full=full,
                progress=progress,
                predict_rerun=argv is not None and not as_json,
            )
    except TwinlockError as exc:
        # The conflict report's modules load only when a lock fails.
        from twinlock.explain.model import ConflictsError
        from twinlock.explain.render import conflict_text

        if isinstance(exc, ConflictsError):
            print(conflict_text(exc.analysis), file=sys.stderr)
        raise
    print(_lock_output(projects, reports, cwd, as_json=as_json))
    if argv is not None and not as_json:
        _stamp(projects, reports, compositions, argv, cwd)
    return 0


def _lock_output(
    projects: Sequence[Project], reports: Sequence[LockReport], cwd: Path, *, as_json: bool
) -> str:
    from twinlock.cli import render

    if not as_json:
        return _joined(projects, [render.lock_report(r, cwd) for r in reports], cwd)
    import json

    from twinlock.app import shapes

    documents = [shapes.lock_document(r, cwd) for r in reports]
    if len(documents) == 1:
        return shapes.dumps(documents[0])
    return json.dumps(documents, indent=2, ensure_ascii=False)


def _joined(projects: Sequence[Project], texts: Sequence[str], cwd: Path) -> str:
    """One report, or each under the composition it belongs to."""
    from twinlock.cli import render

    if len(texts) == 1:
        return texts[0]
    return "\n".join(
        f"{render.relative(p.composition_path, cwd)}:\n{text}"
        for p, text in zip(projects, texts, strict=True)
    )


def _stamp(
    projects: Sequence[Project],
    reports: Sequence[LockReport],
    compositions: Sequence[Path],
    argv: Sequence[str],
    cwd: Path,
) -> None:
    """Record the no-op stamp when an immediate rerun would change nothing."""
    from twinlock.app.noop import record
    from twinlock.app.unchanged import noop_inputs
    from twinlock.cli import render

    files: list[Path] = []
    listings: list[Path] = []
    texts: list[str] = []
    named: list[Path | None] = list(compositions) or [None]
    for project, report, composition in zip(projects, reports, named, strict=True):
        if report.rerun is None:
            return
        texts.append(render.lock_report(report.rerun, cwd))
        more_files, more_listings = noop_inputs(project, composition.parent if composition else cwd)
        files += more_files
        listings += more_listings
    output = _joined(projects, texts, cwd)
    record(
        "lock",
        list(argv),
        str(cwd),
        files=[str(p) for p in files],
        listings=[str(p) for p in listings],
        output=output,
    )


def check_command(
    composition: Path | None, locks_dir: Path | None, *, as_json: bool = False
) -> int:
    """Exit 0 when every lock is fresh and consistent, 1 listing what is stale and why."""
    from twinlock.app.check import run_check
    from twinlock.app.project import open_project

    project = open_project(composition, locks_dir=locks_dir)
    findings = run_check(project)
    checked = sum(len(e.platforms) for e in project.composition.environments)
    if as_json:
        from twinlock.app import shapes

        print(shapes.dumps(shapes.check_document(findings, checked)))
    else:
        from twinlock.cli import render

        print(render.check_report(findings, checked))
    return 1 if findings else 0


DIFF_FORMATS = ("text", "markdown", "json")


def diff_command(
    old: str | None, new: str | None, git: str | None, output_format: str, exit_code: bool
) -> int:
    """Print what changed between two sets of locks; the exit code with *exit_code* set."""
    import os

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
        width = None
        if tty:
            import shutil

            width = shutil.get_terminal_size((100, 24)).columns
        text = diffrender.render_text(result, color=color, width=width)
    sys.stdout.write(text)
    sys.stdout.flush()
    return result.exit_code if exit_code else 0
