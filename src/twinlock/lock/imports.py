"""Importing a historical payload: pins from a lock some other tool (or era) wrote.

A historical environment may exist only as an ``@EXPLICIT`` file (``URL#md5``
lines) or a conda-lock file without twinlock metadata. Such files name exact
package files but not always their dependencies or sha256, so each pin is
resolved against the channel (the snapshot) by ``(subdir, file name)`` through
the solver adapter, and the channel's record supplies the rest.

A pin that cannot be resolved (its channel is not one of the environment's,
the channel does not hold the file, or the hashes disagree) is never dropped
silently: it comes back as a :class:`MissingPin` for the caller to report.
Everything here is pure; reading files and querying channels happen elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from twinlock.errors import InputFileError, LockFileError, shorten
from twinlock.model.composition import Channel, Composition, Environment, Requirement
from twinlock.model.inputs import SolveInputs
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock
from twinlock.solve.records import PackageRef
from twinlock.yamlio import load_yaml

_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class Pin:
    """One package file a historical lock names, for one target platform."""

    platform: str
    url: str
    md5: str | None = None
    sha256: str | None = None

    @property
    def channel_url(self) -> str:
        return self.url.rsplit("/", 2)[0].rstrip("/")

    @property
    def subdir(self) -> str:
        return self.url.rsplit("/", 2)[1]

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PinSet:
    """Every pin read from one historical lock file."""

    source: str
    pins: tuple[Pin, ...]

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(sorted({p.platform for p in self.pins}))


@dataclass(frozen=True)
class MissingPin:
    """A pin that could not be resolved against the channels, and why."""

    environment: str
    pin: Pin
    reason: str


def parse_explicit(text: str, *, source: str) -> PinSet:
    """Read an ``@EXPLICIT`` file (``# platform:`` header, ``URL[#md5|#sha256:hex]`` lines)."""
    head, marker, body = text.partition("@EXPLICIT")
    platform = re.search(r"^#\s*platform:\s*(\S+)", head, re.MULTILINE)
    if not marker or platform is None:
        raise LockFileError(
            f"{source}: not an @EXPLICIT file with a '# platform:' line",
            "pass a file written by 'conda list --explicit' or conda-lock's explicit renderer",
        )
    pins = []
    for number, raw in enumerate(body.splitlines(), start=head.count("\n") + 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        url, _, fragment = line.partition("#")
        if url.count("/") < 3:
            raise LockFileError(
                f"{source}:{number}: {shorten(line)} is not a package URL", "fix or remove the line"
            )
        md5, sha256 = _hashes(fragment)
        pins.append(Pin(platform.group(1), url, md5, sha256))
    return PinSet(source, tuple(pins))


def _hashes(fragment: str) -> tuple[str | None, str | None]:
    value = fragment.split(":", 1)[-1].strip()
    if _HEX32.fullmatch(value):
        return value.lower(), None
    if _HEX64.fullmatch(value):
        return None, value.lower()
    return None, None


_HINT = "pass a conda-lock .yml, an @EXPLICIT .txt or a twinlock lock"


def parse_conda_lock_pins(text: str, *, source: str) -> PinSet:
    """The conda packages of any conda-lock v1 file (metadata of other tools is ignored)."""
    try:
        data = load_yaml(text, source, unique_keys=False)
        entries: Sequence[Mapping[str, Any]] = data["package"]
        pins = tuple(
            Pin(e["platform"], e["url"], e["hash"].get("md5"), e["hash"].get("sha256"))
            for e in entries
            if e.get("manager", "conda") == "conda"
        )
    except InputFileError as exc:
        raise LockFileError(exc.message, _HINT) from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise LockFileError(
            f"{source}: not a conda-lock file "
            f"({type(exc).__name__}: {shorten(str(exc), 200, quote=False)})",
            _HINT,
        ) from exc
    return PinSet(source, pins)


def package_refs(pins: PinSet, channels: Sequence[Channel]) -> list[PackageRef]:
    """The channel lookups needed to resolve *pins* (pins of foreign channels need none)."""
    known = {c.url: c for c in channels}
    return [
        PackageRef(known[p.channel_url], p.subdir, p.file_name)
        for p in pins.pins
        if p.channel_url in known
    ]


def resolve_pins(
    environment: Environment,
    pins: PinSet,
    found: Mapping[PackageRef, LockedPackage],
) -> tuple[dict[str, list[LockedPackage]], list[MissingPin]]:
    """Per platform the channel records behind *pins*, plus the pins that found none."""
    known = {c.url: c for c in environment.channels}
    packages: dict[str, list[LockedPackage]] = {p: [] for p in pins.platforms}
    missing: list[MissingPin] = []
    for pin in pins.pins:
        channel = known.get(pin.channel_url)
        record = found.get(PackageRef(channel, pin.subdir, pin.file_name)) if channel else None
        reason = _mismatch(pin, record, channel, environment)
        if reason:
            missing.append(MissingPin(environment.name, pin, reason))
        elif record is not None:
            packages[pin.platform].append(record)
    return packages, missing


def _mismatch(
    pin: Pin, record: LockedPackage | None, channel: Channel | None, env: Environment
) -> str | None:
    if channel is None:
        names = ", ".join(c.name for c in env.channels)
        return f"channel {pin.channel_url} is not one of {env.name}'s channels ({names})"
    if record is None:
        return f"{channel.name}/{pin.subdir} has no {pin.file_name}"
    if pin.md5 and record.md5 and pin.md5 != record.md5:
        return f"md5 differs: the lock says {pin.md5}, {channel.name} has {record.md5}"
    if pin.sha256 and record.sha256 and pin.sha256 != record.sha256:
        return f"sha256 differs: the lock says {pin.sha256}, {channel.name} has {record.sha256}"
    return None


def imported_lock(
    composition: Composition,
    environment: Environment,
    packages: Mapping[str, Sequence[LockedPackage]],
    source: str,
    missing: Sequence[MissingPin] = (),
) -> EnvironmentLock:
    """An environment lock made of exactly *packages*.

    Its recorded requirements are the exact pins (``name ==version build``): an
    imported payload was not solved from requirements, it *is* these packages.
    Pins that were not found stay requirements by name, so a re-solve brings
    back some build of them instead of dropping them.
    """
    specs = sorted({f"{p.name} =={p.version} {p.build}" for ps in packages.values() for p in ps})
    specs += sorted({PackageRef(Channel("", ""), "", m.pin.file_name).name for m in missing})
    requirements = tuple(Requirement(s) for s in specs)
    platforms = []
    for platform, pkgs in sorted(packages.items()):
        inputs = SolveInputs(
            environment=environment.name,
            platform=platform,
            specs=tuple(specs),
            channels=tuple(c.url for c in environment.channels),
            snapshot=None,
            virtual_packages=composition.virtual_packages(platform),
        )
        platforms.append(
            PlatformLock.create(platform, inputs.digest(), inputs.virtual_packages, pkgs)
        )
    return EnvironmentLock(
        composition=composition.name,
        environment=environment.name,
        prefix=environment.prefix,
        channels=tuple(c.url for c in environment.channels),
        requirements=requirements,
        platforms=tuple(platforms),
        snapshot=None,
        sources=(source,),
    )
