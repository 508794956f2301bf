"""What an environment's lock records besides its pins, taken from the composition.

:func:`environment_lock` wraps solved platform locks in that metadata (channels,
requirements, snapshot, PyPI requirements and indexes, tests, a layer's base);
:func:`expected_shell` is the same lock without packages, carrying the input hash
each platform must have: what ``check`` and the no-op stamp compare a lock on disk
with. :mod:`twinlock.lock.plan` and a rebuild (:mod:`twinlock.images.rebuild`)
assemble their locks here, so a fresh lock and its expected shell cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from twinlock.model.composition import Composition, Environment
from twinlock.model.inputs import SolveInputs
from twinlock.model.lock import EnvironmentLock, PlatformLock


def environment_lock(
    composition: Composition,
    env: Environment,
    platforms: Iterable[PlatformLock],
    sources: tuple[str, ...],
    base_pins: Iterable[tuple[str, str | None]] = (),
) -> EnvironmentLock:
    """The lock of *env* made of *platforms*, with metadata taken from the composition;
    a layer's *base_pins* are ``(platform, "<base> <digest>")`` pairs."""
    return EnvironmentLock(
        composition=composition.name,
        environment=env.name,
        prefix=env.prefix,
        channels=tuple(c.url for c in env.channels),
        requirements=env.requirements,
        platforms=tuple(sorted(platforms, key=lambda p: p.platform)),
        snapshot=composition.snapshot_text(),
        sources=sources,
        pypi_requirements=env.pypi,
        python=env.python,
        align=composition.align,
        pypi_indexes=env.recorded_pypi_indexes,
        tests=env.tests,
        extends=env.extends,
        base_pins=tuple(sorted((p, pins) for p, pins in base_pins if pins)),
    )


def expected_shell(
    composition: Composition,
    env: Environment,
    sources: tuple[str, ...],
    base_pins: Mapping[str, str] | None = None,
) -> EnvironmentLock:
    """What a fresh lock of *env* must record, without its packages (a layer's hashes
    need its base's :func:`pins_digest` per platform, *base_pins*)."""
    shells, recorded = [], []
    for platform in env.platforms:
        digest = (base_pins or {}).get(platform)
        inputs = SolveInputs.for_environment(composition, env, platform, digest)
        shells.append(PlatformLock.create(platform, inputs.digest(), inputs.virtual_packages, ()))
        recorded.append((platform, inputs.base_pins))
    return environment_lock(composition, env, shells, sources, recorded)
