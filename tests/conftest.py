"""Shared fixtures: the bundled snapshot channel and throw-away projects.

``make_project`` writes a composition (and any extra files) into a temporary
project whose ``twinlock.toml`` reads conda-forge from the bundled snapshot,
exactly like the repository's own configuration.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from twinlock.app.project import Project, open_project
from twinlock.solve.channels import bundled_channel

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"

ProjectFactory = Callable[..., Project]


def mix_composition(**env: Any) -> dict[str, Any]:
    """A one-environment composition ('payload' on linux-64) with *env*'s keys added."""
    return {
        "name": "mix",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "environments": {"payload": {"prefix": "/opt/payload", **env}},
    }


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One unpacked snapshot per test session, never the user's own cache (nor .condarc)."""
    cache = tmp_path_factory.getbasetemp() / "twinlock-cache"
    monkeypatch.setenv("TWINLOCK_CACHE_DIR", str(cache))
    monkeypatch.setenv("CONDARC", str(tmp_path_factory.getbasetemp() / "no-condarc"))


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The composition, configuration and locks of this repository, in a scratch copy."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "envs", root / "envs")
    shutil.copytree(REPO / "locks" / "rsp", root / "locks" / "rsp")
    shutil.copy(REPO / "twinlock.toml", root / "twinlock.toml")
    return root


@pytest.fixture
def snapshot_channel() -> Path:
    """The bundled conda-forge snapshot, unpacked (a local channel directory)."""
    return bundled_channel("conda-forge-snapshot")


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """Write a composition into a fresh project directory and open it."""

    def factory(
        composition: Mapping[str, Any],
        *,
        extra_files: Mapping[str, str] | None = None,
        mirror: str = "bundled:conda-forge-snapshot",
    ) -> Project:
        root = tmp_path / "project"
        (root / "envs").mkdir(parents=True, exist_ok=True)
        (root / "twinlock.toml").write_text(f'[mirrors]\nconda-forge = "{mirror}"\n')
        for name, text in (extra_files or {}).items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        path = root / "envs" / f"{composition['name']}.yaml"
        path.write_text(yaml.safe_dump(dict(composition), sort_keys=False))
        return open_project(path, cwd=root)

    return factory
