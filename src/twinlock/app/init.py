"""``twinlock init``: a composition from a conda-lock project, without editing its files.

Reads what a conda-lock user already has -- ``environment.yml`` files (``-f``, several
merged like ``conda-lock -f a.yml -f b.yml``), a ``virtual-packages.yml``
(``--virtual-package-spec``) and an existing ``conda-lock.yml`` (``--lockfile``) -- and
writes ``envs/<name>.yaml`` (see :mod:`twinlock.spec.scaffold` for what it holds).
An existing conda-lock file is not copied: its platforms become the composition's, and
the next step is ``twinlock rebuild --from payload=conda-lock.yml``, which starts from
its pins instead of solving afresh.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from twinlock.errors import CompositionError, InputFileError, Problems, TwinlockError
from twinlock.fileio import display_path, read_text, write_text_atomic
from twinlock.spec.condalock import parse_virtual_packages
from twinlock.spec.load import find_project_root
from twinlock.spec.scaffold import ScaffoldInputs, composition_name, file_platforms, scaffold
from twinlock.yamlio import read_yaml


@dataclass(frozen=True)
class InitOptions:
    files: tuple[Path, ...] = ()
    virtual_packages: Path | None = None
    lockfile: Path | None = None
    name: str | None = None
    output: Path | None = None
    platforms: tuple[str, ...] = ()
    snapshot: str | None = None
    lab_python: str = "3.12"
    force: bool = False


@dataclass(frozen=True)
class InitReport:
    path: Path
    text: str
    written: bool
    next_command: str
    notes: tuple[str, ...]


def run_init(options: InitOptions, *, cwd: Path, dry_run: bool = False) -> InitReport:
    """Build the composition text and (unless *dry_run*) write it, never over a file."""
    files = options.files or _default_files(cwd)
    loaded = [(path, _read_yaml(path)) for path in files]
    name = options.name or composition_name([d for _, d in loaded], fallback=files[0].stem)
    root = find_project_root(cwd)
    output = options.output or root / "envs" / f"{name}.yaml"
    base = output.parent.resolve()
    refs = {Path(os.path.relpath(p.resolve(), base)).as_posix(): data for p, data in loaded}
    platforms = options.platforms or file_platforms([d for _, d in loaded])
    if not platforms and options.lockfile is not None:
        platforms = _lockfile_platforms(options.lockfile)
    system = _virtual_packages(options.virtual_packages) if options.virtual_packages else {}
    text, composition = scaffold(
        ScaffoldInputs(
            name=name,
            files=refs,
            platforms=platforms,
            system_requirements=system,
            snapshot=options.snapshot,
            lab_python=options.lab_python,
        )
    )
    written = False
    if not dry_run:
        if output.exists() and not options.force:
            raise TwinlockError(
                f"{display_path(output)} already exists; nothing was written",
                "pass --force to replace it, --output to write elsewhere, or --dry-run",
            )
        written = write_text_atomic(output, text)
    shown = display_path(output)
    if options.lockfile is not None:
        command = (
            f"twinlock rebuild {shown} --from payload={display_path(options.lockfile)} "
            "--refresh lab"
        )
    else:
        command = f"twinlock lock {shown}"
    payload = {r.name for r in composition.environment("payload").requirements}
    notes = _notes(payload, loaded)
    return InitReport(output, text, written, command, notes)


def _default_files(cwd: Path) -> tuple[Path, ...]:
    """conda-lock's default input: environment.yml in the working directory."""
    default = cwd / "environment.yml"
    if default.is_file():
        return (default,)
    raise TwinlockError(
        "no environment file given and no environment.yml here",
        "pass one or more with -f FILE (as with conda-lock -f)",
    )


def _read_yaml(path: Path) -> object:
    try:
        return read_yaml(path)
    except InputFileError as exc:
        raise CompositionError(exc.problems) from None


def _virtual_packages(path: Path) -> dict[str, dict[str, str]]:
    problems = Problems(display_path(path))
    out = parse_virtual_packages(_read_yaml(path), problems)
    if problems.items:
        raise CompositionError(problems.items)
    return out


def _lockfile_platforms(path: Path) -> tuple[str, ...]:
    from twinlock.lock.imports import parse_conda_lock_pins

    source = display_path(path)
    return parse_conda_lock_pins(read_text(path), source=source).platforms


def _notes(payload: set[str], loaded: Sequence[tuple[Path, object]]) -> tuple[str, ...]:
    notes = []
    if "ipykernel" not in payload:
        notes.append(
            "the payload has no ipykernel, which its kernel needs: add it to the "
            "environment file (twinlock lock warns until then)"
        )
    for path, data in loaded:
        channels = data.get("channels") if isinstance(data, Mapping) else None
        if isinstance(channels, list) and "defaults" in channels:
            notes.append(
                f"{display_path(path)}: 'defaults' is read as conda's pkgs/main and pkgs/r "
                "(https://repo.anaconda.com); the lab solves from the same channels"
            )
    return tuple(notes)
