"""The one parse of a conda requirement: conda's own dialect, read by rattler's ``MatchSpec``.

conda (and conda-lock) accept more spellings than rattler's strict parser, e.g.
``python=3.12.*``, ``ipywidgets==8.*``, ``numpy=1.2=py_0`` or
``numpy[version='>=1',build=py*]``. Each requirement is parsed here once,
leniently (``strict=False``: ambiguous specs are read the way conda reads them),
and the solver is given the canonical string of that parse
(``python 3.12.*``, ``ipywidgets 8.*``, ``numpy ==1.2 py_0``), which rattler's
strict parser reads back unchanged. What is validated is what is solved.

Lenient parsing also accepts a few forms conda refuses, such as a build string
with spaces (``numpy 1.2 b1 extra``) or an ``=`` inside the build; those are
refused here, because the solver would silently read something else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from twinlock.errors import Problems, shorten
from twinlock.model.composition import Channel, Requirement

if TYPE_CHECKING:
    from rattler import MatchSpec


class InvalidCondaSpec(ValueError):
    """A conda requirement that neither conda's dialect nor rattler accepts (message: why)."""


@dataclass(frozen=True)
class CondaSpec:
    """A parsed conda requirement: as written, and as the solver reads it."""

    written: str
    canonical: str
    name: str

    @classmethod
    def parse(cls, text: str) -> CondaSpec:
        """Parse *text* in conda's dialect; raises :class:`InvalidCondaSpec`."""
        spec = to_match_spec(text)
        canonical = str(spec)
        _check_round_trip(canonical)
        name = spec.name.normalized if spec.name is not None else ""
        return cls(written=text, canonical=canonical, name=name)


def to_match_spec(text: str) -> MatchSpec:
    """rattler's lenient reading of *text* (conda's rules); raises :class:`InvalidCondaSpec`.

    The solver adapter reads every spec string through this function, so specs
    that bypass :meth:`CondaSpec.parse` (conflict probes, rebuild pins) are read
    by the same rules.
    """
    from rattler import MatchSpec

    if "\n" in text:
        raise InvalidCondaSpec("a spec is a single line")
    try:
        spec = MatchSpec(text, strict=False)
    except Exception as exc:  # rattler raises its own InvalidMatchSpecError
        raise InvalidCondaSpec(_first_line(exc)) from exc
    if spec.name is None:
        raise InvalidCondaSpec("missing package name")
    build = spec.build
    if build is not None and (any(c.isspace() for c in build) or "=" in build):
        raise InvalidCondaSpec(
            f"'{build}' is not a build string: a spec has at most a name, a version and a build"
        )
    return spec


def _check_round_trip(canonical: str) -> None:
    """The canonical form must read back strictly (else the solver would refuse it)."""
    from rattler import MatchSpec

    try:
        MatchSpec(canonical, strict=True)
    except Exception as exc:
        raise InvalidCondaSpec(f"read as '{canonical}', which {_first_line(exc)}") from exc


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def check_spec_channels(
    requirements: tuple[Requirement, ...],
    channels: tuple[Channel, ...],
    key: str,
    problems: Problems,
) -> None:
    """A spec naming a channel (``conda-forge::numpy``) must name one the environment uses.

    conda would quietly add the channel; a lock must not read a channel it does not record.
    """
    urls = {c.url for c in channels}
    for req in requirements:
        if "::" not in req.spec and "channel" not in req.spec:
            continue
        channel = to_match_spec(req.spec).channel
        if channel is None or channel.base_url.rstrip("/") in urls:
            continue
        problems.add(
            key,
            f"'{shorten(req.spec, quote=False)}' asks for channel '{channel.name}', "
            "which is not among "
            f"the environment's channels ({', '.join(c.name for c in channels) or 'none'})",
            f"add {channel.name} to the channels, or drop '{channel.name}::' from the spec",
        )
