"""What environments of one composition share, and what must agree across them.

``twinlock overlap`` answers two questions per platform:

* which packages are locked in more than one environment, and are they
  *identical*, does only the *build* differ, or does the *version* differ?
* do the front-end/back-end pairs that talk across the lab/payload boundary
  still fit? A kernel environment's ``ipywidgets`` needs the lab's
  ``jupyterlab_widgets`` to fall within its declared range, and so on. The
  pairs are data (:data:`BOUNDARY_PAIRS`); each is checked with the constraint
  the package's own record declares on its counterpart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from twinlock.errors import TwinlockError, did_you_mean
from twinlock.model.lock import EnvironmentLock, LockedPackage

Kind = Literal["identical", "build differs", "version differs"]
PairStatus = Literal["compatible", "incompatible", "unconstrained", "one-sided"]


@dataclass(frozen=True)
class BoundaryPair:
    """*package* (in one environment) must fit *counterpart* (in another)."""

    package: str
    counterpart: str
    why: str


BOUNDARY_PAIRS: tuple[BoundaryPair, ...] = (
    BoundaryPair(
        "ipywidgets",
        "jupyterlab_widgets",
        "the kernel's widget models must match the lab's widget manager",
    ),
    BoundaryPair(
        "jupyter_bokeh",
        "bokeh",
        "the lab's Bokeh extension renders documents made by the kernel's bokeh",
    ),
    BoundaryPair(
        "ipykernel",
        "jupyter_client",
        "the kernel's ipykernel speaks the messaging protocol of the lab's jupyter_client",
    ),
)


@dataclass(frozen=True)
class Pin:
    environment: str
    version: str
    build: str


@dataclass(frozen=True)
class SharedPackage:
    name: str
    kind: Kind
    pins: tuple[Pin, ...]


@dataclass(frozen=True)
class PairCheck:
    """One pair checked between the environment holding *package* and another."""

    pair: BoundaryPair
    environment: str
    version: str
    status: PairStatus
    other_environment: str | None = None
    other_version: str | None = None
    spec: str | None = None  # the package's declared constraint on its counterpart


@dataclass(frozen=True)
class PlatformOverlap:
    platform: str
    environments: tuple[str, ...]
    shared: tuple[SharedPackage, ...]
    pairs: tuple[PairCheck, ...]
    aligned: tuple[str, ...] = ()  # the locks' ``align`` list

    def of_kind(self, kind: Kind) -> list[SharedPackage]:
        return [s for s in self.shared if s.kind == kind]

    def alignment(self) -> list[tuple[str, Kind | None]]:
        """Each aligned package and its class here (None: in at most one environment)."""
        kinds = {s.name: s.kind for s in self.shared}
        return [(name, kinds.get(name)) for name in self.aligned]


def overlap(
    locks: Sequence[EnvironmentLock],
    platforms: Sequence[str] = (),
    pairs: Sequence[BoundaryPair] = BOUNDARY_PAIRS,
) -> list[PlatformOverlap]:
    """The overlap on each platform locked by two or more of *locks* (or only *platforms*)."""
    present = sorted({p for lock in locks for p in lock.platform_names})
    for platform in platforms:
        if platform not in present:
            raise TwinlockError(
                f"no environment is locked for platform '{platform}' "
                f"{did_you_mean(platform, present)}".rstrip(),
                f"locked platforms: {', '.join(present)}",
            )
    aligned = tuple(dict.fromkeys(name for lock in locks for name in lock.align))
    out = []
    for platform in platforms or present:
        packages = {
            lock.environment: plat.by_name()
            for lock in locks
            if (plat := lock.platform(platform)) is not None
        }
        if len(packages) < 2:
            continue
        out.append(
            PlatformOverlap(
                platform,
                tuple(packages),
                tuple(_shared(packages)),
                tuple(_pair_checks(packages, pairs)),
                aligned,
            )
        )
    return out


def _shared(packages: Mapping[str, Mapping[str, LockedPackage]]) -> list[SharedPackage]:
    names = sorted({n for by_name in packages.values() for n in by_name})
    out = []
    for name in names:
        pins = tuple(
            Pin(env, by_name[name].version, by_name[name].build)
            for env, by_name in packages.items()
            if name in by_name
        )
        if len(pins) < 2:
            continue
        if len({p.version for p in pins}) > 1:
            kind: Kind = "version differs"
        elif len({p.build for p in pins}) > 1:
            kind = "build differs"
        else:
            kind = "identical"
        out.append(SharedPackage(name, kind, pins))
    return out


def _pair_checks(
    packages: Mapping[str, Mapping[str, LockedPackage]], pairs: Sequence[BoundaryPair]
) -> list[PairCheck]:
    out = []
    for pair in pairs:
        for env, by_name in packages.items():
            pkg = by_name.get(pair.package)
            if pkg is None:
                continue
            others = [
                (other, other_pkgs[pair.counterpart])
                for other, other_pkgs in packages.items()
                if other != env and pair.counterpart in other_pkgs
            ]
            if not others:
                out.append(PairCheck(pair, env, pkg.version, "one-sided"))
            spec = _declared(pkg, pair.counterpart)
            for other, counterpart in others:
                out.append(
                    PairCheck(
                        pair,
                        env,
                        pkg.version,
                        _status(spec, counterpart),
                        other,
                        counterpart.version,
                        spec,
                    )
                )
    return out


def _declared(pkg: LockedPackage, name: str) -> str | None:
    for dep in pkg.depends:
        if dep.split(" ", 1)[0].lower() == name:
            return dep
    return None


def _status(spec: str | None, counterpart: LockedPackage) -> PairStatus:
    if spec is None:
        return "unconstrained"
    from rattler import BuildString, MatchSpec, PackageRecord

    tail = counterpart.build.rsplit("_", 1)[-1]
    record = PackageRecord(
        counterpart.name,
        counterpart.version,
        BuildString(counterpart.build),
        int(tail) if tail.isdigit() else 0,
        counterpart.subdir,
    )
    return "compatible" if MatchSpec(spec).matches(record) else "incompatible"
