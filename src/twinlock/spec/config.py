"""Project configuration: where the project root is, and which local mirror serves a channel.

The mirror mapping is deliberately *not* part of a composition: a composition
names channels (``conda-forge``), the lock records their canonical URLs, and
where the repodata is read from is a property of the machine doing the solve.

``twinlock.toml`` at the project root::

    [project]
    composition = "envs/rsp.yaml"   # default COMPOSITION argument
    locks-dir = "locks"

    [mirrors]
    # channel name or URL = local channel directory, "bundled:<name>", or a URL
    conda-forge = "bundled:conda-forge-snapshot"
    # conda-forge = "https://conda-mirror.example.org/conda-forge"

``--mirror NAME=DIR`` on the command line overrides the file.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from twinlock.errors import ConfigError, did_you_mean, shorten
from twinlock.model.composition import CONDA_FORGE_BASE, Channel

CONFIG_NAME = "twinlock.toml"
BUNDLED_PREFIX = "bundled:"
_SECTIONS = ("project", "mirrors")
_PROJECT_KEYS = ("composition", "locks-dir")


@dataclass(frozen=True)
class ProjectConfig:
    """The resolved configuration of one twinlock project."""

    root: Path
    composition: Path | None = None
    locks_dir: Path | None = None
    # canonical channel URL -> mirror location (a directory or "bundled:<name>")
    mirrors: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def default_locks_dir(self) -> Path:
        return self.locks_dir or self.root / "locks"

    def with_mirrors(self, overrides: Mapping[str, str], *, under: bool = False) -> ProjectConfig:
        """These mirrors added: over the configured ones, or *under* them (defaults)."""
        merged = {**overrides, **self.mirrors} if under else {**self.mirrors, **overrides}
        return ProjectConfig(self.root, self.composition, self.locks_dir, MappingProxyType(merged))

    def relative(self, path: Path) -> str:
        """*path* relative to the project root (as recorded in locks), POSIX style."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.resolve().as_posix()


def parse_config(data: Mapping[str, object], *, root: Path, source: str) -> ProjectConfig:
    """Validate the TOML *data* of a config file living in *root*."""
    problems: list[str] = []
    for key in data:
        if key not in _SECTIONS:
            problems.append(f"unknown section [{key}] {did_you_mean(key, _SECTIONS)}".rstrip())
    project = data.get("project", {})
    mirrors_raw = data.get("mirrors", {})
    if not isinstance(project, Mapping) or not isinstance(mirrors_raw, Mapping):
        problems.append("[project] and [mirrors] must be tables")
        project, mirrors_raw = {}, {}
    for key in project:
        if key not in _PROJECT_KEYS:
            problems.append(
                f"unknown key project.{key} {did_you_mean(key, _PROJECT_KEYS)}".rstrip()
            )
        elif not isinstance(project[key], str) or not project[key]:
            problems.append(
                f"project.{key}: expected a path (a string), got {shorten(project[key])}"
            )
    mirrors = parse_mirror_table(mirrors_raw, root=root, problems=problems)
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems), "fix the keys named above")
    comp, locks = project.get("composition"), project.get("locks-dir")
    return ProjectConfig(
        root=root,
        composition=root / comp if isinstance(comp, str) else None,
        locks_dir=root / locks if isinstance(locks, str) else None,
        mirrors=MappingProxyType(mirrors),
    )


def parse_mirror_table(
    table: Mapping[str, object], *, root: Path, problems: list[str]
) -> dict[str, str]:
    """``{channel: location}`` -> ``{canonical URL: absolute dir or bundled:name}``."""
    out: dict[str, str] = {}
    for channel_text, location in table.items():
        try:
            channel = Channel.from_string(channel_text)
        except ValueError as exc:
            problems.append(f"mirror {shorten(channel_text)}: {exc}")
            continue
        if not isinstance(location, str) or not location:
            problems.append(f"mirror {shorten(channel_text)}: expected a directory path")
            continue
        if location.startswith(BUNDLED_PREFIX):
            out[channel.url] = location
        elif is_url(location):
            problem = url_problem(location)
            if problem:
                problems.append(f"mirror {shorten(channel_text)}: {problem}")
                continue
            out[channel.url] = location.rstrip("/")
        else:
            out[channel.url] = str((root / location).resolve())
    return out


def is_url(location: str) -> bool:
    return "://" in location


def url_problem(location: str) -> str | None:
    """Why *location* cannot serve a channel (None: it can)."""
    parsed = urllib.parse.urlsplit(location)
    if parsed.scheme not in ("http", "https", "file"):
        return f"{parsed.scheme}:// is not a channel URL scheme (use http, https or file)"
    if parsed.scheme != "file" and not parsed.hostname:
        return f"URL {location[:80]!r} has no host"
    return None


def alias_mirrors(channels: Iterable[Channel], alias: str) -> dict[str, str]:
    """conda's ``channel_alias`` as mirrors: a named channel is read from ``<alias>/<name>``.

    Locks still record the canonical ``https://conda.anaconda.org/<name>`` URLs.
    """
    alias = alias.rstrip("/")
    if alias == CONDA_FORGE_BASE:
        return {}
    return {c.url: f"{alias}/{c.name}" for c in channels if c.url == f"{CONDA_FORGE_BASE}/{c.name}"}


def parse_mirror_options(options: list[str], *, cwd: Path) -> dict[str, str]:
    """``--mirror NAME=DIR`` options, relative paths taken from *cwd*."""
    table: dict[str, object] = {}
    for option in options:
        name, sep, location = option.partition("=")
        if not sep or not name or not location:
            raise ConfigError(
                f"--mirror {shorten(option)}: expected CHANNEL=DIRECTORY",
                "e.g. --mirror conda-forge=/srv/mirrors/conda-forge",
            )
        table[name] = location
    problems: list[str] = []
    out = parse_mirror_table(table, root=cwd, problems=problems)
    if problems:
        raise ConfigError("; ".join(problems), "e.g. --mirror conda-forge=/srv/mirrors/conda-forge")
    return out
