"""Auditing locks (``diff``, ``overlap``, ``sbom``) as library calls.

The CLI parses arguments, calls these and renders the result with
:mod:`twinlock.audit.diffrender` / :mod:`twinlock.audit.overlaprender`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from twinlock.audit.diff import diff_lock_sets
from twinlock.audit.diffmodel import LocksDiff
from twinlock.audit.sources import diff_sides

if TYPE_CHECKING:
    import datetime as dt

    # Only for annotations: diff of two named lock sets never opens a project, and
    # importing it (the solver stage, spec parsing) would cost diff a third of its time.
    from twinlock.app.project import Project
    from twinlock.audit.overlap import PlatformOverlap


def run_diff(old: str | None, new: str | None, *, git: str | None = None) -> LocksDiff:
    """Compare two lock sets named as on the command line (see :func:`diff_sides`).

    A missing PATH defaults to the lock directory of the project in the current directory.
    """

    def default_path() -> Path:
        from twinlock.app.project import open_project

        return open_project(None).paths.directory

    sides = diff_sides(old, new, git=git, default_path=default_path)
    return diff_lock_sets(*sides)


def run_overlap(project: Project, platforms: Sequence[str] = ()) -> list[PlatformOverlap]:
    """Packages the project's locked environments share, per platform (or only *platforms*)."""
    # Imported here, as sbom's modules below: ``diff`` (the hot command) needs neither.
    from twinlock.audit.overlap import overlap

    locks = project.read_locks()
    ordered = [locks[e.name] for e in project.composition.environments if e.name in locks]
    return overlap(ordered, platforms)


@dataclass(frozen=True)
class SbomDocument:
    text: str
    components: int


def run_sbom(
    project: Project,
    *,
    environments: Sequence[str] = (),
    platforms: Sequence[str] = (),
    output_format: str = "cyclonedx-json",
    timestamp: dt.datetime | None = None,
) -> SbomDocument:
    """An SBOM of the chosen environments and platforms (all by default)."""
    import datetime as dt

    from twinlock.audit.sbom import check_format, render_sbom, select_locks

    check_format(output_format)
    locks = select_locks(project.composition, project.read_locks(), environments, platforms)
    moment = timestamp or dt.datetime.now(dt.UTC)
    text = render_sbom(project.composition.name, locks, timestamp=moment)
    count = sum(len(p.packages) + len(p.pypi) for lock in locks for p in lock.platforms)
    return SbomDocument(text, count)
