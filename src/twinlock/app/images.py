"""Image builds as library calls: ``tag`` parse/sort/compose and ``rebuild`` from CLI values.

Tags need only :mod:`twinlock.images.tags` (fast: no solver, no lock reader);
``rebuild`` imports the maintenance flow (:mod:`twinlock.app.rebuild`) when called.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from twinlock.images.tags import ImageTag, compose_tag, parse_tag, sort_tags

if TYPE_CHECKING:
    from twinlock.app.progress import Progress
    from twinlock.app.project import Project
    from twinlock.app.rebuild import RebuildReport


def parse_tags(texts: Iterable[str], aliases: Sequence[str] = ()) -> list[ImageTag]:
    """Every tag of *texts*, parsed (the first invalid one raises, naming its wrong part)."""
    return [parse_tag(t, aliases=aliases) for t in texts]


def sorted_tags(texts: Iterable[str], aliases: Sequence[str] = ()) -> list[ImageTag]:
    """The tags grouped by category (menu order), newest first within each."""
    return sort_tags(parse_tags(texts, aliases))


# The tag of a (maintenance) build of a payload tag: the stage's own function, offered
# here because the CLI imports use cases only.
new_tag = compose_tag


def rebuild(
    project: Project,
    *,
    sources: Sequence[str],
    refresh: Sequence[str] = (),
    update: Sequence[str] = (),
    snapshot: dt.datetime | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> RebuildReport:
    """``twinlock rebuild``: *refresh* names environments, *update* is ``ENV:PKG`` values."""
    from twinlock.app.progress import silent
    from twinlock.app.rebuild import run_rebuild
    from twinlock.images.rebuild import RebuildOptions

    options = RebuildOptions.parse(refresh, update, snapshot)
    return run_rebuild(
        project, sources=sources, options=options, dry_run=dry_run, progress=progress or silent
    )
