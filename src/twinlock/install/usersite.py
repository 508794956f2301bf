"""User sites that shadow locked packages (what ``twinlock verify`` reports; pure).

``pip install --user`` writes into ``<user base>/lib/pythonX.Y/site-packages``,
which Python puts on ``sys.path`` *before* the environment's own site-packages:
a user's numpy there wins over the locked one. An isolated kernel's user base
is its own (:func:`twinlock.install.kernels.user_base`); a lab hosting isolated
kernels ignores the user site altogether, so it has nothing to shadow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from twinlock.install.kernels import user_base
from twinlock.install.plan import Drift
from twinlock.model.composition import Environment, normalize_pypi_name
from twinlock.model.lock import PlatformLock

_DIST_INFO = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)\.dist-info$")


def user_site(env: Environment, python: str | None) -> PurePosixPath | None:
    """Where ``pip install --user`` with *env*'s Python writes, relative to the home directory
    (None when *env* has no Python)."""
    if not python:
        return None
    major_minor = ".".join(python.split(".")[:2])
    isolated = env.kernel is not None and env.kernel.isolate_user_site
    base = user_base(env.name) if isolated else ".local"
    return PurePosixPath(base) / "lib" / f"python{major_minor}" / "site-packages"


def shadowing(
    environment: str, where: str, entries: Iterable[str], plat: PlatformLock
) -> list[Drift]:
    """A finding per ``*.dist-info`` in a user site whose project is locked in *plat*."""
    locked = {normalize_pypi_name(p.name): p.version for p in plat.packages}
    locked |= {p.name: p.version for p in plat.pypi}
    out = []
    for entry in sorted(entries):
        found = _DIST_INFO.match(entry)
        if not found:
            continue
        name = normalize_pypi_name(found["name"])
        if name in locked:
            out.append(
                Drift(
                    environment,
                    "shadowed",
                    f"{name} {found['version']} in {where} shadows the locked "
                    f"{name} {locked[name]} (pip install --user)",
                )
            )
    return out
