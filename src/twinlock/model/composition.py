"""The composition model: what an environment maintainer asks for.

A *composition* is a set of conda environments that live side by side in one
image (typically ``lab`` in ``/opt/lab`` and ``payload`` in ``/opt/payload``),
sharing channels, target platforms, an optional ``snapshot`` date and the
system requirements that fix the virtual packages of each platform.

These are plain frozen values; :mod:`twinlock.spec.parse` builds them from YAML
data and is the only place that knows the file syntax.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from twinlock.errors import TwinlockError, did_you_mean
from twinlock.model.platforms import VirtualPackage, virtual_packages_for
from twinlock.model.pypi_indexes import PypiIndexes

CONDA_FORGE_BASE = "https://conda.anaconda.org"
# conda's own default channels live on repo.anaconda.com, not anaconda.org: ``defaults``
# is an alias for pkgs/main and pkgs/r (plus pkgs/msys2, Windows-only, see README).
ANACONDA_REPO_BASE = "https://repo.anaconda.com"
DEFAULT_CHANNEL_NAMES: tuple[str, ...] = ("pkgs/main", "pkgs/r")
_REPO_CHANNELS = frozenset({"pkgs/main", "pkgs/r", "pkgs/msys2", "pkgs/free", "pkgs/pro"})

_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")


def short_channel_name(url: str) -> str:
    """``conda-forge`` for ``https://conda.anaconda.org/conda-forge``; other URLs as they are."""
    return url.removeprefix(f"{CONDA_FORGE_BASE}/")


@dataclass(frozen=True)
class Channel:
    """A conda channel: the name as written and its canonical base URL.

    The canonical URL is what lock files record, whatever local mirror was
    used to solve (``conda-forge`` -> ``https://conda.anaconda.org/conda-forge``).
    """

    name: str
    url: str

    @classmethod
    def from_string(cls, text: str) -> Channel:
        """Parse ``conda-forge``, ``conda-forge/label/x`` or a URL; raises ValueError."""
        text = text.strip()
        if "://" in text:
            url = text.rstrip("/")
            problem = channel_url_problem(url)
            if problem:
                raise ValueError(f"channel URL '{_clip(text)}' {problem}")
            return cls(name=url, url=url)
        parts = text.strip("/").split("/")
        if not text or not all(_NAME_RE.fullmatch(p) for p in parts):
            raise ValueError(f"'{_clip(text)}' is neither a channel name nor a URL")
        name = "/".join(parts)
        if name == "defaults":
            raise ValueError(
                "'defaults' is conda's alias for several channels, not one: name "
                f"{' and '.join(DEFAULT_CHANNEL_NAMES)} instead"
            )
        base = ANACONDA_REPO_BASE if name in _REPO_CHANNELS else CONDA_FORGE_BASE
        return cls(name=name, url=f"{base}/{name}")

    @classmethod
    def from_url(cls, url: str) -> Channel:
        """The channel of a canonical base URL, named as a composition would name it."""
        url = url.rstrip("/")
        for base in (CONDA_FORGE_BASE, ANACONDA_REPO_BASE):
            if url.startswith(base + "/"):
                return cls(name=url.removeprefix(base + "/"), url=url)
        return cls(name=url, url=url)

    @classmethod
    def defaults(cls) -> tuple[Channel, ...]:
        """What conda's ``defaults`` means on Linux and macOS: pkgs/main, then pkgs/r."""
        return tuple(cls.from_string(name) for name in DEFAULT_CHANNEL_NAMES)

    def package_url(self, subdir: str, file_name: str) -> str:
        return f"{self.url}/{subdir}/{file_name}"


_URL_SCHEMES = ("https", "http", "file")


def channel_url_problem(url: str) -> str | None:
    """What keeps *url* from naming a channel (None when it can): no host, no path, ..."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:  # e.g. an invalid IPv6 host or port
        return f"is not a URL ({exc})"
    if parts.scheme not in _URL_SCHEMES or any(c.isspace() for c in url):
        return f"is not an {', '.join(_URL_SCHEMES[:-1])} or {_URL_SCHEMES[-1]} URL"
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or parts.path in ("", "/"):
            return "does not name a directory (write file:///absolute/path)"
        return None
    if not host:
        return "has no host"
    return None


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class Requirement:
    """A conda match spec plus, optionally, who asked for it and why."""

    spec: str
    requested_by: str | None = None
    reason: str | None = None
    # The platforms an environment.yml selector comment (``# [linux]``) limits it to;
    # None: every platform of its environment.
    platforms: tuple[str, ...] | None = None
    # How the solver reads *spec* (conda's dialect made canonical: ``python=3.12.*`` ->
    # ``python 3.12.*``), set by the spec parser. Derived from *spec*, so not compared.
    canonical: str | None = field(default=None, compare=False)

    @property
    def solve_spec(self) -> str:
        """The spec handed to the solver (the canonical form when known)."""
        return self.canonical or self.spec

    def applies_on(self, platform: str) -> bool:
        return self.platforms is None or platform in self.platforms

    @property
    def name(self) -> str:
        """The package name of the spec (lower-cased, channel prefix dropped)."""
        head = re.split(r"[\s=<>!~\[]", self.spec.split("::")[-1], maxsplit=1)[0]
        return head.lower()


@dataclass(frozen=True)
class PypiRequirement(Requirement):
    """A PEP 508 requirement resolved from PyPI (by uv), with optional provenance.

    The spec may carry pip's hash-checking options (``flit-core===3.9 --hash=sha256:...``):
    the lock must then hold one of those artifacts.
    """

    @property
    def name(self) -> str:
        """The PEP 503 normalised project name (``PyYAML`` -> ``pyyaml``)."""
        return normalize_pypi_name(re.split(r"[\s=<>!~\[;@(]", self.spec, maxsplit=1)[0])

    @property
    def requirement(self) -> str:
        """The PEP 508 part (what uv resolves), without ``--hash`` options."""
        return self.spec.split(" --hash", 1)[0].strip()

    @property
    def hashes(self) -> frozenset[str]:
        """The sha256 digests the spec allows (``--hash`` options or a ``#sha256=`` URL)."""
        found = re.findall(r"(?:--hash[= ]|#)sha256[:=]([0-9a-fA-F]{64})", self.spec)
        return frozenset(h.lower() for h in found)


def normalize_pypi_name(name: str) -> str:
    """PEP 503 normalisation, also used to compare PyPI names with conda names."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class SmokeTests:
    """What proves an installed environment works (``tests:``; run by ``twinlock test``).

    ``imports``: modules its Python must import; ``commands``: argv lists run inside
    the prefix (its ``bin`` first on PATH); ``kernel``: start it from the lab through
    its kernelspec and run code in it.
    """

    imports: tuple[str, ...] = ()
    commands: tuple[tuple[str, ...], ...] = ()
    kernel: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "imports": list(self.imports),
            "commands": [list(c) for c in self.commands],
            "kernel": self.kernel,
        }

    def merged_with(self, other: SmokeTests | None) -> SmokeTests:
        """These tests and *other*'s (a rebuilt image must still pass the historical ones)."""
        if other is None:
            return self
        return SmokeTests(
            tuple(dict.fromkeys((*self.imports, *other.imports))),
            tuple(dict.fromkeys((*self.commands, *other.commands))),
            self.kernel or other.kernel,
        )

    def covers(self, other: SmokeTests | None) -> bool:
        """True when every test of *other* is among these."""
        return other is None or (
            set(other.imports) <= set(self.imports)
            and set(other.commands) <= set(self.commands)
            and (self.kernel or not other.kernel)
        )

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> SmokeTests:
        imports, commands = data.get("imports") or [], data.get("commands") or []
        return cls(
            imports=tuple(str(m) for m in imports) if isinstance(imports, list) else (),
            commands=tuple(tuple(str(a) for a in c) for c in commands if isinstance(c, list))
            if isinstance(commands, list)
            else (),
            kernel=data.get("kernel") is True,
        )


@dataclass(frozen=True)
class Kernel:
    """How an environment is offered as a Jupyter kernel inside another one (the lab).

    ``argv`` overrides the default launch command (``<prefix>/bin/python -m
    ipykernel_launcher -f {connection_file}``); ``hide_native`` hides the lab's
    own Python kernel so users only see the kernels twinlock wires in;
    ``isolate_user_site`` gives the kernel a user base of its own (``pip install
    --user`` in a notebook lands there) and keeps the lab's Python off the user site.
    """

    name: str
    display_name: str
    lab: str
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    argv: tuple[str, ...] = ()
    hide_native: bool = True
    isolate_user_site: bool = True


@dataclass(frozen=True)
class Environment:
    """One environment of a composition, installed into its own prefix."""

    name: str
    prefix: str
    requirements: tuple[Requirement, ...]
    channels: tuple[Channel, ...]
    platforms: tuple[str, ...]
    sources: tuple[str, ...] = ()
    # The PyPI layer, resolved by uv on top of the conda packages ...
    pypi: tuple[PypiRequirement, ...] = ()
    # ... or, when set, the Python version of a PyPI-only environment (no conda layer),
    # and optionally the interpreter to build it from (else found on the machine).
    python: str | None = None
    python_interpreter: str | None = None
    kernel: Kernel | None = None
    # conda-lock's pip-repositories / allow-pypi-requests (default: pypi.org only)
    pypi_indexes: PypiIndexes = field(default_factory=PypiIndexes)
    tests: SmokeTests | None = None
    # A layer: the environment it extends (its locked pins are held fixed), whether
    # it lives in the base's prefix (``prefix: same``) and its own requirements
    # (``requirements`` holds the base's requirements followed by these).
    extends: str | None = None
    same_prefix: bool = False
    additions: tuple[Requirement, ...] = ()

    @property
    def specs(self) -> tuple[str, ...]:
        return tuple(r.spec for r in self.requirements)

    def requirements_on(self, platform: str) -> tuple[Requirement, ...]:
        """The conda requirements that apply on *platform* (selector comments honoured)."""
        return tuple(r for r in self.requirements if r.applies_on(platform))

    def specs_on(self, platform: str) -> tuple[str, ...]:
        """The specs as written that apply on *platform* (what the lock records and hashes)."""
        return tuple(r.spec for r in self.requirements_on(platform))

    def solve_specs_on(self, platform: str) -> tuple[str, ...]:
        """The specs the solver is given on *platform* (canonical forms)."""
        return tuple(r.solve_spec for r in self.requirements_on(platform))

    @property
    def pypi_specs(self) -> tuple[str, ...]:
        return tuple(r.spec for r in self.pypi)

    @property
    def recorded_pypi_indexes(self) -> tuple[str, ...]:
        """The PyPI indexes as locks and input hashes see them: none for plain pypi.org or
        without PyPI requirements."""
        if self.pypi_indexes.default or not self.pypi:
            return ()
        return self.pypi_indexes.recorded()

    @property
    def pypi_only(self) -> bool:
        """True for an environment built from a machine interpreter with uv, without conda."""
        return self.python is not None


@dataclass(frozen=True)
class Composition:
    """Environments that share an image, channels, platforms and a snapshot."""

    name: str
    source: str
    channels: tuple[Channel, ...]
    platforms: tuple[str, ...]
    environments: tuple[Environment, ...]
    snapshot: dt.datetime | None = None
    system_requirements: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Packages that must resolve to one version and build in every environment
    # that has them (per platform); see twinlock.alignment.
    align: tuple[str, ...] = ()

    def environment(self, name: str) -> Environment:
        for env in self.environments:
            if env.name == name:
                return env
        names = [e.name for e in self.environments]
        raise TwinlockError(
            f"{self.source}: no environment named '{name}' "
            f"(it has: {', '.join(names)}) {did_you_mean(name, names)}".rstrip(),
            "pass one of the environment names listed under 'environments'",
        )

    def select(self, names: tuple[str, ...] | list[str] | None) -> tuple[Environment, ...]:
        """The named environments (all when *names* is empty), in composition order."""
        if not names:
            return self.environments
        wanted = {self.environment(n).name for n in names}
        return tuple(e for e in self.environments if e.name in wanted)

    def base_of(self, env: Environment) -> Environment | None:
        """The environment *env* extends (None for a plain environment)."""
        return self.environment(env.extends) if env.extends else None

    def layers_of(self, name: str) -> tuple[Environment, ...]:
        """Every environment that extends *name*, directly or through another layer."""
        out: list[Environment] = []
        frontier = {name}
        while frontier:
            found = [e for e in self.environments if e.extends in frontier and e not in out]
            out += found
            frontier = {e.name for e in found}
        return tuple(out)

    def virtual_packages(self, platform: str) -> tuple[VirtualPackage, ...]:
        """The virtual packages assumed for *platform* (defaults + system requirements)."""
        return virtual_packages_for(platform, self.system_requirements.get(platform))

    def snapshot_text(self) -> str | None:
        return format_snapshot(self.snapshot)


def format_snapshot(moment: dt.datetime | None) -> str | None:
    """ISO-8601 UTC text of a snapshot, the form recorded in locks."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
