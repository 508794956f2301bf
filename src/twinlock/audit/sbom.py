"""A CycloneDX SBOM of locked environments (``twinlock sbom``).

Built with the maintained ``cyclonedx-python-lib`` model and serializer, never
hand-written JSON. Pure: it takes locks and a timestamp, and returns text.

* one ``library`` component per locked package per environment x platform,
  with a ``pkg:conda`` package URL (``build``, ``channel``, ``subdir`` and
  ``type`` = ``conda`` | ``tar.bz2`` qualifiers, per the purl spec for conda),
  md5 and sha256 hashes, the license where the lock records one, the download
  URL as a ``distribution`` reference, and the properties
  ``twinlock:environment``, ``twinlock:prefix``, ``twinlock:platform`` and
  ``twinlock:requested`` (a requirement of the environment, or a dependency);
* one ``library`` component per locked PyPI distribution (an environment's PyPI
  layer) with a ``pkg:pypi/<name>@<version>?file_name=..`` purl, its sha256, the
  artifact URL, the same properties and ``twinlock:layer`` = ``pypi``; its
  dependencies link to the PyPI packages (or the conda packages providing them)
  it requires;
* the composition is the BOM's subject (``metadata.component``); the
  ``dependencies`` graph links it to each environment's requested packages and
  each package to the locked packages its ``depends`` name;
* the serial number is derived from the content, so the same locks give the
  same serial number (only the timestamp differs between runs).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from twinlock import __version__
from twinlock.errors import LockFileError, TwinlockError, did_you_mean
from twinlock.model.composition import Composition, normalize_pypi_name, short_channel_name
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock, PypiPackage

if TYPE_CHECKING:
    from cyclonedx.model import ExternalReference, Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component
    from packageurl import PackageURL

FORMATS = ("cyclonedx-json",)
_SERIAL_NAMESPACE = uuid.UUID("5b1f0c52-2a52-4d0e-9a55-7c1c3b0f2f11")


def check_format(name: str) -> None:
    if name not in FORMATS:
        raise TwinlockError(
            f"--format {name}: unknown SBOM format {did_you_mean(name, FORMATS)}".rstrip(),
            f"choose one of: {', '.join(FORMATS)}",
        )


def select_locks(
    composition: Composition,
    locks: Mapping[str, EnvironmentLock],
    environments: Sequence[str],
    platforms: Sequence[str],
) -> list[EnvironmentLock]:
    """The locks of the chosen environments (all by default), cut to the chosen platforms."""
    selected = composition.select(list(environments))
    missing = [env.name for env in selected if env.name not in locks]
    if missing:
        raise LockFileError(
            f"no lock for environment(s) {', '.join(missing)} of {composition.source}",
            f"run twinlock lock {composition.source}",
        )
    chosen = [locks[env.name] for env in selected]
    known = sorted({p for lock in chosen for p in lock.platform_names})
    for name in platforms:
        if name not in known:
            raise TwinlockError(
                f"--platform {name}: not locked here {did_you_mean(name, known)}".rstrip(),
                f"locked platforms: {', '.join(known)}",
            )
    if not platforms:
        return chosen
    return [
        lock.with_platforms(p for p in lock.platforms if p.platform in platforms)
        for lock in chosen
        if any(p in platforms for p in lock.platform_names)
    ]


def render_sbom(
    composition: str, locks: Sequence[EnvironmentLock], *, timestamp: dt.datetime
) -> str:
    """CycloneDX 1.6 JSON describing every package of *locks*."""
    from cyclonedx.output.json import JsonV1Dot6

    return JsonV1Dot6(build_bom(composition, locks, timestamp=timestamp)).output_as_string(indent=2)


def build_bom(composition: str, locks: Sequence[EnvironmentLock], *, timestamp: dt.datetime) -> Bom:
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.dependency import Dependency
    from cyclonedx.model.tool import ToolRepository

    subject = Component(
        type=ComponentType.APPLICATION, name=composition, bom_ref=f"composition:{composition}"
    )
    tool = Component(type=ComponentType.APPLICATION, name="twinlock", version=__version__)
    components: list[Component] = []
    # Dependency values are built directly: Bom.register_dependency searches
    # linearly, which is quadratic (seconds) for a 500-package environment.
    dependencies: list[Dependency] = []
    roots: list[Dependency] = []
    licenses = _LicenseCache()
    for lock in locks:
        requested = {r.name for r in lock.requirements}
        requested_pypi = {r.name for r in lock.pypi_requirements}
        for plat in lock.platforms:
            made = {
                p.name: _component(lock, plat.platform, p, p.name in requested, licenses)
                for p in plat.packages
            }
            made_pypi = {
                p.name: _pypi_component(lock, plat.platform, p, p.name in requested_pypi)
                for p in plat.pypi
            }
            components += [*made.values(), *made_pypi.values()]
            for pkg in plat.packages:
                deps = [Dependency(ref=made[d].bom_ref) for d in pkg.dependency_map() if d in made]
                dependencies.append(Dependency(ref=made[pkg.name].bom_ref, dependencies=deps))
            for pip in plat.pypi:
                deps = [Dependency(ref=ref) for ref in _pypi_refs(plat, pip, made, made_pypi)]
                dependencies.append(Dependency(ref=made_pypi[pip.name].bom_ref, dependencies=deps))
            roots += [Dependency(ref=c.bom_ref) for name, c in made.items() if name in requested]
            roots += [
                Dependency(ref=c.bom_ref) for name, c in made_pypi.items() if name in requested_pypi
            ]
    dependencies.append(Dependency(ref=subject.bom_ref, dependencies=roots))
    return Bom(
        serial_number=_serial(composition, locks),
        metadata=BomMetaData(
            component=subject, timestamp=timestamp, tools=ToolRepository(components=[tool])
        ),
        components=components,
        dependencies=dependencies,
    )


class _LicenseCache:
    """One parsed license per distinct license text (parsing an expression is slow)."""

    def __init__(self) -> None:
        self._made: dict[str, Any] = {}

    def get(self, text: str | None) -> list[Any] | None:
        if not text:
            return None
        if text not in self._made:
            from cyclonedx.contrib.license.factories import LicenseFactory

            self._made[text] = LicenseFactory().make_from_string(text)
        return [self._made[text]]


def _component(
    lock: EnvironmentLock,
    platform: str,
    pkg: LockedPackage,
    requested: bool,
    licenses: _LicenseCache,
) -> Component:
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.component import Component, ComponentType

    hashes = [HashType(alg=HashAlgorithm.MD5, content=pkg.md5)]
    if pkg.sha256:
        hashes.append(HashType(alg=HashAlgorithm.SHA_256, content=pkg.sha256))
    return Component(
        type=ComponentType.LIBRARY,
        name=pkg.name,
        version=pkg.version,
        bom_ref=f"{lock.environment}/{platform}/{pkg.name}-{pkg.version}-{pkg.build}",
        purl=conda_purl(pkg),
        hashes=hashes,
        licenses=licenses.get(pkg.license),
        external_references=[_distribution(pkg.url)],
        properties=_properties(lock, platform, requested),
    )


def _pypi_component(
    lock: EnvironmentLock, platform: str, pkg: PypiPackage, requested: bool
) -> Component:
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.component import Component, ComponentType

    properties = [
        *_properties(lock, platform, requested),
        Property(name="twinlock:layer", value="pypi"),
    ]
    return Component(
        type=ComponentType.LIBRARY,
        name=pkg.name,
        version=pkg.version,
        bom_ref=f"{lock.environment}/{platform}/pypi/{pkg.name}-{pkg.version}",
        purl=pypi_purl(pkg),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=pkg.sha256)],
        external_references=[_distribution(pkg.url)],
        properties=properties,
    )


def _properties(lock: EnvironmentLock, platform: str, requested: bool) -> list[Property]:
    """Where a component sits: twinlock's environment, prefix, platform, and if requested."""
    from cyclonedx.model import Property

    return [
        Property(name="twinlock:environment", value=lock.environment),
        Property(name="twinlock:prefix", value=lock.prefix),
        Property(name="twinlock:platform", value=platform),
        Property(name="twinlock:requested", value="true" if requested else "false"),
    ]


def _distribution(url: str) -> ExternalReference:
    from cyclonedx.model import ExternalReference, ExternalReferenceType, XsUri

    return ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(url))


def _pypi_refs(
    plat: PlatformLock,
    pkg: PypiPackage,
    conda: Mapping[str, Component],
    pypi: Mapping[str, Component],
) -> list[Any]:
    """The components a PyPI package depends on: PyPI ones, or the conda packages providing them."""
    refs = []
    for name in pkg.depends:
        if name in pypi:
            refs.append(pypi[name].bom_ref)
        elif (provider := plat.provider(name)) is not None and provider.name in conda:
            refs.append(conda[provider.name].bom_ref)
    return refs


def pypi_purl(pkg: PypiPackage) -> PackageURL:
    """``pkg:pypi/<normalised name>@<version>?file_name=<the locked artifact>``."""
    from packageurl import PackageURL

    return PackageURL(
        type="pypi",
        name=normalize_pypi_name(pkg.name),
        version=pkg.version,
        qualifiers={"file_name": pkg.file_name},
    )


def conda_purl(pkg: LockedPackage) -> PackageURL:
    """``pkg:conda/<name>@<version>?build=..&channel=..&subdir=..&type=conda|tar.bz2``.

    The channel qualifier is the channel name for anaconda.org channels
    (``conda-forge``), else its URL.
    """
    from packageurl import PackageURL

    channel = short_channel_name(pkg.channel)
    kind = "tar.bz2" if pkg.file_name.endswith(".tar.bz2") else "conda"
    qualifiers = {"build": pkg.build, "channel": channel, "subdir": pkg.subdir, "type": kind}
    return PackageURL(type="conda", name=pkg.name, version=pkg.version, qualifiers=qualifiers)


def _serial(composition: str, locks: Sequence[EnvironmentLock]) -> uuid.UUID:
    """A serial number that depends only on what is locked."""
    parts = [composition]
    for lock in locks:
        for plat in lock.platforms:
            parts += [f"{lock.environment}/{plat.platform}/{p.url}#{p.md5}" for p in plat.packages]
            parts += [f"{lock.environment}/{plat.platform}/{p.url}#{p.sha256}" for p in plat.pypi]
    return uuid.uuid5(_SERIAL_NAMESPACE, "\n".join(parts))
