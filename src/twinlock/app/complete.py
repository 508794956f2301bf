"""Shell-completion candidates: environment, platform and package names of a project.

Completion runs on every TAB, so these read the composition's YAML as data
(environment names, platform lists, its name) without validating it -- validation
parses every match spec with rattler -- and the @EXPLICIT lock files as text. They
never raise: a broken project completes nothing rather than printing into the shell.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twinlock.errors import TwinlockError
from twinlock.fileio import read_text
from twinlock.lock.store import LockPaths
from twinlock.spec.load import load_config
from twinlock.yamlio import load_yaml

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Sketch:
    """What completion needs of a composition: names, platforms, where the locks are."""

    environments: dict[str, tuple[str, ...]]  # name -> platforms
    paths: LockPaths


def _sketch(composition: Path | None) -> _Sketch | None:
    try:
        config = load_config(composition.parent if composition else Path.cwd())
        path = composition or config.composition or _only_composition(config.root)
        # Untrusted YAML read safely (bounded, no alias bombs); duplicate keys tolerated.
        data = load_yaml(read_text(path), str(path), unique_keys=False) if path else None
    except (TwinlockError, OSError) as exc:
        log.info("no completion: %s", exc)
        return None
    if not isinstance(data, Mapping) or not isinstance(data.get("environments"), Mapping):
        return None
    top = _strings(data.get("platforms"))
    envs = {
        str(name): _strings(body.get("platforms")) if isinstance(body, Mapping) else ()
        for name, body in data["environments"].items()
    }
    environments = {name: platforms or top for name, platforms in envs.items()}
    return _Sketch(environments, LockPaths(config.default_locks_dir / str(data.get("name"))))


def _only_composition(root: Path) -> Path | None:
    candidates = sorted((root / "envs").glob("*.yaml"))
    return candidates[0] if len(candidates) == 1 else None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def environment_names(composition: Path | None, incomplete: str = "") -> list[str]:
    sketch = _sketch(composition)
    if sketch is None:
        return []
    return [name for name in sketch.environments if name.startswith(incomplete)]


def platform_names(composition: Path | None, incomplete: str = "") -> list[str]:
    sketch = _sketch(composition)
    if sketch is None:
        return []
    names = {p for platforms in sketch.environments.values() for p in platforms}
    return sorted(p for p in names if p.startswith(incomplete))


def package_names(
    composition: Path | None, environments: list[str], incomplete: str = ""
) -> list[str]:
    """Names of the packages locked for *environments* (all when none is known), any platform."""
    sketch = _sketch(composition)
    if sketch is None:
        return []
    chosen = [e for e in environments if e in sketch.environments] or list(sketch.environments)
    names: set[str] = set()
    for env in chosen:
        for platform in sketch.environments[env]:
            try:
                text = sketch.paths.explicit(env, platform).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            names |= {_explicit_name(line) for line in text.splitlines() if "://" in line}
    return sorted(n for n in names if n and n.startswith(incomplete))


def _explicit_name(url: str) -> str:
    """``https://…/numpy-2.1.0-py312h_0.conda#sha`` -> ``numpy``."""
    file_name = url.split("#", 1)[0].rsplit("/", 1)[-1]
    return file_name.rsplit("-", 2)[0]
