"""The target machines of a composition: its ``platforms`` and ``system-requirements``.

Platform names are checked against twinlock's table (:data:`KNOWN_PLATFORMS`)
and, for any other name, against rattler's own list of conda platforms: a real
conda platform twinlock cannot target (``linux-s390x``, ``noarch``) is told
apart from a typo, and a typo gets the nearest platform name suggested.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from types import MappingProxyType

from twinlock.errors import Problems, did_you_mean, kind_of, shorten
from twinlock.model.platforms import KNOWN_PLATFORMS, SYSTEM_REQUIREMENT_KEYS


@functools.cache
def conda_platforms() -> tuple[str, ...]:
    """Every platform (subdir) name rattler knows (read only for names outside twinlock's table)."""
    import rattler

    return tuple(str(p) for p in rattler.Subdir.all())


def platform_problem(name: str) -> tuple[str, str] | None:
    """Why *name* cannot be a target platform, and the fix; None when it can."""
    if name in KNOWN_PLATFORMS:
        return None
    known = f"known platforms: {', '.join(KNOWN_PLATFORMS)}"
    if name in conda_platforms():
        return f"'{name}' is a conda platform twinlock cannot target", known
    near = did_you_mean(name, KNOWN_PLATFORMS) or did_you_mean(name, conda_platforms())
    return f"unknown platform '{name}' {near}".rstrip(), known


def parse_platforms(value: object, key: str, problems: Problems) -> tuple[str, ...] | None:
    """The platform list at *key* (duplicates dropped, order kept)."""
    if value is None:
        problems.add(key, "missing required key", "e.g. platforms: [linux-64, osx-arm64]")
        return None
    names = problems.string_list(value, key)
    if names is None:
        return None
    if not names:
        problems.add(key, "no platforms given", "list at least one platform")
    for i, platform in enumerate(names):
        problem = platform_problem(platform)
        if problem is not None:
            problems.add(f"{key}[{i}]", *problem)
    return tuple(dict.fromkeys(names))


def parse_system_requirements(value: object, problems: Problems) -> Mapping[str, Mapping[str, str]]:
    """Per-platform requirement overrides (a top-level key applies to every platform)."""
    if value is None:
        return MappingProxyType({})
    data = problems.mapping(value, "system-requirements")
    if data is None:
        return MappingProxyType({})
    common: dict[str, str] = {}
    per_platform: dict[str, dict[str, str]] = {}
    for key, item in data.items():
        where = f"system-requirements.{key}"
        if key in KNOWN_PLATFORMS:
            nested = problems.mapping(item, where) or {}
            problems.unknown_keys(nested, SYSTEM_REQUIREMENT_KEYS, where)
            per_platform[key] = {
                k: _system_value(k, v, f"{where}.{k}", problems) for k, v in nested.items()
            }
        elif key in SYSTEM_REQUIREMENT_KEYS:
            common[key] = _system_value(key, item, where, problems)
        else:
            allowed = SYSTEM_REQUIREMENT_KEYS + KNOWN_PLATFORMS
            problems.add(
                where,
                f"unknown key '{key}' {did_you_mean(str(key), allowed)}".rstrip(),
                f"use one of {', '.join(SYSTEM_REQUIREMENT_KEYS)} or a platform name",
            )
    merged = {p: MappingProxyType({**common, **per_platform.get(p, {})}) for p in KNOWN_PLATFORMS}
    return MappingProxyType(merged)


# libc needs major.minor (PyPI's manylinux tag is derived from it); the others a version.
_SYSTEM_VERSION = {"libc": r"\d+\.\d+(\.\d+)*", "linux": r"\d+(\.\d+)*"}
_SYSTEM_VERSION |= {"macos": _SYSTEM_VERSION["linux"], "cuda": _SYSTEM_VERSION["linux"]}


def _system_value(key: str, value: object, where: str, problems: Problems) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        problems.add(where, f"expected a version, got {kind_of(value)}", 'e.g. libc: "2.28"')
        return ""
    text = str(value)
    pattern = _SYSTEM_VERSION.get(key)
    if pattern is not None and not re.fullmatch(pattern, text):
        example = "2.28" if key == "libc" else "12.4"
        problems.add(
            where, f"{shorten(text)} is not a version", f'write it as a quoted version: "{example}"'
        )
    return text
