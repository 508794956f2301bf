"""The PyPI layer, pure: what to ask uv for, and how to read what it answers.

:mod:`twinlock.pypi.uv` (the uv adapter) runs ``uv pip compile`` for each
:class:`PypiRequest` twice: once to a ``requirements.txt`` (the pins, and the
``# via`` annotations that give the dependency graph) and once, with those
exact pins and ``--no-deps``, to a ``pylock.toml`` (PEP 751: the url and sha256
of every artifact compatible with the target). This module builds the
requests, chooses one artifact per package (the wheel whose tags an installer
on the target would prefer, else the sdist) and turns the two outputs into
:class:`~twinlock.model.lock.PypiPackage` values.

The composition's ``snapshot`` applies to PyPI too (``--exclude-newer``), so
a relock from scratch gives the same pins.

Conda-provided packages: in a mixed environment, every conda package that is a
Python package (it depends on ``python``) is passed to uv as a constraint
``name==version``, so the PyPI layer agrees with what conda installed; a
resolved package conda already provides at that version is left out of the
PyPI layer (conda installs it). Names are compared PEP 503-normalised.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from twinlock.errors import PypiError
from twinlock.model.composition import normalize_pypi_name
from twinlock.model.lock import LockedPackage, PypiPackage
from twinlock.model.platforms import MANYLINUX_LEVELS, PLATFORMS, VirtualPackage
from twinlock.model.pypi_indexes import PypiIndexes, strip_credentials


@dataclass(frozen=True)
class PypiRequest:
    """One environment x platform PyPI resolution."""

    environment: str
    platform: str
    python_version: str
    requirements: tuple[str, ...]
    glibc: str | None = None
    # conda-provided Python packages, normalised name -> version (constraints, then dropped)
    provided: Mapping[str, str] = field(default_factory=dict)
    # previous pins uv should keep unless a requirement forces a change ...
    preferences: tuple[PypiPackage, ...] = ()
    # ... except these (normalised names), which may move (--update)
    upgrade: frozenset[str] = frozenset()
    # the composition's snapshot: ignore distributions uploaded later (uv --exclude-newer)
    exclude_newer: str | None = None
    # conda-lock's pip-repositories / allow-pypi-requests
    indexes: PypiIndexes = field(default_factory=PypiIndexes)
    # hash-pinned requirements (pip hash-checking mode): name -> the sha256 digests allowed
    allowed_hashes: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def uv_platform(self) -> str:
        template = PLATFORMS[self.platform].uv_target
        if template is None:
            raise PypiError(
                f"PyPI layer of {self.environment}: uv cannot target {self.platform}",
                "PyPI layers lock on "
                + ", ".join(p.name for p in PLATFORMS.values() if p.uv_target),
            )
        minor = int((self.glibc or "2.28").split(".")[1])
        level = max((m for m in MANYLINUX_LEVELS if m <= minor), default=17)
        return template.format(f"2_{level}")

    def constraint_lines(self) -> list[str]:
        return [f"{name}=={version}" for name, version in sorted(self.provided.items())]

    def preference_lines(self) -> list[str]:
        return [f"{p.name}=={p.version}" for p in self.preferences]


@dataclass(frozen=True)
class PypiOutcome:
    request: PypiRequest
    packages: tuple[PypiPackage, ...] | None
    error: str | None
    seconds: float


def supported_platform(platform: str) -> bool:
    """Whether uv can resolve a PyPI layer for *platform*."""
    facts = PLATFORMS.get(platform)
    return facts is not None and facts.uv_target is not None


def python_version_of(packages: Iterable[LockedPackage]) -> str | None:
    """The version of the conda ``python`` record of a solve, if any."""
    for pkg in packages:
        if pkg.name == "python":
            return pkg.version
    return None


def conda_provided(packages: Iterable[LockedPackage]) -> dict[str, str]:
    """Conda packages that are Python packages (depend on python), normalised name -> version."""
    from packaging.version import InvalidVersion, Version

    out: dict[str, str] = {}
    for pkg in packages:
        if pkg.name == "python" or "python" not in pkg.dependency_map():
            continue
        try:
            Version(pkg.version)
        except InvalidVersion:
            continue  # not a PEP 440 version: cannot constrain uv with it
        out[normalize_pypi_name(pkg.name)] = pkg.version
    return out


def glibc_of(virtual_packages: Iterable[VirtualPackage]) -> str | None:
    return next((v.version for v in virtual_packages if v.name == "__glibc"), None)


_PIN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s\\;]+)")
# a direct reference uv keeps as given: its version comes from the pylock.toml
_DIRECT_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])? @ \S+")


def parse_pins(text: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """``uv pip compile`` requirements.txt -> {name: (version, names it is required by)}."""
    pins: dict[str, tuple[str, tuple[str, ...]]] = {}
    current: str | None = None
    in_via = False
    for line in text.splitlines():
        match = _PIN_RE.match(line) or _DIRECT_RE.match(line)
        if match:
            current = normalize_pypi_name(match.group(1))
            pins[current] = (match.group(2) if match.re is _PIN_RE else "", ())
            in_via = False
            continue
        comment = line.strip().removeprefix("#").strip()
        if current is None or not line.strip().startswith("#"):
            continue
        if comment.startswith("via"):
            in_via = True
            comment = comment.removeprefix("via").strip()
        if in_via and comment and not comment.startswith("-"):
            version, via = pins[current]
            pins[current] = (version, (*via, normalize_pypi_name(comment.split()[0])))
    return pins


def read_pylock(text: str) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """A pylock.toml -> {name: (version, [(url, sha256), ...])}: wheels first, then the sdist.

    A direct reference is its one ``archive``. URLs lose any ``user:password@`` an
    index URL lent them: credentials never reach a lock.
    """
    data = tomllib.loads(text)
    out: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for pkg in data.get("packages", []):
        artifacts = [
            *pkg.get("wheels", []),
            *([pkg["sdist"]] if "sdist" in pkg else []),
            *([pkg["archive"]] if "archive" in pkg else []),
        ]
        out[normalize_pypi_name(pkg["name"])] = (
            str(pkg.get("version", "")),
            [
                (strip_credentials(a["url"]), a["hashes"]["sha256"])
                for a in artifacts
                if "url" in a and "sha256" in a.get("hashes", {})
            ],
        )
    return out


def choose_artifact(
    artifacts: list[tuple[str, str]], request: PypiRequest
) -> tuple[str, str] | None:
    """The wheel an installer on the target prefers (most specific tag), else the sdist."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    ranks = target_tag_ranks(request)
    best: tuple[int, tuple[str, str]] | None = None
    for url, sha in artifacts:
        name = url.rsplit("/", 1)[-1]
        if not name.endswith(".whl"):
            continue
        try:
            tags = parse_wheel_filename(name)[3]
        except InvalidWheelFilename:
            continue
        # uv already filtered for the target; an unranked wheel is still compatible.
        rank = min((ranks.get(str(t), len(ranks)) for t in tags), default=len(ranks))
        if best is None or rank < best[0]:
            best = (rank, (url, sha))
    if best is not None:
        return best[1]
    return next(iter(artifacts), None)


def target_tag_ranks(request: PypiRequest) -> dict[str, int]:
    """Wheel tags the target accepts, most preferred first (as pip/uv order them)."""
    from packaging import tags

    major, minor = (int(x) for x in request.python_version.split(".")[:2])
    platforms = _platform_tags(request)
    interpreter = f"cp{major}{minor}"
    ordered = [
        *tags.cpython_tags((major, minor), abis=[interpreter], platforms=platforms),
        *tags.compatible_tags((major, minor), interpreter, platforms),
    ]
    return {str(t): i for i, t in reversed(list(enumerate(ordered)))}


def _platform_tags(request: PypiRequest) -> list[str]:
    from packaging import tags

    arch = PLATFORMS[request.platform].wheel_arch or ""
    if request.platform.startswith("linux"):
        level = int(request.uv_platform.rsplit("_", 1)[-1])
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        out = []
        for m in range(level, 4, -1):
            out.append(f"manylinux_2_{m}_{arch}")
            if m in legacy and (arch == "x86_64" or m == 17):
                out.append(f"{legacy[m]}_{arch}")
        return out
    if request.platform.startswith("osx"):
        return list(tags.mac_platforms((11, 0) if arch == "arm64" else (10, 16), arch))
    return [f"win_{arch}"]


def build_packages(
    request: PypiRequest, pins_text: str, pylock_text: str
) -> tuple[PypiPackage, ...]:
    """The PyPI layer of one resolution: one artifact per pin, conda-provided pins left out."""
    pins = parse_pins(pins_text)
    pylock = read_pylock(pylock_text)
    artifacts = {name: found for name, (_, found) in pylock.items()}
    pins = {
        name: (version or pylock.get(name, ("", []))[0], via)
        for name, (version, via) in pins.items()
    }
    depends: dict[str, set[str]] = {name: set() for name in pins}
    for name, (_, via) in pins.items():
        for parent in via:
            if parent in depends:
                depends[parent].add(name)
    out = []
    for name, (version, _) in sorted(pins.items()):
        if request.provided.get(name) == version:
            continue
        candidates = _allowed(artifacts.get(name, []), request, name, version)
        chosen = choose_artifact(candidates, request)
        if chosen is None:
            raise PypiError(
                f"PyPI layer of {request.environment} on {request.platform}: uv reported no "
                f"file of {name}=={version} installable on {request.platform}",
                f"pin another version of {name}, or one that ships a wheel for this platform",
            )
        out.append(PypiPackage(name, version, chosen[0], chosen[1], tuple(sorted(depends[name]))))
    return tuple(out)


_DECORATIONS = "\u00d7\u2570\u2500\u25b6\u2502"  # the box drawing of uv's fancy errors


def condense_uv_error(stderr: str, limit: int = 12) -> str:
    """uv's explanation without blank lines, decorations or hints, at most *limit* lines."""
    lines = []
    for raw in stderr.splitlines():
        line = raw.strip().lstrip(_DECORATIONS).strip()
        if line and not line.startswith(("hint:", "help:")):
            lines.append(line.removeprefix("error: ").removeprefix("cause: "))
    return "\n".join(lines[:limit]) or "uv failed without a message"


def is_unknown_project(message: str) -> bool:
    return "not found in the package registry" in message


def _allowed(
    artifacts: list[tuple[str, str]], request: PypiRequest, name: str, version: str
) -> list[tuple[str, str]]:
    """The artifacts a hash-pinned requirement allows (all of them when it has no hashes)."""
    allowed = request.allowed_hashes.get(name)
    if not allowed:
        return artifacts
    kept = [(url, sha) for url, sha in artifacts if sha.lower() in allowed]
    if not kept:
        raise PypiError(
            f"PyPI layer of {request.environment} on {request.platform}: no file of "
            f"{name}=={version} has one of the hashes its requirement allows "
            f"({', '.join(sorted(h[:12] + '...' for h in allowed))})",
            f"check the --hash values of {name} (pip hash-checking mode), or pin the version "
            "those hashes belong to",
        )
    return kept
