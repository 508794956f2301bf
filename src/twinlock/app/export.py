"""Export a composition's locks for other tools (``twinlock export``), as a library call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from twinlock.app.project import Project
from twinlock.errors import LockFileError, TwinlockError, did_you_mean
from twinlock.fileio import check_output_path, write_files, write_with_atomic
from twinlock.lock.export import EXPORT_FORMATS, render_environment_yml, to_pixi_lock
from twinlock.lock.format import render_explicit
from twinlock.model.lock import EnvironmentLock

_SUFFIX = {"explicit": ".explicit.txt", "environment-yml": ".environment.yml"}


@dataclass(frozen=True)
class ExportReport:
    written: tuple[Path, ...]
    text: str | None = None  # one text export asked for on standard output


def run_export(
    project: Project,
    fmt: str,
    *,
    output: Path | None,
    environments: Sequence[str] = (),
    platforms: Sequence[str] = (),
) -> ExportReport:
    """Write the selected locks in *fmt*; a single text export without *output* is returned."""
    if fmt not in EXPORT_FORMATS:
        raise TwinlockError(
            f"--format {fmt}: not an export format {did_you_mean(fmt, EXPORT_FORMATS)}".rstrip(),
            f"pick one of: {', '.join(EXPORT_FORMATS)}",
        )
    if fmt == "pixi-lock":
        check_output_path(output or Path("pixi.lock"))
    locks = _selected_locks(project, environments)
    if fmt == "pixi-lock":
        target = output or Path("pixi.lock")
        lockfile = to_pixi_lock(locks)
        write_with_atomic(target, lockfile.to_path)
        return ExportReport((target,))
    render = render_explicit if fmt == "explicit" else render_environment_yml
    texts = {
        f"{lock.environment}-{p}{_SUFFIX[fmt]}": render(lock, p)
        for lock in locks
        for p in lock.platform_names
        if not platforms or p in platforms
    }
    if not texts:
        locked = sorted({p for lock in locks for p in lock.platform_names})
        guess = did_you_mean(platforms[0], locked) if platforms else ""
        raise TwinlockError(
            f"no locked platform matches --platform {', '.join(platforms)} {guess}".rstrip(),
            "pick platforms the environments are locked for (twinlock check lists them)",
        )
    if output is None and len(texts) == 1:
        return ExportReport((), next(iter(texts.values())))
    directory = output or Path("build/export")
    return ExportReport(tuple(write_files({directory / n: t for n, t in texts.items()})))


def _selected_locks(project: Project, environments: Sequence[str]) -> list[EnvironmentLock]:
    locks = project.read_locks()
    selected = project.composition.select(list(environments))
    missing = [env.name for env in selected if env.name not in locks]
    if missing:
        raise LockFileError(
            f"no lock for environment(s) {', '.join(missing)} in {project.paths.directory}",
            "run twinlock lock first",
        )
    return [locks[env.name] for env in selected]
