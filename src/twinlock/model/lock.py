"""The lock model: what a solve pinned, per environment and platform.

These frozen values are the common currency of every command after ``lock``:
``check``, ``diff``, ``why``, ``install`` all read an :class:`EnvironmentLock`.
:mod:`twinlock.lock.format` maps them to and from the conda-lock v1 file format.

An environment may also have a PyPI layer, resolved by uv: each
:class:`PlatformLock` then carries ``pypi`` (:class:`PypiPackage` values, the
``manager: pip`` entries of the conda-lock file) next to its conda ``packages``.
Code walking the dependency graph should treat the two as separate node kinds:
a PyPI package's ``depends`` names other PyPI packages of the same platform
(normalised PEP 503 names), or conda packages that provide them (see
:meth:`PlatformLock.provider`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from twinlock.model.composition import (
    PypiRequirement,
    Requirement,
    SmokeTests,
    normalize_pypi_name,
)
from twinlock.model.platforms import VirtualPackage

if TYPE_CHECKING:
    from rattler import RepoDataRecord

    from twinlock.model.composition import Channel

LOCK_FORMAT_VERSION = "1"
# custom_metadata key prefix of the per-platform ``{name: license}`` JSON map. conda-lock
# entries carry no license, so twinlock records the solver's one here (for diff and sbom).
LICENSES_KEY = "twinlock.licenses."
# {spec: [platforms]} for requirements an environment.yml selector comment limits.
REQUIREMENT_PLATFORMS_KEY = "twinlock.requirement-platforms"
# custom_metadata key prefix of a layer's per-platform base pin digest (see model/inputs.py)
BASE_PINS_KEY = "twinlock.base-pins."


@dataclass(frozen=True, order=True)
class LockedPackage:
    """One pinned conda package, as recorded in a lock.

    ``url`` and ``channel`` are canonical (e.g. ``https://conda.anaconda.org/conda-forge``)
    whatever local mirror the solve read. ``license`` is the channel's license field
    (None when the repodata record had none).
    """

    name: str
    version: str
    build: str
    subdir: str
    url: str
    channel: str
    md5: str
    sha256: str | None = None
    depends: tuple[str, ...] = ()
    license: str | None = None

    @classmethod
    def from_record(cls, record: RepoDataRecord, channel: Channel) -> LockedPackage:
        """Pin a solver record, rewriting its (mirror) URL to *channel*'s canonical one."""
        return cls(
            name=record.name.normalized,
            version=str(record.version),
            build=str(record.build),
            subdir=record.subdir,
            url=channel.package_url(record.subdir, record.file_name),
            channel=channel.url,
            md5=record.md5.hex() if record.md5 else "",
            sha256=record.sha256.hex() if record.sha256 else None,
            depends=tuple(record.depends),
            license=record.license or None,
        )

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def key(self) -> tuple[str, str, str]:
        """(name, version, build): what identifies a package variant."""
        return (self.name, self.version, self.build)

    def dependency_map(self) -> dict[str, str]:
        """``{name: constraint}`` as conda-lock stores dependencies."""
        out: dict[str, str] = {}
        for dep in self.depends:
            name, _, constraint = dep.partition(" ")
            out[name] = constraint.strip()
        return out


@dataclass(frozen=True, order=True)
class PypiPackage:
    """One pinned PyPI distribution (a ``manager: pip`` entry of the conda-lock file).

    ``url`` is the one artifact chosen for the platform (the best-matching wheel,
    else the sdist) and ``sha256`` its hash, so an install is hash-checked.
    ``depends`` holds the normalised names of the PyPI projects it requires.
    """

    name: str
    version: str
    url: str
    sha256: str
    depends: tuple[str, ...] = ()

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def is_wheel(self) -> bool:
        return self.file_name.endswith(".whl")

    def dependency_map(self) -> dict[str, str]:
        """``{name: ""}``: uv reports which projects are required, not the constraints.

        An empty PEP 440 specifier, not conda's ``*``: rattler (and so pixi) rejects ``*``
        in a pip entry, while conda-lock reads both.
        """
        return {name: "" for name in self.depends}

    def requirement_line(self) -> str:
        """A hash-checked requirements.txt line installing exactly this artifact."""
        return f"{self.name} @ {self.url} --hash=sha256:{self.sha256}"


@dataclass(frozen=True)
class PlatformLock:
    """The pins of one environment on one platform, and the hash of the inputs that made them."""

    platform: str
    input_hash: str
    virtual_packages: tuple[VirtualPackage, ...]
    packages: tuple[LockedPackage, ...]
    pypi: tuple[PypiPackage, ...] = ()

    @classmethod
    def create(
        cls,
        platform: str,
        input_hash: str,
        virtual_packages: Iterable[VirtualPackage],
        packages: Iterable[LockedPackage],
        pypi: Iterable[PypiPackage] = (),
    ) -> PlatformLock:
        return cls(
            platform,
            input_hash,
            tuple(sorted(virtual_packages)),
            tuple(sorted(packages)),
            tuple(sorted(pypi)),
        )

    def pypi_package(self, name: str) -> PypiPackage | None:
        wanted = normalize_pypi_name(name)
        for pkg in self.pypi:
            if pkg.name == wanted:
                return pkg
        return None

    def provider(self, pypi_name: str) -> LockedPackage | None:
        """The conda package providing the PyPI project *pypi_name*, if any (by normalised name)."""
        wanted = normalize_pypi_name(pypi_name)
        for pkg in self.packages:
            if normalize_pypi_name(pkg.name) == wanted:
                return pkg
        return None

    def overlaps(self) -> list[tuple[LockedPackage, PypiPackage]]:
        """Projects locked on both sides (conda ``pyyaml``, PyPI ``PyYAML``): clashes to report."""
        conda = {normalize_pypi_name(p.name): p for p in self.packages}
        return [(conda[p.name], p) for p in self.pypi if p.name in conda]

    def package(self, name: str) -> LockedPackage | None:
        for pkg in self.packages:
            if pkg.name == name:
                return pkg
        return None

    def by_name(self) -> dict[str, LockedPackage]:
        return {p.name: p for p in self.packages}


@dataclass(frozen=True)
class EnvironmentLock:
    """Everything locked for one environment of a composition, across its platforms."""

    composition: str
    environment: str
    prefix: str
    channels: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    platforms: tuple[PlatformLock, ...]
    snapshot: str | None = None
    sources: tuple[str, ...] = field(default=())
    pypi_requirements: tuple[PypiRequirement, ...] = ()
    python: str | None = None  # the Python version of a PyPI-only environment
    align: tuple[str, ...] = ()
    # conda-lock's pip-repositories (credentials stripped), pypi.org last when allowed;
    # empty for plain pypi.org
    pypi_indexes: tuple[str, ...] = ()
    tests: SmokeTests | None = None
    # A layer: its base and, per platform, the "<base> <digest>" of the base pins it holds
    extends: str | None = None
    base_pins: tuple[tuple[str, str], ...] = ()

    def platform(self, name: str) -> PlatformLock | None:
        for lock in self.platforms:
            if lock.platform == name:
                return lock
        return None

    @property
    def platform_names(self) -> tuple[str, ...]:
        return tuple(p.platform for p in self.platforms)

    def with_platforms(self, platforms: Iterable[PlatformLock]) -> EnvironmentLock:
        return replace(self, platforms=tuple(sorted(platforms, key=lambda p: p.platform)))

    def _layer_metadata(self) -> dict[str, str]:
        meta = {"twinlock.extends": self.extends} if self.extends else {}
        for platform, pins in self.base_pins:
            meta[f"{BASE_PINS_KEY}{platform}"] = pins
        return meta

    def custom_metadata(self) -> dict[str, str]:
        """The twinlock fields kept in the conda-lock file's ``custom_metadata``."""
        meta = {
            "twinlock.format": LOCK_FORMAT_VERSION,
            "twinlock.composition": self.composition,
            "twinlock.environment": self.environment,
            "twinlock.prefix": self.prefix,
            "twinlock.requirements": json.dumps([r.spec for r in self.requirements]),
        }
        limited = {r.spec: list(r.platforms) for r in self.requirements if r.platforms is not None}
        optional = {
            "twinlock.snapshot": self.snapshot,
            "twinlock.pypi-requirements": self.pypi_requirements
            and json.dumps([r.spec for r in self.pypi_requirements]),
            "twinlock.python": self.python,
            "twinlock.align": self.align and json.dumps(list(self.align)),
            "twinlock.pypi-indexes": self.pypi_indexes and json.dumps(list(self.pypi_indexes)),
            # Only when a selector comment limits a requirement.
            REQUIREMENT_PLATFORMS_KEY: limited and json.dumps(limited, sort_keys=True),
            "twinlock.tests": self.tests and json.dumps(self.tests.to_json()),
        }
        # Absent, not empty, when unset: locks without these fields keep their bytes.
        meta |= {key: value for key, value in optional.items() if value}
        meta |= self._layer_metadata()
        provenance = {
            r.spec: {k: v for k, v in (("requested-by", r.requested_by), ("reason", r.reason)) if v}
            for r in (*self.requirements, *self.pypi_requirements)
            if r.requested_by or r.reason
        }
        if provenance:
            meta["twinlock.provenance"] = json.dumps(provenance, sort_keys=True)
        for plat in self.platforms:
            meta[f"twinlock.virtual-packages.{plat.platform}"] = " ".join(
                str(v) for v in plat.virtual_packages
            )
        for plat in self.platforms:
            licenses = {p.name: p.license for p in plat.packages if p.license}
            if licenses:
                meta[f"{LICENSES_KEY}{plat.platform}"] = json.dumps(licenses, sort_keys=True)
        return meta


def without_package_facts(custom: Mapping[str, str]) -> dict[str, str]:
    """*custom* metadata minus the per-package facts (licenses) a package-less shell lacks."""
    return {k: v for k, v in custom.items() if not k.startswith(LICENSES_KEY)}
