"""The inputs of one solve, their hash, and how two sets of inputs differ.

A lock is fresh when the hash of the inputs that would be solved today equals
the hash recorded in the lock (conda-lock's ``content_hash``). The inputs are
everything that can change the solution: requirements, channels (canonical
URLs, never the mirror used), the snapshot cut-off, the virtual packages and
the lock format version, and the composition's ``align`` list (alignment
re-solves with pins taken from the other environments). Prefixes and
provenance are not solve inputs.

An environment with a PyPI layer adds its PyPI requirements and, when it is
PyPI-only, its Python version; both enter the hash only when present, so the
hash of a conda-only environment is unchanged by the PyPI support. (A mixed
environment's Python version is an output of its conda solve, covered by the
conda inputs.) The interpreter path is machine-specific and not an input.

A layer (``extends: BASE``) solves with its base's pins held fixed, so those
pins are an input: :func:`pins_digest` of the base's platform lock enters the
hash, and a relock of the base that moves any pin makes the layer stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from twinlock.model.composition import Composition, Environment
from twinlock.model.lock import LOCK_FORMAT_VERSION, EnvironmentLock, PlatformLock
from twinlock.model.platforms import VirtualPackage


@dataclass(frozen=True)
class SolveInputs:
    """What one environment x platform solve depends on."""

    environment: str
    platform: str
    specs: tuple[str, ...]
    channels: tuple[str, ...]
    snapshot: str | None
    virtual_packages: tuple[VirtualPackage, ...]
    pypi_specs: tuple[str, ...] = ()
    python: str | None = None
    align: tuple[str, ...] = ()
    pypi_indexes: tuple[str, ...] = ()
    base_pins: str | None = None  # "<base> <pins_digest>" of a layer's base

    @classmethod
    def for_environment(
        cls,
        composition: Composition,
        env: Environment,
        platform: str,
        base_digest: str | None = None,
    ) -> SolveInputs:
        """The inputs of *env* on *platform*; a layer's *base_digest* is the
        :func:`pins_digest` of its base's platform lock."""
        return cls(
            environment=env.name,
            platform=platform,
            specs=env.specs_on(platform),
            channels=tuple(c.url for c in env.channels),
            snapshot=composition.snapshot_text(),
            virtual_packages=composition.virtual_packages(platform),
            pypi_specs=env.pypi_specs,
            python=env.python,
            align=composition.align,
            pypi_indexes=env.recorded_pypi_indexes,
            base_pins=f"{env.extends} {base_digest}" if env.extends and base_digest else None,
        )

    @classmethod
    def recorded_in(cls, lock: EnvironmentLock, platform: str) -> SolveInputs | None:
        """The inputs a lock says it was made from (None if it lacks *platform*)."""
        plat = lock.platform(platform)
        if plat is None:
            return None
        return cls(
            environment=lock.environment,
            platform=platform,
            specs=tuple(r.spec for r in lock.requirements if r.applies_on(platform)),
            channels=lock.channels,
            snapshot=lock.snapshot,
            virtual_packages=plat.virtual_packages,
            pypi_specs=tuple(r.spec for r in lock.pypi_requirements),
            python=lock.python,
            align=lock.align,
            pypi_indexes=lock.pypi_indexes,
            base_pins=dict(lock.base_pins).get(platform),
        )

    def digest(self) -> str:
        """A stable sha256 over the canonical JSON form of the inputs."""
        payload = {
            "format": LOCK_FORMAT_VERSION,
            "platform": self.platform,
            # Order of requirements does not change a solve; channel order does.
            "specs": sorted(self.specs),
            "channels": list(self.channels),
            "snapshot": self.snapshot,
            "virtual_packages": sorted(str(v) for v in self.virtual_packages),
        }
        if self.pypi_specs:
            payload["pypi"] = sorted(self.pypi_specs)
        if self.python:
            payload["python"] = self.python
        if self.align:
            # Only when set, so locks made without alignment keep their hashes.
            payload["align"] = sorted(self.align)
        if self.pypi_indexes:
            # Ordered (index priority matters), credentials never included.
            payload["pypi_indexes"] = list(self.pypi_indexes)
        if self.base_pins:
            payload["base_pins"] = self.base_pins
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def changes_since(self, old: SolveInputs) -> list[str]:
        """Human-readable reasons why *old* inputs differ from these."""
        reasons: list[str] = []
        added = sorted(set(self.specs) - set(old.specs))
        removed = sorted(set(old.specs) - set(self.specs))
        reasons += [f"requirement added: {s}" for s in added]
        reasons += [f"requirement removed: {s}" for s in removed]
        reasons += [
            f"PyPI requirement added: {s}"
            for s in sorted(set(self.pypi_specs) - set(old.pypi_specs))
        ]
        reasons += [
            f"PyPI requirement removed: {s}"
            for s in sorted(set(old.pypi_specs) - set(self.pypi_specs))
        ]
        if self.python != old.python:
            reasons.append(f"Python version changed: {old.python} -> {self.python}")
        if self.channels != old.channels:
            reasons.append(f"channels changed: {list(old.channels)} -> {list(self.channels)}")
        if self.snapshot != old.snapshot:
            reasons.append(f"snapshot changed: {old.snapshot} -> {self.snapshot}")
        if sorted(self.virtual_packages) != sorted(old.virtual_packages):
            old_vp = " ".join(str(v) for v in sorted(old.virtual_packages))
            new_vp = " ".join(str(v) for v in sorted(self.virtual_packages))
            reasons.append(f"virtual packages changed: {old_vp} -> {new_vp}")
        if self.pypi_indexes != old.pypi_indexes:
            reasons.append(
                f"PyPI indexes changed: {list(old.pypi_indexes)} -> {list(self.pypi_indexes)}"
            )
        if self.base_pins != old.base_pins:
            base = (self.base_pins or old.base_pins or "?").split(" ")[0]
            reasons.append(f"the pins of its base '{base}' changed (relock it with its base)")
        if sorted(self.align) != sorted(old.align):
            reasons.append(f"align changed: {sorted(old.align)} -> {sorted(self.align)}")
        return reasons

    def only_requirements_differ(self, old: SolveInputs) -> bool:
        """True when channels, snapshot and virtual packages are unchanged (a layer's
        moved base pins count as a requirement change: its own pins stay preferred)."""
        return (
            self.channels == old.channels
            and self.python == old.python
            and self.snapshot == old.snapshot
            and sorted(self.virtual_packages) == sorted(old.virtual_packages)
        )


def pins_digest(plat: PlatformLock) -> str:
    """A sha256 over the exact files of a platform lock: its ``URL#md5`` lines, sorted.

    The same lines as the body of its ``@EXPLICIT`` file (:func:`explicit_pins_digest`),
    so a layer's freshness can be judged from its base's small text file.
    """
    return explicit_pins_digest(f"{p.url}#{p.md5}" for p in plat.packages)


def explicit_pins_digest(lines: Iterable[str]) -> str:
    """:func:`pins_digest` of the ``URL#md5`` lines of an ``@EXPLICIT`` body."""
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
