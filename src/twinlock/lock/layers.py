"""Lock order of layered environments (``extends: BASE``): who joins a lock, who goes first.

A layer solves with its base's new pins held, so a lock run takes a selected
layer's bases with it (reused when fresh) and a selected base's layers (its
relock relocks them), and solves them in *waves*: every base in an earlier wave
than its layers. A layer that does not solve with its base's pins held fails
with :class:`LayerUnsolvableError`, which carries those pins for the conflict
report (:mod:`twinlock.explain.layers`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from twinlock.errors import UnsolvableError
from twinlock.model.composition import Composition, Environment
from twinlock.model.lock import PlatformLock


class LayerUnsolvableError(UnsolvableError):
    """Some layer does not solve with its base's pins held; *bases* holds those pins
    per failing (layer, platform), for the conflict report."""

    def __init__(
        self,
        failures: Sequence[tuple[str, str, str]],
        bases: Mapping[tuple[str, str], PlatformLock],
    ) -> None:
        super().__init__(failures)
        self.bases = dict(bases)


def with_layers(
    composition: Composition, selected: Sequence[Environment]
) -> tuple[Environment, ...]:
    """*selected* plus their bases and every layer on those: a layer solves on its base's
    new pins (the base is reused when fresh), and a relock of a base relocks its layers."""
    names = {e.name for e in selected}
    for env in selected:
        base = composition.base_of(env)
        while base is not None:
            names.add(base.name)
            base = composition.base_of(base)
    for name in list(names):
        names |= {layer.name for layer in composition.layers_of(name)}
    return tuple(e for e in composition.environments if e.name in names)


def waves(selected: Sequence[Environment]) -> list[list[Environment]]:
    """*selected* grouped so that every base solves in an earlier wave than its layers."""
    by_name = {e.name: e for e in selected}

    def depth(env: Environment) -> int:
        base = by_name.get(env.extends or "")
        return 0 if base is None else depth(base) + 1

    grouped: dict[int, list[Environment]] = {}
    for env in selected:
        grouped.setdefault(depth(env), []).append(env)
    return [grouped[d] for d in sorted(grouped)]


def base_lock(
    env: Environment, platform: str, settled: Mapping[tuple[str, str], PlatformLock]
) -> PlatformLock | None:
    """The platform lock of *env*'s base, settled in an earlier wave of this run."""
    if env.extends is None:
        return None
    return settled[(env.extends, platform)]
