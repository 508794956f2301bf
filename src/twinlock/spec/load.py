"""Reading a project from disk: its root, twinlock.toml, a composition and the files it names."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from twinlock.errors import (
    CompositionError,
    ConfigError,
    InputFileError,
    shorten,
)
from twinlock.fileio import display_path, read_text
from twinlock.model.composition import Composition
from twinlock.spec.config import CONFIG_NAME, ProjectConfig, parse_config
from twinlock.spec.environment_yml import EnvironmentText, unreadable_yaml
from twinlock.spec.parse import parse_composition, referenced_files
from twinlock.spec.requirements import FileUnavailable
from twinlock.spec.selectors import apply_composition_selectors
from twinlock.yamlio import load_yaml


def find_project_root(start: Path) -> Path:
    """The nearest directory at or above *start* holding twinlock.toml, else *start*."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / CONFIG_NAME).is_file():
            return candidate
    return start


def load_config(start: Path) -> ProjectConfig:
    """Find and read the configuration of the project containing *start*."""
    root = find_project_root(start)
    path = root / CONFIG_NAME
    if not path.is_file():
        return ProjectConfig(root=root)
    text = read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = shorten(str(exc), 200, quote=False)
        raise ConfigError(f"{path}: not valid TOML: {reason}", "fix the TOML syntax") from None
    return parse_config(data, root=root, source=str(path))


def _read_composition(path: Path, source: str) -> tuple[object, str]:
    """The composition's YAML data and its text (selector comments live in the text)."""
    try:
        text = read_text(path)
        return load_yaml(text, source), text
    except InputFileError as exc:
        problems = exc.problems
        if path.is_dir():  # a project directory given where its composition belongs
            problems = tuple(
                replace(p, hint="pass the composition file inside it") for p in problems
            )
        raise CompositionError(problems) from None


def _read_file(path: Path, *, as_yaml: bool) -> object:
    """A referenced file: its text (``pypi-file:``), its YAML data with its text, or why not."""
    try:
        text = read_text(path)
    except InputFileError as exc:
        return FileUnavailable(exc.problems[0].message, problems=exc.problems)
    if not as_yaml:
        return text
    try:
        # The text too: selector comments (# [linux]) are lost in the YAML data.
        return EnvironmentText(load_yaml(text, display_path(path)), text)
    except InputFileError as exc:
        return unreadable_yaml(text, exc.problems)


def load_composition(path: Path) -> Composition:
    """Read and validate the composition at *path* and the environment files it names.

    ``file:`` entries are read as YAML, ``pypi-file:`` entries (requirements.txt) as text.
    """
    source = display_path(path)
    data, text = _read_composition(path, source)
    files: dict[str, object] = {}
    for ref in referenced_files(data):
        files[ref] = _read_file(path.parent / ref, as_yaml=True)
    for ref in referenced_files(data, "pypi-file"):
        files[ref] = _read_file(path.parent / ref, as_yaml=False)
    composition = parse_composition(data, source=source, files=files)
    # Selector comments (# [linux]) on inline requirements live in the text, not the data.
    return apply_composition_selectors(composition, text)


def environment_sources(
    composition: Composition, path: Path, config: ProjectConfig
) -> dict[str, tuple[str, ...]]:
    """Per environment: the composition file and its environment file, root-relative."""
    main = config.relative(path)
    return {
        env.name: (main, *(config.relative(path.parent / ref) for ref in env.sources))
        for env in composition.environments
    }


def condarc_path(environ: Mapping[str, str]) -> Path:
    """Where conda's configuration file is: ``$CONDARC``, else ``~/.condarc``."""
    return Path(environ["CONDARC"]) if environ.get("CONDARC") else Path.home() / ".condarc"


def condarc_channel_alias(environ: Mapping[str, str]) -> str | None:
    """conda's ``channel_alias`` from ``$CONDARC`` or ``~/.condarc`` (None when unset).

    A .condarc that cannot be read is ignored with a warning: it belongs to conda.
    """
    path = condarc_path(environ)
    if not path.exists() and not path.is_symlink():
        return None
    try:  # bounded and untrusted: a FIFO or an alias bomb is refused, not read forever
        data = load_yaml(read_text(path), display_path(path), unique_keys=False)
    except InputFileError as exc:
        _warn("ignoring %s: %s", path, exc.message[:200])
        return None
    alias = data.get("channel_alias") if isinstance(data, dict) else None
    if alias is not None and not isinstance(alias, str):
        _warn("ignoring channel_alias in %s: not a URL string", path)
        return None
    return alias


def _warn(message: str, *args: object) -> None:
    # logging is imported only to warn: check and lock with a readable .condarc never do.
    import logging

    logging.getLogger(__name__).warning(message, *args)
