"""Real environment.yml files lock as written (``file:``), and selector comments act per platform.

The repo2docker files (tests/data/envfiles, see its README) spell versions the
conda way (``python=3.12.*``, ``ipywidgets==8.*``), which rattler's strict
parser refuses; the lock must record them as written and solve what they mean.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import DATA, REPO, ProjectFactory
from twinlock.app.check import run_check
from twinlock.app.lock import run_lock
from twinlock.app.project import Project, open_project
from twinlock.errors import CompositionError
from twinlock.lock.format import parse_conda_lock

pytestmark = pytest.mark.slow

REPO2DOCKER = DATA / "envfiles" / "repo2docker"
SHARED = REPO.parent / "shared" / "specs" / "repo2docker"
TWINLOCK = Path(sys.executable).parent / "twinlock"
FILES = {
    "py311": "repo2docker-environment.py-3.11.yml",
    "py312": "repo2docker-environment.py-3.12.yml",
}


def _repo2docker_project(make_project: ProjectFactory, source: Path) -> Project:
    composition = {
        "name": "r2d",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "snapshot": "2026-10-01",
        "environments": {
            env: {"prefix": f"/opt/{env}", "file": name} for env, name in FILES.items()
        },
    }
    extra = {f"envs/{name}": (source / name).read_text() for name in FILES.values()}
    return make_project(composition, extra_files=extra)


def _written(source: Path, name: str) -> list[str]:
    return [str(d) for d in yaml.safe_load((source / name).read_text())["dependencies"]]


def _check_repo2docker_locks(project: Project, source: Path) -> None:
    run_lock(project)
    assert run_check(project) == []
    for env, name in FILES.items():
        lock = parse_conda_lock(project.paths.conda_lock(env).read_text(), source=env)
        # recorded exactly as the file writes them ...
        assert [r.spec for r in lock.requirements] == _written(source, name)
        # ... and solved as conda reads them
        versions = {p.name: p.version for p in lock.platforms[0].packages}
        assert versions["python"].startswith("3.11." if env == "py311" else "3.12.")
        assert versions["ipywidgets"].startswith("8.")
        assert versions["nodejs"].startswith("20.")
        assert versions["jupyterlab"].startswith("4.")
    again = run_lock(project)
    assert {s.action for s in again.result.summaries} == {"reused"}


def test_repo2docker_environment_files_lock_unchanged(make_project: ProjectFactory) -> None:
    project = _repo2docker_project(make_project, REPO2DOCKER)
    _check_repo2docker_locks(project, REPO2DOCKER)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/specs is not present")
def test_shared_repo2docker_files_are_the_tested_copies_and_lock(
    make_project: ProjectFactory,
) -> None:
    for name in FILES.values():
        assert (SHARED / name).read_bytes() == (REPO2DOCKER / name).read_bytes()
    _check_repo2docker_locks(_repo2docker_project(make_project, SHARED), SHARED)


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [str(TWINLOCK), *args], cwd=root, capture_output=True, text=True, env=env, check=False
    )


def test_console_script_locks_and_explains_the_repo2docker_files(
    make_project: ProjectFactory,
) -> None:
    project = _repo2docker_project(make_project, REPO2DOCKER)
    root = project.config.root
    composition = str(project.composition_path)
    locked = _cli(root, "lock", composition)
    assert (locked.returncode, locked.stderr) == (0, "")
    explained = _cli(root, "explain", composition)
    assert explained.returncode == 0, explained.stderr
    assert "py312 on linux-64: solves" in explained.stdout
    checked = _cli(root, "check", composition)
    assert checked.returncode == 0, checked.stderr


SELECTED = """\
channels: [conda-forge]
dependencies:
  - python=3.12.*
  - nodejs=20        # [linux]
  - "ipykernel"      # the kernel, macOS only here [osx]
"""


def test_selector_comments_lock_per_platform(make_project: ProjectFactory) -> None:
    composition = {
        "name": "sel",
        "channels": ["conda-forge"],
        "platforms": ["linux-64", "osx-arm64"],
        "snapshot": "2026-10-01",
        "environments": {"app": {"prefix": "/opt/app", "file": "app.yml"}},
    }
    project = make_project(composition, extra_files={"envs/app.yml": SELECTED})
    run_lock(project)
    text = project.paths.conda_lock("app").read_text()
    lock = parse_conda_lock(text, source="app")
    names = {p.platform: {pkg.name for pkg in p.packages} for p in lock.platforms}
    assert "nodejs" in names["linux-64"] and "nodejs" not in names["osx-arm64"]
    assert "ipykernel" in names["osx-arm64"] and "ipykernel" not in names["linux-64"]
    custom = yaml.safe_load(text)["metadata"]["custom_metadata"]
    assert json.loads(custom["twinlock.requirement-platforms"]) == {
        "ipykernel": ["osx-arm64"],
        "nodejs=20": ["linux-64"],
    }
    assert run_check(project) == []
    assert {s.action for s in run_lock(project).result.summaries} == {"reused"}

    # moving a selector makes exactly the platforms it touches stale
    app = project.config.root / "envs" / "app.yml"
    app.write_text(SELECTED.replace("# [linux]", "# [unix]"))
    findings = run_check(open_project(project.composition_path, cwd=project.config.root))
    assert ("osx-arm64", "requirement added: nodejs=20") in {
        (f.platform, f.detail) for f in findings
    }
    assert not any(f.platform == "linux-64" for f in findings)


@pytest.mark.parametrize(
    "recipe", ["rubin-env-9.0.0.meta.yaml", "rubin-env-13.0.1.recipe.yaml"], ids=["meta", "recipe"]
)
def test_rubin_env_recipes_are_refused_as_not_environment_files(
    make_project: ProjectFactory, recipe: str
) -> None:
    composition = {
        "name": "recipe",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "environments": {"payload": {"prefix": "/opt/payload", "file": recipe}},
    }
    text = (DATA / "envfiles" / "rubin-env" / recipe).read_text()
    with pytest.raises(CompositionError) as info:
        make_project(composition, extra_files={f"envs/{recipe}": text})
    (problem,) = info.value.problems
    assert "a conda recipe (meta.yaml or recipe.yaml), not an environment file" in problem.message
    assert "environment.yml" in problem.hint


def test_a_selected_conflict_fails_only_its_platform_in_explain_and_lock(
    make_project: ProjectFactory,
) -> None:
    """A conflict a selector brings in is reported on that platform, in the user's spelling."""
    composition = {
        "name": "clash",
        "channels": ["conda-forge"],
        "platforms": ["linux-64", "osx-arm64"],
        "snapshot": "2026-10-01",
        "environments": {"app": {"prefix": "/opt/app", "file": "app.yml"}},
    }
    text = "channels: [conda-forge]\ndependencies:\n- python=3.12.*\n- python=3.11.*  # [osx]\n"
    project = make_project(composition, extra_files={"envs/app.yml": text})
    root, path = project.config.root, str(project.composition_path)
    explained = _cli(root, "explain", path)
    assert explained.returncode == 1, explained.stderr
    assert "app on linux-64: solves" in explained.stdout
    assert "app on osx-arm64: does not solve" in explained.stdout
    assert "1. python=3.12.*  +  python=3.11.*" in explained.stdout
    locked = _cli(root, "lock", path)
    assert locked.returncode == 1 and "cannot solve app on osx-arm64" in locked.stderr
    assert not project.paths.directory.exists()
