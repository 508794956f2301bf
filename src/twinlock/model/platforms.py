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
from types import MappingProxyType


@dataclass(frozen=True)
class PlatformFacts:
    """What twinlock needs to know about one target platform, in one row.

    *archspec* is the CPU family conda-forge's microarchitecture-aware packages
    select on (``__archspec``); *uv_target* is uv's ``--python-platform`` name
    (``{}``: the manylinux level, from the glibc requirement) and *wheel_arch*
    the architecture in wheel tags; both are None where twinlock does not lock
    a PyPI layer.
    """

    name: str
    archspec: str
    uv_target: str | None = None
    wheel_arch: str | None = None


# Every platform twinlock can target. spec validation checks other names against
# rattler's own list, so a real conda platform is told apart from a typo.
PLATFORMS: Mapping[str, PlatformFacts] = MappingProxyType(
    {
        p.name: p
        for p in (
            PlatformFacts("linux-64", "x86_64", "x86_64-manylinux_{}", "x86_64"),
            PlatformFacts("linux-aarch64", "aarch64", "aarch64-manylinux_{}", "aarch64"),
            PlatformFacts("linux-ppc64le", "ppc64le"),
            PlatformFacts("osx-64", "x86_64", "x86_64-apple-darwin", "x86_64"),
            PlatformFacts("osx-arm64", "m1", "aarch64-apple-darwin", "arm64"),
            PlatformFacts("win-64", "x86_64", "x86_64-pc-windows-msvc", "amd64"),
        )
    }
)
KNOWN_PLATFORMS: tuple[str, ...] = tuple(PLATFORMS)

# The manylinux levels uv accepts as targets (the glibc minor versions of manylinux_2_N).
MANYLINUX_LEVELS: tuple[int, ...] = (17, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40)

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
    facts = PLATFORMS.get(platform)
    archspec = req.get("archspec", facts.archspec if facts else "0")
    packages.append(VirtualPackage("__archspec", "1", archspec))
    return tuple(sorted(packages))
