"""Target platforms and the virtual packages a solve assumes for each.

A conda solve for another machine needs to be told what that machine offers:
its kernel (``__linux``), C library (``__glibc``), macOS version (``__osx``),
CPU family (``__archspec``) and optionally CUDA (``__cuda``). This module turns
a composition's ``system-requirements`` into that list, per platform, with
defaults that match what conda-forge builds for (glibc 2.28, macOS 11.0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

KNOWN_PLATFORMS: tuple[str, ...] = (
    "linux-64",
    "linux-aarch64",
    "linux-ppc64le",
    "osx-64",
    "osx-arm64",
    "win-64",
)

# archspec names what conda-forge's microarchitecture-aware packages select on.
_ARCHSPEC = {
    "linux-64": "x86_64",
    "linux-aarch64": "aarch64",
    "linux-ppc64le": "ppc64le",
    "osx-64": "x86_64",
    "osx-arm64": "m1",
    "win-64": "x86_64",
}

SYSTEM_REQUIREMENT_KEYS: tuple[str, ...] = ("linux", "libc", "macos", "cuda", "archspec")

DEFAULT_SYSTEM_REQUIREMENTS: Mapping[str, str] = {
    "linux": "4.18",
    "libc": "2.28",
    "macos": "11.0",
}


@dataclass(frozen=True, order=True)
class VirtualPackage:
    """A virtual package the target machine provides, e.g. ``__glibc 2.28``."""

    name: str
    version: str
    build: str = "0"

    def __str__(self) -> str:
        return f"{self.name}={self.version}={self.build}"

    @classmethod
    def parse(cls, text: str) -> VirtualPackage:
        """Inverse of ``str()``: ``__glibc=2.28=0``."""
        name, version, build = text.split("=", 2)
        return cls(name, version, build)


def virtual_packages_for(
    platform: str, requirements: Mapping[str, str] | None = None
) -> tuple[VirtualPackage, ...]:
    """The virtual packages a machine of *platform* offers, sorted by name.

    *requirements* overrides the defaults (keys: linux, libc, macos, cuda, archspec).
    """
    req = {**DEFAULT_SYSTEM_REQUIREMENTS, **(requirements or {})}
    family = platform.split("-", 1)[0]
    packages: list[VirtualPackage] = []
    if family in ("linux", "osx"):
        packages.append(VirtualPackage("__unix", "0"))
    if family == "linux":
        packages.append(VirtualPackage("__linux", req["linux"]))
        packages.append(VirtualPackage("__glibc", req["libc"]))
    elif family == "osx":
        packages.append(VirtualPackage("__osx", req["macos"]))
    elif family == "win":
        packages.append(VirtualPackage("__win", "0"))
    if "cuda" in req:
        packages.append(VirtualPackage("__cuda", req["cuda"]))
    archspec = req.get("archspec", _ARCHSPEC.get(platform, "0"))
    packages.append(VirtualPackage("__archspec", "1", archspec))
    return tuple(sorted(packages))
