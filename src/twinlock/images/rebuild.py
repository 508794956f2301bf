"""Maintenance rebuilds: keep a historical environment exactly, move only what is asked.

Given the historical locks of a composition (*base*, one :class:`EnvironmentLock`
per environment, from a lock directory, a git revision or an import):

* an environment neither refreshed nor updated is **kept**: its lock is the
  historical one, unchanged, so its files are rewritten byte for byte;
* ``refresh`` environments are **solved anew** from today's composition,
  optionally at another ``snapshot`` (e.g. the lab machinery moves on);
* ``update`` names packages of an environment that may move: it is re-solved
  from its *historical* requirements, preferring every historical pin except
  the named ones (``locked`` minus named), so only they and what they force move.

Consistency (every dependency met inside each environment) is checked on the
result. Pure: the solver is handed in and nothing is read or written here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from twinlock.errors import TwinlockError, UnsolvableError, did_you_mean
from twinlock.lock.assemble import environment_lock
from twinlock.lock.check import Finding, check_consistency, cross_environment_findings
from twinlock.lock.plan import PackageChange, package_changes
from twinlock.model.composition import Channel, Composition, Requirement
from twinlock.model.inputs import SolveInputs, pins_digest
from twinlock.model.lock import EnvironmentLock, PlatformLock
from twinlock.solve.adapter import SolveOutcome, Solver, SolveRequest

Action = Literal["kept", "updated", "refreshed"]


@dataclass(frozen=True)
class RebuildOptions:
    refresh: tuple[str, ...] = ()
    # environment -> package names allowed to move
    update: Mapping[str, tuple[str, ...]] | None = None
    snapshot: dt.datetime | None = None

    @classmethod
    def parse(
        cls, refresh: Sequence[str], update: Sequence[str], snapshot: dt.datetime | None
    ) -> RebuildOptions:
        """From CLI values: ``--refresh ENV`` and ``--update ENV:PKG``."""
        updates: dict[str, list[str]] = {}
        for item in update:
            env, sep, pkg = item.partition(":")
            if not sep or not env or not pkg:
                raise TwinlockError(
                    f"--update {item!r}: expected ENV:PKG", "e.g. --update payload:astropy"
                )
            updates.setdefault(env, []).append(pkg.lower())
        frozen = {k: tuple(v) for k, v in updates.items()}
        return cls(tuple(refresh), frozen, snapshot)


@dataclass(frozen=True)
class EnvironmentRebuild:
    environment: str
    action: Action
    lock: EnvironmentLock
    changes: tuple[tuple[str, tuple[PackageChange, ...]], ...]  # (platform, changes)


@dataclass(frozen=True)
class RebuildResult:
    environments: tuple[EnvironmentRebuild, ...]
    findings: tuple[Finding, ...]

    @property
    def locks(self) -> tuple[EnvironmentLock, ...]:
        return tuple(e.lock for e in self.environments)


def rebuild_composition(
    composition: Composition,
    base: Mapping[str, EnvironmentLock],
    solver: Solver,
    *,
    sources: Mapping[str, tuple[str, ...]],
    options: RebuildOptions,
) -> RebuildResult:
    """Keep, update or refresh every environment of *composition* (see the module doc)."""
    updates = dict(options.update or {})
    _validate(composition, base, options.refresh, updates)
    target = replace(composition, snapshot=options.snapshot or composition.snapshot)
    requests = [r for name in options.refresh for r in _refresh_requests(target, name, base)]
    for name, packages in updates.items():
        requests += _update_requests(target, base[name], frozenset(packages))
    outcomes = {(o.request.environment, o.request.platform): o for o in solver.solve_all(requests)}
    failures = [(e, p, o.error or "") for (e, p), o in outcomes.items() if not o.solved]
    if failures:
        raise UnsolvableError(failures)
    results = []
    for env in composition.environments:
        if env.name in options.refresh:
            held = [_base_platform(target, env.name, p, base) for p in env.platforms]
            inputs = [
                SolveInputs.for_environment(target, env, p, pins_digest(b) if b else None)
                for p, b in zip(env.platforms, held, strict=True)
            ]
            platforms = [_platform_lock(outcomes[(env.name, i.platform)], i) for i in inputs]
            base_pins = [(i.platform, i.base_pins) for i in inputs]
            lock = _keeping_tests(
                environment_lock(target, env, platforms, sources[env.name], base_pins),
                base.get(env.name),
            )
            results.append(_summarise(env.name, "refreshed", base.get(env.name), lock))
        elif env.name in updates:
            lock = _updated_lock(target, base[env.name], outcomes)
            results.append(_summarise(env.name, "updated", base[env.name], lock))
        else:
            results.append(_summarise(env.name, "kept", base[env.name], base[env.name]))
    findings = [f for r in results for f in check_consistency(r.lock)]
    # Kept and rebuilt environments must still fit together (alignment, kernel wiring).
    findings += cross_environment_findings(target, {r.environment: r.lock for r in results})
    return RebuildResult(tuple(results), tuple(findings))


def _keeping_tests(lock: EnvironmentLock, historical: EnvironmentLock | None) -> EnvironmentLock:
    """A refreshed lock records the historical image's smoke tests too."""
    if historical is None or historical.tests is None:
        return lock
    tests = historical.tests.merged_with(lock.tests)
    return replace(lock, tests=tests)


def _validate(
    composition: Composition,
    base: Mapping[str, EnvironmentLock],
    refresh: Sequence[str],
    updates: Mapping[str, Sequence[str]],
) -> None:
    for name in [*refresh, *updates]:
        composition.environment(name)  # raises with did-you-mean
        _check_no_layers(composition, name)
    for name, packages in updates.items():
        if name in refresh:
            raise TwinlockError(
                f"--update {name}:... and --refresh {name}: a refreshed environment is solved "
                "anew anyway",
                f"drop one of them for '{name}'",
            )
        if name not in base:
            raise TwinlockError(
                f"--update {name}:...: --from has no lock for '{name}'",
                f"refresh it instead (--refresh {name})",
            )
        locked = {p.name for plat in base[name].platforms for p in plat.packages}
        locked |= {r.name for r in base[name].requirements}
        for pkg in packages:
            if pkg not in locked:
                raise TwinlockError(
                    f"--update {name}:{pkg}: no such package in the historical lock of "
                    f"'{name}' {did_you_mean(pkg, locked)}".rstrip(),
                    "name a package the historical lock pins",
                )
    require_history(composition, base.keys(), refresh)


def _check_no_layers(composition: Composition, name: str) -> None:
    """A base cannot move in a rebuild: its layers hold its historical pins."""
    layers = [e.name for e in composition.layers_of(name)]
    if layers:
        raise TwinlockError(
            f"'{name}' is the base of {', '.join(layers)}, which hold its historical pins: "
            "a rebuild cannot move it",
            "keep the base and rebuild its layers (--refresh LAYER), or move the base "
            "and its layers together with twinlock lock",
        )


def require_history(
    composition: Composition, available: Iterable[str], refresh: Sequence[str]
) -> None:
    """Every environment must be refreshed or have a historical lock."""
    have = set(available) | set(refresh)
    for env in composition.environments:
        if env.name not in have:
            raise TwinlockError(
                f"--from has no lock for environment '{env.name}'",
                f"refresh it (--refresh {env.name}) or name its lock with --from {env.name}=FILE",
            )


def _refresh_requests(
    composition: Composition, name: str, base: Mapping[str, EnvironmentLock]
) -> list[SolveRequest]:
    """*name* solved anew; a layer holds its (kept) base's historical pins."""
    env = composition.environment(name)
    out = []
    for p in env.platforms:
        held = _base_platform(composition, name, p, base)
        pinned = held.packages if held is not None else ()
        out.append(SolveRequest.for_environment(composition, env, p, pinned=pinned))
    return out


def _base_platform(
    composition: Composition, name: str, platform: str, base: Mapping[str, EnvironmentLock]
) -> PlatformLock | None:
    """The historical platform lock of *name*'s base (None when *name* is no layer)."""
    extends = composition.environment(name).extends
    if extends is None:
        return None
    lock = base.get(extends)
    found = lock.platform(platform) if lock is not None else None
    if found is None:
        raise TwinlockError(
            f"'{name}' extends '{extends}', which --from has no {platform} lock for",
            f"name the base's lock with --from {extends}=FILE",
        )
    return found


def _update_requests(
    composition: Composition, lock: EnvironmentLock, names: frozenset[str]
) -> list[SolveRequest]:
    """Re-solve the historical requirements, preferring every pin but the named ones."""
    channels = tuple(Channel(name=url, url=url) for url in lock.channels)
    return [
        SolveRequest(
            environment=lock.environment,
            platform=plat.platform,
            specs=tuple(_loosen(r).spec for r in lock.requirements if r.applies_on(plat.platform)),
            channels=channels,
            virtual_packages=plat.virtual_packages,
            snapshot=composition.snapshot,
            locked=tuple(p for p in plat.packages if p.name not in names),
        )
        for plat in lock.platforms
    ]


def _platform_lock(outcome: SolveOutcome, inputs: SolveInputs) -> PlatformLock:
    """The solved platform, hashed over every input ``check`` compares (align, python...)."""
    request = outcome.request
    assert outcome.packages is not None
    return PlatformLock.create(
        request.platform, inputs.digest(), request.virtual_packages, outcome.packages
    )


def _updated_lock(
    composition: Composition,
    lock: EnvironmentLock,
    outcomes: Mapping[tuple[str, str], SolveOutcome],
) -> EnvironmentLock:
    requirements = tuple(_loosen(r) for r in lock.requirements)
    platforms = [
        _platform_lock(outcomes[(lock.environment, p)], _historical_inputs(composition, lock, p))
        for p in lock.platform_names
    ]
    return replace(
        lock,
        requirements=requirements,
        platforms=tuple(platforms),
        snapshot=composition.snapshot_text(),
    )


def _historical_inputs(
    composition: Composition, lock: EnvironmentLock, platform: str
) -> SolveInputs:
    """What an updated lock was solved from: its own recorded inputs, loosened, re-dated."""
    recorded = SolveInputs.recorded_in(lock, platform)
    assert recorded is not None  # platform comes from lock.platform_names
    specs = tuple(_loosen(r).spec for r in lock.requirements if r.applies_on(platform))
    return replace(recorded, specs=specs, snapshot=composition.snapshot_text())


def _loosen(requirement: Requirement) -> Requirement:
    """An imported exact pin (``name ==version build``) becomes ``name``.

    The historical pins are still preferred (``locked``), so only the named
    packages and what they force move. Ordinary requirements (``astropy >=6``)
    are kept: --update moves a package within what was asked for, never beyond.
    """
    if " ==" in requirement.spec:
        return Requirement(
            requirement.name,
            reason="imported pin, loosened by --update",
            platforms=requirement.platforms,
        )
    return requirement


def _summarise(
    name: str, action: Action, old: EnvironmentLock | None, new: EnvironmentLock
) -> EnvironmentRebuild:
    changes = tuple(
        (plat.platform, package_changes(old.platform(plat.platform) if old else None, plat))
        for plat in new.platforms
    )
    return EnvironmentRebuild(name, action, new, changes)
