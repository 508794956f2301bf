"""lock / check / --update end to end on the real conda-forge snapshot, and the CLI contract."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import REPO, ProjectFactory
from twinlock.app.check import run_check
from twinlock.app.lock import run_lock
from twinlock.app.project import Project, open_project
from twinlock.cli.main import app
from twinlock.lock.format import parse_conda_lock

pytestmark = pytest.mark.slow

MINI = {
    "name": "mini",
    "channels": ["conda-forge"],
    "platforms": ["linux-64", "osx-arm64"],
    "snapshot": "2026-10-01",
    "environments": {
        "lab": {"prefix": "/opt/lab", "requirements": ["python 3.12.*", "tzdata"]},
        "payload": {
            "prefix": "/opt/payload",
            "platforms": ["linux-64"],
            "requirements": ["python 3.11.*", "numpy <1.26", "astropy", "scipy"],
        },
    },
}


def lock_bytes(project: Project) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in project.paths.existing_files()}


def edit(project: Project, env: str, requirements: list[str]) -> Project:
    data = yaml.safe_load(project.composition_path.read_text())
    data["environments"][env]["requirements"] = requirements
    project.composition_path.write_text(yaml.safe_dump(data, sort_keys=False))
    return open_project(project.composition_path, cwd=project.config.root)


def versions(project: Project, env: str) -> dict[str, str]:
    lock = parse_conda_lock(project.paths.conda_lock(env).read_text(), source=env)
    return {p.name: f"{p.version} {p.build}" for p in lock.platforms[0].packages}


def test_lock_check_relock_update_cycle(make_project: ProjectFactory) -> None:
    project = make_project(MINI)
    report = run_lock(project)
    assert sorted(p.name for p in report.written) == [
        "lab-linux-64.explicit.txt",
        "lab-osx-arm64.explicit.txt",
        "lab.conda-lock.yml",
        "payload-linux-64.explicit.txt",
        "payload.conda-lock.yml",
    ]
    assert run_check(project) == []
    first = lock_bytes(project)

    # a no-op relock changes no byte and solves nothing
    again = run_lock(project)
    assert again.written == () and {s.action for s in again.result.summaries} == {"reused"}
    assert lock_bytes(project) == first

    # editing a requirement makes check fail, naming the change
    project = edit(project, "payload", ["python 3.11.*", "astropy", "scipy"])
    findings = run_check(project)
    assert [(f.environment, f.platform, f.detail) for f in findings] == [
        ("payload", "linux-64", "requirement removed: numpy <1.26")
    ]
    # relocking after the edit keeps the old numpy pin: only requirements changed
    before = versions(project, "payload")
    run_lock(project)
    assert versions(project, "payload")["numpy"] == before["numpy"]
    assert lock_bytes(project)["lab.conda-lock.yml"] == first["lab.conda-lock.yml"]

    # --update numpy moves numpy (and only what it forces)
    before = versions(project, "payload")
    report = run_lock(project, environments=["payload"], update=["numpy"])
    after = versions(project, "payload")
    moved = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert "numpy" in moved
    assert after["numpy"].split()[0] > before["numpy"].split()[0]
    forced = _dependency_closure(project, "numpy") | {"libstdcxx-ng", "libgcc-ng"}
    assert moved <= forced, f"unrelated packages moved: {moved - forced}"
    assert [c.name for c in report.result.summaries[0].changes] == sorted(moved)


def _dependency_closure(project: Project, root: str) -> set[str]:
    """Names reachable from *root* through dependencies, in either direction."""
    lock = parse_conda_lock(project.paths.conda_lock("payload").read_text(), source="payload")
    deps = {p.name: set(p.dependency_map()) for p in lock.platforms[0].packages}
    closure, todo = {root}, [root]
    while todo:
        name = todo.pop()
        near = deps.get(name, set()) | {n for n, d in deps.items() if name in d}
        todo += sorted(near - closure)
        closure |= near
    return closure


def test_fresh_lock_of_the_bundled_example_reproduces_committed_bytes(tmp_path: Path) -> None:
    project = open_project(REPO / "envs" / "rsp.yaml", locks_dir=tmp_path, cwd=REPO)
    run_lock(project, full=True)
    committed = sorted((REPO / "locks" / "rsp").iterdir())
    assert [p.name for p in committed] == [p.name for p in project.paths.existing_files()]
    for path in committed:
        assert (tmp_path / "rsp" / path.name).read_bytes() == path.read_bytes(), path.name


def test_committed_example_locks_are_fresh() -> None:
    project = open_project(REPO / "envs" / "rsp.yaml", cwd=REPO)
    assert run_check(project) == []


runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_bad_composition_exits_2_with_hint_and_writes_nothing(
    make_project: ProjectFactory,
) -> None:
    project = make_project(MINI)
    project.composition_path.write_text("name: mini\nchanels: [conda-forge]\n")
    code, out, err = invoke("lock", str(project.composition_path))
    assert code == 2
    assert "error:" in err and "fix: allowed keys here" in err and "hint:" in err
    assert "did you mean 'channels'" in err
    assert "Traceback" not in out + err
    assert not project.paths.directory.exists()


def test_cli_unsolvable_exits_1_and_leaves_previous_locks(make_project: ProjectFactory) -> None:
    project = make_project(MINI)
    run_lock(project)
    before = lock_bytes(project)
    project = edit(project, "payload", ["python 3.11.*", "jupyterlab >=99"])
    code, _out, err = invoke("lock", str(project.composition_path))
    assert code == 1
    assert re.search(r"cannot solve payload on linux-64", err)
    assert lock_bytes(project) == before


def test_cli_lock_and_check_report(make_project: ProjectFactory) -> None:
    project = make_project(MINI)
    code, out, _ = invoke("lock", str(project.composition_path))
    assert code == 0
    assert re.search(r"payload linux-64: \d+ packages, solved in [\d.]+ s", out)
    code, out, _ = invoke("lock", str(project.composition_path))
    assert "payload linux-64:" in out and "reused" in out and "locks unchanged" in out
    code, out, _ = invoke("check", str(project.composition_path))
    assert code == 0 and "all 3 environment x platform locks are fresh" in out
    (project.paths.directory / "payload-linux-64.explicit.txt").unlink()
    code, out, _ = invoke("check", str(project.composition_path))
    assert code == 1 and "payload-linux-64.explicit.txt is missing" in out


def test_orphaned_environment_locks_are_removed(make_project: ProjectFactory) -> None:
    project = make_project(MINI)
    run_lock(project)
    shutil.copy(project.paths.conda_lock("lab"), project.paths.directory / "old.conda-lock.yml")
    findings = run_check(project)
    assert [f.kind for f in findings] == ["orphan"]
    report = run_lock(project)
    assert [p.name for p in report.removed] == ["old.conda-lock.yml"]
