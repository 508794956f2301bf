"""One conda ``environment.yml``: its channels, conda dependencies and ``pip:`` section.

What such a file contributes to an environment (:class:`EnvironmentFile`): its conda
specs (limited per platform by selector comments, :mod:`twinlock.spec.selectors`),
its channels, its ``pip:`` section (the PyPI layer) and conda-lock's extension keys
(:mod:`twinlock.spec.condalock`). A conda recipe handed over as an environment file
is recognised and refused with a hint. Each entry is parsed by
:mod:`twinlock.spec.requirements`; :mod:`twinlock.spec.envfiles` merges several files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from twinlock.errors import CompositionError, Problem, Problems, kind_of
from twinlock.model.composition import Channel, PypiRequirement, Requirement
from twinlock.spec.condalock import (
    CONDA_LOCK_KEYS,
    MAIN_CATEGORY,
    FileExtensions,
    check_pypi_access,
    parse_extensions,
)
from twinlock.spec.requirements import (
    FileUnavailable,
    parse_channels,
    parse_pypi_requirements,
    parse_requirement,
)
from twinlock.spec.selectors import merge_duplicates, selected_platforms

ENV_FILE_KEYS = ("name", "channels", "dependencies", "prefix", "variables", *CONDA_LOCK_KEYS)
_R = TypeVar("_R", bound=Requirement)


@dataclass(frozen=True)
class EnvironmentFile:
    """What a conda ``environment.yml`` contributes: conda specs, channels, its pip section."""

    requirements: tuple[Requirement, ...]
    channels: tuple[Channel, ...]
    pypi: tuple[PypiRequirement, ...] = ()
    extensions: FileExtensions = field(default_factory=FileExtensions)


def parse_environment_file(
    data: object, *, source: str, problems: Problems | None = None
) -> tuple[tuple[Requirement, ...], tuple[Channel, ...]]:
    """Requirements and channels of an ``environment.yml`` (see :func:`read_environment_file`)."""
    parts = read_environment_file(data, source=source, problems=problems)
    return parts.requirements, parts.channels


@dataclass(frozen=True)
class EnvironmentText:
    """A loaded environment.yml: its YAML data and its text (selector comments live there)."""

    data: object
    text: str


def read_environment_file(
    data: object, *, source: str, problems: Problems | None = None, text: str | None = None
) -> EnvironmentFile:
    """The conda specs, channels and ``pip:`` section (PyPI layer) of an ``environment.yml``.

    With the file's *text*, selector comments (``# [linux]``) limit dependencies to the
    platforms they select (see :mod:`twinlock.spec.selectors`).
    """
    own = problems is None
    sink = Problems(source) if problems is None else problems
    file_problems = Problems(source)
    body = file_problems.mapping(data, "")
    parts = EnvironmentFile((), ())
    if body is not None and is_recipe(body):
        file_problems.add("", f"this is {NOT_AN_ENV_FILE}", RECIPE_HINT)
    elif body is not None:
        file_problems.unknown_keys(body, ENV_FILE_KEYS, "")
        listed = file_problems.string_list(body.get("channels") or [], "channels") or []
        names = [c for c in listed if c != "nodefaults"]
        channels = (parse_channels(names, "channels", file_problems) or ()) if names else ()
        selected = selected_platforms(text, file_problems) if text is not None else {}
        requirements, pypi = _parse_dependencies(body.get("dependencies"), file_problems, selected)
        extensions = parse_extensions(body, file_problems)
        check_pypi_access(extensions, bool(pypi), file_problems)
        if extensions.category != MAIN_CATEGORY:
            requirements = _with_category(requirements, extensions.category)
            pypi = _with_category(pypi, extensions.category)
        parts = EnvironmentFile(requirements, channels, pypi, extensions)
    sink.items.extend(file_problems.items)
    if own and sink.items:
        raise CompositionError(sink.items)
    return parts


def _with_category(reqs: tuple[_R, ...], category: str) -> tuple[_R, ...]:
    """conda-lock's category of a file, kept as each requirement's provenance."""
    reason = f"conda-lock category '{category}'"
    return tuple(r if r.reason else replace(r, reason=reason) for r in reqs)


# Top-level keys of conda-build's meta.yaml and rattler-build's recipe.yaml.
_RECIPE_KEYS = frozenset({"package", "recipe", "context", "outputs", "requirements", "source"})
NOT_AN_ENV_FILE = "a conda recipe (meta.yaml or recipe.yaml), not an environment file"
RECIPE_HINT = (
    "a recipe's requirements depend on its build variants and templating; point 'file:' at "
    "an environment.yml (channels: and dependencies:) listing the packages to install"
)


def is_recipe(body: Mapping[str, Any]) -> bool:
    """True for the data of a conda recipe (no ``dependencies:``, recipe sections instead)."""
    return "dependencies" not in body and bool(_RECIPE_KEYS & set(map(str, body)))


def unreadable_yaml(text: str, problems: tuple[Problem, ...]) -> FileUnavailable:
    """An environment file whose YAML was refused (a Jinja-templated recipe says so)."""
    if "{%" in text or "{{" in text:
        return FileUnavailable(
            f"it is {NOT_AN_ENV_FILE} (Jinja templating is not YAML)", RECIPE_HINT
        )
    return FileUnavailable(problems[0].message, "fix the YAML syntax", problems)


def _parse_dependencies(
    value: object, problems: Problems, selected: Mapping[int, tuple[str, ...]]
) -> tuple[tuple[Requirement, ...], tuple[PypiRequirement, ...]]:
    """Conda requirements (limited to the platforms *selected* by index) and the pip section."""
    if not isinstance(value, list):
        problems.add("dependencies", f"expected a list, got {kind_of(value)}", "list conda specs")
        return (), ()
    conda: list[Requirement] = []
    pypi: list[PypiRequirement] = []
    for i, item in enumerate(value):
        if isinstance(item, Mapping) and "pip" in item:
            problems.unknown_keys(item, ("pip",), f"dependencies[{i}]")
            pypi += parse_pypi_requirements(item["pip"], f"dependencies[{i}].pip", problems)
            continue
        req = parse_requirement(item, f"dependencies[{i}]", problems)
        if req is not None:
            conda.append(replace(req, platforms=selected[i]) if i in selected else req)
    return merge_duplicates(conda), tuple(pypi)
