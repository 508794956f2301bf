"""Requirement lists: inline match specs and conda ``environment.yml`` files.

A requirement is a conda match spec string, or a mapping that also says who
asked for it and why (kept in the lock and shown by ``twinlock why``)::

    - numpy >=1.26
    - spec: astropy >=6
      requested-by: science pipelines
      reason: coordinates and units

Specs are validated with rattler's own match-spec parser.
"""

from __future__ import annotations

from collections.abc import Mapping

from twinlock.composition import Channel, Requirement
from twinlock.errors import CompositionError, Problems, kind_of

REQUIREMENT_KEYS = ("spec", "requested-by", "reason")
ENV_FILE_KEYS = ("name", "channels", "dependencies", "prefix", "variables")


def parse_environment_file(
    data: object, *, source: str, problems: Problems | None = None
) -> tuple[tuple[Requirement, ...], tuple[Channel, ...]]:
    """Requirements and channels of a conda ``environment.yml``.

    A ``pip:`` section is refused with a clear error rather than dropped.
    """
    own = problems is None
    sink = Problems(source) if problems is None else problems
    file_problems = Problems(source)
    body = file_problems.mapping(data, "")
    requirements: tuple[Requirement, ...] = ()
    channels: tuple[Channel, ...] = ()
    if body is not None:
        file_problems.unknown_keys(body, ENV_FILE_KEYS, "")
        names = [c for c in body.get("channels") or [] if c != "nodefaults"]
        if names:
            channels = _parse_channels(names, file_problems) or ()
        requirements = _parse_dependencies(body.get("dependencies"), file_problems)
    sink.items.extend(file_problems.items)
    if own and sink.items:
        raise CompositionError(sink.items)
    return requirements, channels


def _parse_dependencies(value: object, problems: Problems) -> tuple[Requirement, ...]:
    if not isinstance(value, list):
        problems.add("dependencies", f"expected a list, got {kind_of(value)}", "list conda specs")
        return ()
    specs: list[object] = []
    for i, item in enumerate(value):
        if isinstance(item, Mapping) and "pip" in item:
            problems.add(
                f"dependencies[{i}].pip",
                "a 'pip:' section is not yet supported",
                "remove the pip section (or replace it by conda packages); "
                "PyPI requirements are not locked yet",
            )
        else:
            specs.append(item)
    return parse_requirements(specs, "dependencies", problems)


def parse_requirements(value: object, key: str, problems: Problems) -> tuple[Requirement, ...]:
    if not isinstance(value, list):
        problems.add(key, f"expected a list of match specs, got {kind_of(value)}", "e.g. - numpy")
        return ()
    out = []
    for i, item in enumerate(value):
        req = _parse_requirement(item, f"{key}[{i}]", problems)
        if req is not None:
            out.append(req)
    return tuple(out)


def _parse_requirement(item: object, key: str, problems: Problems) -> Requirement | None:
    requested_by = reason = None
    if isinstance(item, Mapping):
        problems.unknown_keys(item, REQUIREMENT_KEYS, key)
        spec, requested_by, reason = item.get("spec"), item.get("requested-by"), item.get("reason")
        key = f"{key}.spec"
    else:
        spec = item
    if not isinstance(spec, str) or not spec.strip():
        problems.add(key, f"expected a match spec, got {kind_of(spec)}", "e.g. numpy >=1.26")
        return None
    spec = " ".join(spec.split())
    error = match_spec_error(spec)
    if error:
        problems.add(key, f"invalid match spec '{spec}': {error}", "see conda's match spec syntax")
        return None
    return Requirement(
        spec,
        str(requested_by) if requested_by is not None else None,
        str(reason) if reason is not None else None,
    )


def match_spec_error(spec: str) -> str | None:
    """Why rattler cannot parse *spec*, or None when it can."""
    from rattler import MatchSpec

    try:
        MatchSpec(spec)
    except Exception as exc:  # rattler raises its own InvalidMatchSpecError
        return str(exc)
    return None


def _parse_channels(names: object, problems: Problems) -> tuple[Channel, ...]:
    channel_names = problems.string_list(names, "channels") or []
    channels = []
    for i, text in enumerate(channel_names):
        try:
            channels.append(Channel.from_string(text))
        except ValueError as exc:
            problems.add(f"channels[{i}]", str(exc), "write a name like conda-forge or a URL")
    return tuple(channels)
