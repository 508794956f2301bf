"""Shell-completion candidates: environment, platform and package names of a project.

Completion runs on every TAB, so these read only the composition and the
@EXPLICIT files (no solver, no conda-lock reader), and never raise: a broken
project completes nothing rather than printing an error into the shell.
"""

from __future__ import annotations

import logging
from pathlib import Path

from twinlock.app.project import Project, open_project
from twinlock.errors import TwinlockError

log = logging.getLogger(__name__)


def _project(composition: Path | None) -> Project | None:
    try:
        return open_project(composition)
    except (TwinlockError, OSError) as exc:
        log.info("no completion: %s", exc)
        return None


def environment_names(composition: Path | None, incomplete: str = "") -> list[str]:
    project = _project(composition)
    if project is None:
        return []
    return [e.name for e in project.composition.environments if e.name.startswith(incomplete)]


def platform_names(composition: Path | None, incomplete: str = "") -> list[str]:
    project = _project(composition)
    if project is None:
        return []
    names = {p for e in project.composition.environments for p in e.platforms}
    return sorted(p for p in names if p.startswith(incomplete))


def package_names(
    composition: Path | None, environments: list[str], incomplete: str = ""
) -> list[str]:
    """Names of the packages locked for *environments* (all when empty), any platform."""
    project = _project(composition)
    if project is None:
        return []
    names: set[str] = set()
    known = {e.name for e in project.composition.environments}
    for env in project.composition.select([e for e in environments if e in known]):
        for platform in env.platforms:
            try:
                text = project.paths.explicit(env.name, platform).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            names |= {_explicit_name(line) for line in text.splitlines() if "://" in line}
    return sorted(n for n in names if n and n.startswith(incomplete))


def _explicit_name(url: str) -> str:
    """``https://…/numpy-2.1.0-py312h_0.conda#sha`` -> ``numpy``."""
    file_name = url.split("#", 1)[0].rsplit("/", 1)[-1]
    return file_name.rsplit("-", 2)[0]
