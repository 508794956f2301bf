"""Where an environment's conda requirements come from: inline, or environment files.

``requirements: [...]``, ``file: a.yml`` or ``file: [a.yml, b.yml]`` (conda-lock's ``-f
a.yml -f b.yml``). The rules of the merge, and why, are in :mod:`twinlock.spec.condalock`;
this module applies them to parsed :class:`~twinlock.spec.environment_yml.EnvironmentFile`
values and checks a file's ``platforms`` against the composition's.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from twinlock.errors import Problems, kind_of
from twinlock.model.composition import Channel, PypiRequirement, Requirement
from twinlock.spec.condalock import FileExtensions, merge_extensions, unify_sources
from twinlock.spec.environment_yml import (
    EnvironmentFile,
    EnvironmentText,
    read_environment_file,
)
from twinlock.spec.requirements import FileUnavailable, parse_requirements

_R = TypeVar("_R", bound=Requirement)


def file_refs(value: object, key: str, problems: Problems) -> tuple[str, ...]:
    """The file names of ``file:`` (a name or a non-empty list of names)."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        problems.add(
            key,
            f"expected a file name or a list of them, got {kind_of(value)}",
            "e.g. file: environment.yml, or file: [environment.yml, dev-environment.yml]",
        )
        return ()
    names = [str(v) for v in items]
    for name in {n for n in names if names.count(n) > 1}:
        problems.add(key, f"'{name}' is listed twice", "list each file once")
    return tuple(dict.fromkeys(names))


def merge_environment_files(
    parts: Sequence[tuple[str, EnvironmentFile]], key: str, problems: Problems
) -> EnvironmentFile:
    """One environment from several files, as conda-lock aggregates ``-f`` files."""
    if len(parts) == 1:
        return parts[0][1]
    files = [f for _, f in parts]
    channels = unify_sources([f.channels for f in files])
    if channels is None:
        listed = "; ".join(
            f"{ref}: [{', '.join(c.name for c in f.channels)}]" for ref, f in parts if f.channels
        )
        problems.add(
            key,
            f"the files' channel lists cannot be merged ({listed}): conda-lock requires "
            "each list to be the end of the longest one, so the channel priority is clear",
            "give the files the same channels (or a common tail), or set 'channels' "
            "on the environment",
        )
        channels = ()
    extensions = merge_extensions([f.extensions for f in files])
    if extensions is None:
        problems.add(
            key,
            "the files' pip-repositories cannot be merged: each list must be the end of "
            "the longest one",
            "list the same pip-repositories in every file (or a common tail)",
        )
        extensions = files[-1].extensions
    return EnvironmentFile(
        requirements=_last_wins([r for f in files for r in f.requirements]),
        channels=channels,
        pypi=_last_wins([r for f in files for r in f.pypi]),
        extensions=extensions,
    )


def _last_wins(reqs: Sequence[_R]) -> tuple[_R, ...]:
    """A later file's spec for a package replaces an earlier one (conda-lock's rule)."""
    by_name: dict[str, _R] = {}
    for req in reqs:
        by_name[req.name] = req
    return tuple(by_name.values())


def narrow_to_file_platforms(
    env_platforms: tuple[str, ...],
    file_platforms: tuple[str, ...],
    key: str,
    composition_platforms: tuple[str, ...],
    problems: Problems,
    *,
    explicit: bool,
) -> tuple[str, ...]:
    """The environment's platforms given its file's conda-lock ``platforms`` key.

    The file narrows the composition's list; naming a platform the composition does not
    target is an error, and so is an environment ``platforms:`` the file excludes.
    """
    outside = [p for p in file_platforms if p not in composition_platforms]
    if outside:
        problems.add(
            f"{key}.file",
            f"the environment file's platforms name {', '.join(outside)}, which the "
            f"composition's platforms ({', '.join(composition_platforms)}) do not",
            "add them to the composition's 'platforms', or remove them from the file's 'platforms'",
        )
    if explicit:
        excluded = [p for p in env_platforms if p not in file_platforms]
        if excluded:
            problems.add(
                f"{key}.platforms",
                f"{', '.join(excluded)} is not among the platforms of the environment file "
                f"({', '.join(file_platforms)})",
                "narrow the environment to the file's platforms, or add the platform to the file",
            )
        return env_platforms
    return tuple(p for p in composition_platforms if p in file_platforms)


def requirement_sources(
    body: Mapping[str, Any], key: str, files: Mapping[str, object], problems: Problems
) -> tuple[
    tuple[Requirement, ...],
    tuple[Channel, ...],
    tuple[str, ...],
    tuple[PypiRequirement, ...],
    FileExtensions,
]:
    """Conda requirements, channels, source files, pip section and conda-lock keys."""
    nothing = (), (), (), (), FileExtensions()
    has_inline, has_file = "requirements" in body, "file" in body
    if "python" in body:
        if has_inline or has_file:
            problems.add(
                key,
                "a PyPI-only environment (python:) takes no conda 'requirements' or 'file'",
                "remove 'python:' to layer PyPI packages on conda's Python, "
                "or move every package to 'pypi:'",
            )
        return nothing
    if has_inline == has_file:
        problems.add(
            key,
            "give exactly one of 'requirements' (a list of specs) or 'file' (an environment.yml)",
            "keep one of the two keys (or set python: for a PyPI-only environment)",
        )
        return nothing
    if has_inline:
        reqs = parse_requirements(body["requirements"], f"{key}.requirements", problems)
        return reqs, (), (), (), FileExtensions()
    refs = file_refs(body["file"], f"{key}.file", problems)
    parts: list[tuple[str, EnvironmentFile]] = []
    for ref in refs:
        loaded = files.get(ref, FileUnavailable("it was not loaded"))
        if isinstance(loaded, FileUnavailable):
            loaded.report(problems, f"{key}.file", ref)
            continue
        source = posixpath.join(posixpath.dirname(problems.source), ref)
        # With the file's text, selector comments (# [linux]) limit lines to platforms.
        data, text = (
            (loaded.data, loaded.text) if isinstance(loaded, EnvironmentText) else (loaded, None)
        )
        parts.append(
            (ref, read_environment_file(data, source=source, problems=problems, text=text))
        )
    if not parts:
        return nothing
    merged = merge_environment_files(parts, f"{key}.file", problems)
    return (
        merged.requirements,
        merged.channels,
        tuple(ref for ref, _ in parts),
        merged.pypi,
        merged.extensions,
    )
