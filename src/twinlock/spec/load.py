"""Reading a project from disk: its root, twinlock.toml, a composition and the files it names."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from twinlock.errors import (
    CompositionError,
    ConfigError,
    Problem,
)
from twinlock.fileio import display_path, read_text_if_exists
from twinlock.model.composition import Composition
from twinlock.spec.config import CONFIG_NAME, ProjectConfig, parse_config
from twinlock.spec.parse import parse_composition, referenced_files
from twinlock.spec.requirements import (
    EnvironmentText,
    FileUnavailable,
    unreadable_yaml,
)
from twinlock.spec.selectors import apply_composition_selectors

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
logger = logging.getLogger(__name__)


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
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}", "fix the TOML syntax") from exc
    return parse_config(data, root=root, source=str(path))


def _read_yaml(path: Path, source: str) -> object:
    try:
        return yaml.load(path.read_text(), Loader=_Loader)
    except FileNotFoundError as exc:
        raise CompositionError(
            [Problem(source, "", "file not found", "check the path (or create the file)")]
        ) from exc
    except IsADirectoryError as exc:
        raise CompositionError(
            [Problem(source, "", "is a directory", "pass the composition file inside it")]
        ) from exc
    except (OSError, yaml.YAMLError) as exc:
        raise CompositionError(
            [Problem(source, "", f"cannot read YAML: {exc}", "fix the YAML syntax")]
        ) from exc


def load_composition(path: Path) -> Composition:
    """Read and validate the composition at *path* and the environment files it names.

    ``file:`` entries are read as YAML, ``pypi-file:`` entries (requirements.txt) as text.
    """
    source = display_path(path)
    data = _read_yaml(path, source)
    files: dict[str, object] = {}
    for ref in referenced_files(data):
        target = path.parent / ref
        try:
            text = target.read_text()
            # The text too: selector comments (# [linux]) are lost in the YAML data.
            files[ref] = EnvironmentText(yaml.load(text, Loader=_Loader), text)
        except FileNotFoundError:
            files[ref] = FileUnavailable(f"no such file {display_path(target)}")
        except yaml.YAMLError as exc:
            files[ref] = unreadable_yaml(text, str(exc))
        except OSError as exc:
            files[ref] = FileUnavailable(str(exc))
    for ref in referenced_files(data, "pypi-file"):
        target = path.parent / ref
        try:
            files[ref] = target.read_text()
        except FileNotFoundError:
            files[ref] = FileUnavailable(f"no such file {display_path(target)}")
        except (OSError, UnicodeDecodeError) as exc:
            files[ref] = FileUnavailable(str(exc))
    composition = parse_composition(data, source=source, files=files)
    # Selector comments (# [linux]) on inline requirements live in the text, not the data.
    return apply_composition_selectors(composition, read_text_if_exists(path) or "")


def environment_sources(
    composition: Composition, path: Path, config: ProjectConfig
) -> dict[str, tuple[str, ...]]:
    """Per environment: the composition file and its environment file, root-relative."""
    main = config.relative(path)
    return {
        env.name: (main, *(config.relative(path.parent / ref) for ref in env.sources))
        for env in composition.environments
    }


def condarc_channel_alias(environ: Mapping[str, str]) -> str | None:
    """conda's ``channel_alias`` from ``$CONDARC`` or ``~/.condarc`` (None when unset).

    A .condarc that cannot be read is ignored with a warning: it belongs to conda.
    """
    path = Path(environ["CONDARC"]) if environ.get("CONDARC") else Path.home() / ".condarc"
    try:
        data = yaml.load(path.read_text(), Loader=_Loader)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        logger.warning("ignoring %s: %s", path, str(exc)[:200])
        return None
    alias = data.get("channel_alias") if isinstance(data, dict) else None
    if alias is not None and not isinstance(alias, str):
        logger.warning("ignoring channel_alias in %s: not a URL string", path)
        return None
    return alias
