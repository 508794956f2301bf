"""``twinlock rebuild`` as a library call: gather the historical locks, rebuild, write.

``--from`` says where the historical environments come from; it may be given
several times (among directories and revisions, later values win per environment;
an ``ENV=FILE`` import wins over both, whatever the order):

* ``DIR``: a lock directory (``locks/rsp``) or a locks root holding ``<composition>/``;
* a twinlock ``*.conda-lock.yml`` file (its metadata names the environment);
* ``REV``: a git revision; the composition's lock files are read as they were then;
* ``ENV=FILE``: import *ENV* from an ``@EXPLICIT`` file or any conda-lock file.
  Its pins are resolved against the environment's channels (the snapshot);
  unresolvable pins are reported, and are fatal for an environment kept as is.

Files are read through :mod:`twinlock.fileio`, channel records come from the
solver adapter, and the pure work is :func:`twinlock.images.rebuild.rebuild_composition`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from twinlock.app.progress import Progress, ReportingSolver, silent
from twinlock.app.project import Project
from twinlock.audit.git import is_git_revision, read_git_file
from twinlock.errors import TwinlockError
from twinlock.fileio import read_text, write_files
from twinlock.images.rebuild import (
    RebuildOptions,
    RebuildResult,
    rebuild_composition,
    require_history,
)
from twinlock.lock.format import parse_conda_lock, render_conda_lock, render_explicit
from twinlock.lock.imports import (
    MissingPin,
    PinSet,
    imported_lock,
    package_refs,
    parse_conda_lock_pins,
    parse_explicit,
    resolve_pins,
)
from twinlock.lock.store import LockPaths, read_lock_file, read_locks
from twinlock.model.lock import EnvironmentLock
from twinlock.solve.adapter import Solver
from twinlock.solve.records import PackageFinder


class MissingPinsError(TwinlockError):
    """Pins of a kept environment that the channels do not hold."""


@dataclass(frozen=True)
class History:
    """What ``--from`` yielded: complete locks, and pins still to resolve."""

    locks: dict[str, EnvironmentLock] = field(default_factory=dict)
    imports: dict[str, PinSet] = field(default_factory=dict)


@dataclass(frozen=True)
class RebuildReport:
    result: RebuildResult
    base: dict[str, EnvironmentLock]
    missing: tuple[MissingPin, ...]
    written: tuple[Path, ...]


def run_rebuild(
    project: Project,
    *,
    sources: Sequence[str],
    options: RebuildOptions,
    dry_run: bool = False,
    solver: Solver | None = None,
    finder: PackageFinder | None = None,
    progress: Progress = silent,
) -> RebuildReport:
    """Rebuild the composition from the historical locks named by *sources*.

    *progress* hears each environment x platform being solved."""
    if not sources:
        raise TwinlockError(
            "rebuild needs --from", "e.g. --from locks/rsp, --from v1.0, --from payload=FILE"
        )
    history = load_history(project, sources)
    require_history(project.composition, [*history.locks, *history.imports], options.refresh)
    # Closed on the way out: its gateway goes before the interpreter does.
    with project.solver() as channels:
        engine, lookup = solver or channels, finder or channels
        base = dict(history.locks)
        missing: list[MissingPin] = []
        for name, pins in history.imports.items():
            if name in options.refresh:
                continue  # solved anew: its historical pins do not matter
            base[name], lost = import_environment(project, name, pins, lookup)
            missing += lost
        _refuse_lost_pins(missing, options)
        result = rebuild_composition(
            project.composition,
            base,
            ReportingSolver(engine, progress),
            sources=project.sources,
            options=options,
        )
    written: list[Path] = [] if dry_run else _write(project, result)
    return RebuildReport(result, base, tuple(missing), tuple(written))


def load_history(project: Project, sources: Sequence[str]) -> History:
    """Read every ``--from`` value (see the module doc)."""
    history = History()
    names = [e.name for e in project.composition.environments]
    for value in sources:
        env, sep, target = value.partition("=")
        if sep and env in names:
            _load_import(history, env, Path(target))
        elif Path(value).is_dir():
            history.locks.update(_load_directory(project, Path(value), names))
        elif Path(value).is_file():
            lock = read_lock_file(Path(value))
            history.locks[lock.environment] = lock
        elif is_git_revision(project.config.root, value):
            history.locks.update(_load_revision(project, value, names))
        else:
            raise TwinlockError(
                f"--from {value}: not ENV=FILE, a lock directory, a lock file or a git revision",
                f"environments are {', '.join(names)}; e.g. --from locks/rsp or --from HEAD~1",
            )
    return history


def _load_import(history: History, env: str, path: Path) -> None:
    text = read_text(path, f"--from {env}=")
    source = str(path)
    if "@EXPLICIT" in text:
        history.imports[env] = parse_explicit(text, source=source)
        return
    if "twinlock.environment:" in text:
        lock = parse_conda_lock(text, source=source)
        if lock.environment == env:
            history.locks[env] = lock
            return
    history.imports[env] = parse_conda_lock_pins(text, source=source)


def _load_directory(project: Project, path: Path, names: list[str]) -> dict[str, EnvironmentLock]:
    nested = path / project.composition.name
    directory = nested if nested.is_dir() else path
    locks = read_locks(LockPaths(directory), names)
    if not locks:
        raise TwinlockError(
            f"--from {path}: no <environment>.conda-lock.yml for {', '.join(names)} in {directory}",
            "point --from at the lock directory of this composition, e.g. locks/rsp",
        )
    return locks


def _load_revision(project: Project, revision: str, names: list[str]) -> dict[str, EnvironmentLock]:
    locks = {}
    root = project.config.root
    for name in names:
        path = project.paths.conda_lock(name)
        text = read_git_file(root, revision, path)
        if text is not None:
            locks[name] = parse_conda_lock(
                text, source=f"{revision}:{project.config.relative(path)}"
            )
    if not locks:
        raise TwinlockError(
            f"--from {revision}: no lock of {', '.join(names)} under "
            f"{project.config.relative(project.paths.directory)} at that revision",
            "pick a revision where the locks were committed (git log -- locks/)",
        )
    return locks


def import_environment(
    project: Project, name: str, pins: PinSet, finder: PackageFinder
) -> tuple[EnvironmentLock, list[MissingPin]]:
    """The lock of *name* made of the channel records behind *pins*, and the pins not found."""
    env = project.composition.environment(name)
    found = finder.find_packages(package_refs(pins, env.channels))
    packages, missing = resolve_pins(env, pins, found)
    lock = imported_lock(project.composition, env, packages, pins.source, missing)
    return lock, missing


def _refuse_lost_pins(missing: Sequence[MissingPin], options: RebuildOptions) -> None:
    """A kept environment must be complete; an updated one may re-solve around gaps."""
    fatal = [m for m in missing if m.environment not in (options.update or {})]
    if not fatal:
        return
    lines = [f"{len(fatal)} pin(s) of kept environments cannot be found in the channels:"]
    lines += [f"  - {m.environment}: {m.pin.file_name}: {m.reason}" for m in fatal[:40]]
    if len(fatal) > 40:
        lines.append(f"  ... and {len(fatal) - 40} more")
    raise MissingPinsError(
        "\n".join(lines),
        "mirror a channel that holds them (--mirror), or let the environment move "
        "(--update ENV:PKG re-solves around missing pins, --refresh ENV solves it anew)",
    )


def _write(project: Project, result: RebuildResult) -> list[Path]:
    contents: dict[Path, str] = {}
    for lock in result.locks:
        contents[project.paths.conda_lock(lock.environment)] = render_conda_lock(lock)
        for platform in lock.platform_names:
            contents[project.paths.explicit(lock.environment, platform)] = render_explicit(
                lock, platform
            )
    return write_files(contents)
