"""Turn composition data (already loaded YAML) into a validated :class:`Composition`.

The parser takes data, not paths: files an environment refers to
(``file: payload.environment.yml``) are loaded by :mod:`twinlock.spec.load` and
handed in through ``files``. Every problem is collected before raising one
:class:`CompositionError`, each naming the file, the key path and the fix.

Composition syntax (``envs/<name>.yaml``)::

    name: rsp
    channels: [conda-forge]
    platforms: [linux-64, linux-aarch64, osx-arm64]
    snapshot: 2026-09-01            # optional: ignore packages published later
    system-requirements:            # optional; defaults: linux 4.18, libc 2.28, macos 11.0
      libc: "2.28"
      osx-arm64: {macos: "12.0"}    # per-platform override
    align: [openssl, ca-certificates]  # optional: one version+build in every env having them
    environments:
      lab:
        prefix: /opt/lab
        requirements:
          - python 3.12.*
          - spec: jupyterlab >=4
            requested-by: platform team
            reason: the lab UI
      payload:
        prefix: /opt/payload
        platforms: [linux-64]       # narrows the composition's list
        file: rsp-payload.environment.yml   # a conda environment.yml (its pip: section
                                            # becomes the PyPI layer), or a list of them
                                            # merged as conda-lock merges -f a -f b
        pypi: [astropy-healpix>=1]  # optional PyPI layer on top of conda's python ...
        pypi-file: extra.txt        # ... and/or a requirements.txt next to this file
        kernel:                     # optional: offer this env as a Jupyter kernel
          name: payload             # kernelspec directory name
          display-name: Rubin (payload)
          lab: lab                  # environment whose prefix holds the kernelspec
          env: {DAF_BUTLER_REPOSITORY_INDEX: /etc/butler.yaml}
          argv: [...]               # optional; must contain {connection_file}
          hide-native: true         # default: hide the lab's own Python kernel
      tools:
        prefix: /opt/tools
        python: "3.12"              # PyPI-only: no conda layer, a machine interpreter
        python-interpreter: /usr/bin/python3.12   # optional; else PATH, uv, pyenv
        pypi-file: tools.txt
      extras:
        extends: payload            # a layer: payload's locked pins held fixed (spec/layers.py)
        prefix: same                # ... installed into payload's prefix (or a path of its own)
        requirements: [healpy]      # added to payload's requirements
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import PurePosixPath

from twinlock.errors import CompositionError, Problems, shorten
from twinlock.model.composition import Channel, Composition, Environment
from twinlock.model.platforms import KNOWN_PLATFORMS
from twinlock.model.pypi_indexes import PypiIndexes
from twinlock.spec.envfiles import narrow_to_file_platforms, requirement_sources
from twinlock.spec.kernels import check_kernels, parse_kernel
from twinlock.spec.layers import layer_keys, resolve_layers, shares_prefix
from twinlock.spec.matchspec import check_spec_channels
from twinlock.spec.platforms import parse_platforms, parse_system_requirements
from twinlock.spec.requirements import (
    PYPI_HINT,
    parse_channels,
    parse_pypi_sources,
    parse_python_keys,
)
from twinlock.spec.selectors import limit_to_platforms
from twinlock.spec.smoke import parse_smoke_tests

_PACKAGE_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")

TOP_KEYS = (
    "name",
    "channels",
    "platforms",
    "snapshot",
    "system-requirements",
    "align",
    "environments",
)
ENV_KEYS = (
    "prefix",
    "requirements",
    "file",
    "channels",
    "platforms",
    "kernel",
    "pypi",
    "pypi-file",
    "python",
    "python-interpreter",
    "tests",
    "extends",
)


def referenced_files(data: object, key: str = "file") -> list[str]:
    """The ``file:`` entries of a composition, so the caller can load them.

    ``key="pypi-file"`` lists the requirements.txt files instead (loaded as text).
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("environments"), Mapping):
        return []
    refs: list[str] = []
    for env in data["environments"].values():
        value = env.get(key) if isinstance(env, Mapping) else None
        items = value if isinstance(value, list) else [value]
        refs += [r for r in items if isinstance(r, str) and r and r not in refs]
    return refs


def parse_composition(
    data: object, *, source: str, files: Mapping[str, object] | None = None
) -> Composition:
    """Validate composition *data* read from *source*; raise one error listing every problem."""
    problems = Problems(source)
    if data is None:
        # An empty file (or only comments): nothing to indent, everything to write.
        problems.add(
            "",
            "the composition is empty",
            "write at least name:, platforms: and environments: (twinlock init writes one)",
        )
        raise CompositionError(problems.items)
    top = problems.mapping(data, "")
    if top is None:
        raise CompositionError(problems.items)
    problems.unknown_keys(top, TOP_KEYS, "")
    name = _parse_name(top.get("name"), "name", problems)
    channels = parse_channels(top.get("channels"), "channels", problems) or ()
    platforms = parse_platforms(top.get("platforms"), "platforms", problems) or ()
    snapshot = _parse_snapshot(top.get("snapshot"), problems)
    system = parse_system_requirements(top.get("system-requirements"), problems)
    align = _parse_align(top.get("align"), problems)
    environments = _parse_environments(
        top.get("environments"), channels, platforms, files or {}, problems
    )
    if problems.items:
        raise CompositionError(problems.items)
    return Composition(
        name=name,
        source=source,
        channels=channels,
        platforms=platforms,
        environments=environments,
        snapshot=snapshot,
        system_requirements=system,
        align=align,
    )


def _parse_name(value: object, key: str, problems: Problems) -> str:
    if isinstance(value, str) and value and value.replace("-", "").replace("_", "").isalnum():
        return value
    problems.add(
        key,
        f"missing or invalid name {shorten(value)}"
        if value is not None
        else "missing required key",
        f"set '{key}' to letters, digits, '-' or '_' (it names the lock directory)",
    )
    return ""


def _parse_snapshot(value: object, problems: Problems) -> dt.datetime | None:
    if value is None:
        return None
    moment: dt.datetime | None = None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        # A bare date means the start of that day, UTC.
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
    if moment is None:
        problems.add(
            "snapshot",
            f"cannot read {shorten(value)} as a date or time",
            "write an ISO date such as 2026-09-01 or 2026-09-01T12:00:00Z",
        )
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _parse_align(value: object, problems: Problems) -> tuple[str, ...]:
    """Package names (not specs) to align across environments, lower-cased, deduplicated."""
    if value is None:
        return ()
    names = problems.string_list(value, "align")
    if names is None:
        return ()
    out: list[str] = []
    for i, name in enumerate(names):
        if not _PACKAGE_NAME_RE.fullmatch(name):
            problems.add(
                f"align[{i}]",
                f"'{name}' is not a package name",
                "list bare package names such as openssl (versions come from the solve)",
            )
        elif name.lower() in out:
            problems.add(f"align[{i}]", f"'{name}' is listed twice", "list each package once")
        else:
            out.append(name.lower())
    return tuple(out)


def _parse_environments(
    value: object,
    channels: tuple[Channel, ...],
    platforms: tuple[str, ...],
    files: Mapping[str, object],
    problems: Problems,
) -> tuple[Environment, ...]:
    if value is None:
        problems.add("environments", "missing required key", "add at least one environment")
        return ()
    data = problems.mapping(value, "environments")
    if data is None:
        return ()
    if not data:
        problems.add("environments", "no environments given", "add at least one environment")
    envs = []
    for name, body in data.items():
        key = f"environments.{name}"
        _parse_name(name, key, problems)
        env = _parse_environment(
            str(name),
            value=body,
            key=key,
            channels=channels,
            platforms=platforms,
            files=files,
            problems=problems,
        )
        if env is not None:
            envs.append(env)
    bodies = {str(n): b if isinstance(b, Mapping) else {} for n, b in data.items()}
    envs = resolve_layers(envs, bodies, problems)
    _check_prefixes(envs, problems)
    check_kernels(envs, problems)
    return tuple(envs)


def _parse_environment(
    name: str,
    *,
    value: object,
    key: str,
    channels: tuple[Channel, ...],
    platforms: tuple[str, ...],
    files: Mapping[str, object],
    problems: Problems,
) -> Environment | None:
    body = problems.mapping(value, key)
    if body is None:
        return None
    problems.unknown_keys(body, ENV_KEYS, key)
    extends, same_prefix = layer_keys(body, key, problems)
    # A same-prefix layer takes its base's prefix once the base is known.
    prefix = "" if same_prefix else _parse_prefix(body.get("prefix"), f"{key}.prefix", problems)
    env_channels = channels
    if "channels" in body:
        env_channels = parse_channels(body["channels"], f"{key}.channels", problems) or channels
    env_platforms = _parse_env_platforms(body.get("platforms"), key, platforms, problems)
    sourced = requirement_sources(body, key, files, problems)
    requirements, file_channels, sources, file_pypi, extensions = sourced
    if file_channels and "channels" not in body:
        env_channels = file_channels
    if extensions.platforms:
        env_platforms = narrow_to_file_platforms(
            env_platforms,
            extensions.platforms,
            key,
            platforms,
            problems,
            explicit="platforms" in body,
        )
    requirements = limit_to_platforms(requirements, env_platforms)
    check_spec_channels(requirements, env_channels, key, problems)
    pypi, pypi_sources = parse_pypi_sources(body, key, files, problems)
    python, interpreter = parse_python_keys(body, key, problems)
    if python is not None and not (pypi or file_pypi):
        problems.add(key, "a PyPI-only environment (python:) has nothing to install", PYPI_HINT)
    kernel = parse_kernel(body["kernel"], f"{key}.kernel", problems) if "kernel" in body else None
    tests = None
    if "tests" in body:
        tests = parse_smoke_tests(
            body["tests"], f"{key}.tests", problems, has_kernel="kernel" in body
        )
    return Environment(
        name=name,
        prefix=prefix,
        requirements=requirements,
        channels=env_channels,
        platforms=env_platforms,
        sources=sources + pypi_sources,
        pypi=file_pypi + pypi,
        python=python,
        python_interpreter=interpreter,
        kernel=kernel,
        pypi_indexes=PypiIndexes(extensions.pip_repositories, extensions.allow_pypi),
        tests=tests,
        extends=extends,
        same_prefix=same_prefix,
    )


def _parse_env_platforms(
    value: object, key: str, platforms: tuple[str, ...], problems: Problems
) -> tuple[str, ...]:
    if value is None:
        return platforms
    narrowed = parse_platforms(value, f"{key}.platforms", problems) or ()
    for p in narrowed:
        if p in KNOWN_PLATFORMS and p not in platforms:
            problems.add(
                f"{key}.platforms",
                f"'{p}' is not among the composition's platforms",
                "an environment may only narrow the top-level 'platforms' list",
            )
    return narrowed


def _parse_prefix(value: object, key: str, problems: Problems) -> str:
    if not isinstance(value, str) or not value:
        problems.add(key, "missing install prefix", "set an absolute path such as /opt/lab")
        return ""
    path = PurePosixPath(value)
    if not path.is_absolute() or ".." in path.parts or str(path) == "/":
        problems.add(
            key,
            f"'{value}' is not an absolute, normalised directory",
            "e.g. /opt/lab (or 'same' in a layer with extends, to share its base's prefix)",
        )
        return ""
    return str(path)


def _check_prefixes(envs: list[Environment], problems: Problems) -> None:
    """Two environments may neither share a prefix nor nest one in the other."""
    for i, first in enumerate(envs):
        for second in envs[i + 1 :]:
            if not first.prefix or not second.prefix or shares_prefix(first, second):
                continue
            a, b = PurePosixPath(first.prefix), PurePosixPath(second.prefix)
            if a == b:
                relation = "share the prefix"
            elif a in b.parents or b in a.parents:
                relation = "have nested prefixes"
            else:
                continue
            problems.add(
                f"environments.{second.name}.prefix",
                f"'{first.name}' ({a}) and '{second.name}' ({b}) {relation}",
                "give every environment its own, separate directory",
            )
