"""``twinlock init``: a composition from conda-lock inputs, run as users run it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from twinlock.lock.format import parse_conda_lock

from .conftest import DATA, REPO

CONDALOCK = DATA / "condalock"
TWINLOCK = str(REPO / ".venv" / "bin" / "twinlock")


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TWINLOCK, *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project reading conda-forge from the bundled snapshot, with the example payload."""
    (tmp_path / "twinlock.toml").write_text(
        '[mirrors]\nconda-forge = "bundled:conda-forge-snapshot"\n'
    )
    shutil.copy(REPO / "envs" / "rsp-payload.environment.yml", tmp_path)
    (tmp_path / "virtual-packages.yml").write_text(
        'subdirs:\n  linux-64:\n    packages:\n      __glibc: "2.28"\n'
    )
    return tmp_path


SHARED_SPECS = REPO.parent / "shared" / "specs"

INIT_CASES: list[Any] = [
    pytest.param(
        ["-f", str(SHARED_SPECS / "repo2docker" / "repo2docker-environment.py-3.12.yml")],
        {"name": "repo2docker-environment-py-3-12", "platforms": ["linux-64"]},
        id="nameless-file-named-after-its-file",
    ),
    pytest.param(
        ["-f", "rsp-payload.environment.yml"],
        {
            "name": "rsp-payload",
            "platforms": ["linux-64"],
            "payload-file": "../rsp-payload.environment.yml",
        },
        id="one-file-defaults",
    ),
    pytest.param(
        [
            "-f",
            str(CONDALOCK / "lock-spec/base-env.yml"),
            "-f",
            str(CONDALOCK / "lock-spec/ml-stuff.yml"),
            "--name",
            "ml",
        ],
        {"name": "ml", "platforms": ["linux-64"], "channels": ["pytorch", "conda-forge"]},
        id="two-files-like-conda-lock-f-f",
    ),
    pytest.param(
        [
            "-f",
            str(CONDALOCK / "aih-eda-modeling/aih_sl_tutorial.yml"),
            "--virtual-package-spec",
            str(CONDALOCK / "virtual-packages/default-virtual-packages.yaml"),
        ],
        {
            "name": "aih-sl-tutorial",
            "platforms": ["osx-arm64"],
            "channels": ["conda-forge", "defaults"],
            "system-requirements": {"archspec": "arm64", "macos": "11.0"},
        },
        id="defaults-and-virtual-packages",
    ),
    pytest.param(
        [
            "-f",
            "rsp-payload.environment.yml",
            "--lockfile",
            str(REPO / "locks/rsp/payload.conda-lock.yml"),
            "--snapshot",
            "2026-10-01",
        ],
        {"platforms": ["linux-64"], "snapshot": "2026-10-01"},
        id="platforms-from-an-existing-conda-lock-file",
    ),
]


@pytest.mark.parametrize(("args", "expected"), INIT_CASES)
def test_init_dry_run_prints_a_composition_and_writes_nothing(
    project: Path, args: list[str], expected: dict[str, Any]
) -> None:
    done = run(project, "init", *args, "--dry-run")
    assert done.returncode == 0, done.stderr
    data = yaml.safe_load(done.stdout)
    payload = data["environments"]["payload"]
    seen = {
        "name": data["name"],
        "platforms": data["platforms"],
        "channels": data["channels"],
        "snapshot": data.get("snapshot"),
        "system-requirements": data.get("system-requirements"),
        "payload-file": payload["file"],
    }
    assert {k: seen[k] for k in expected} == expected
    assert payload["kernel"]["lab"] == "lab"
    assert data["environments"]["lab"]["requirements"][0] == "python 3.12.*"
    assert not (project / "envs").exists()


def test_init_with_a_conda_lock_file_suggests_rebuild_from_its_pins(project: Path) -> None:
    lockfile = REPO / "locks/rsp/payload.conda-lock.yml"
    done = run(project, "init", "-f", "rsp-payload.environment.yml", "--lockfile", str(lockfile))
    assert done.returncode == 0, done.stderr
    assert f"next: twinlock rebuild envs/rsp-payload.yaml --from payload={lockfile}" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param([], "no environment file given and no environment.yml here", id="no-input"),
        pytest.param(
            ["-f", "rsp-payload.environment.yml", "--virtual-package-spec", "vp.yml"],
            r"vp.yml: subdirs.linux-64.packages.__glibcc: unknown virtual package '__glibcc'",
            id="bad-virtual-packages",
        ),
        pytest.param(
            ["-f", "rsp-payload.environment.yml", "-p", "linux-46"],
            r"platforms\[0\]: unknown platform 'linux-46'",
            id="bad-platform",
        ),
        pytest.param(
            ["-f", "rsp-payload.environment.yml", "--lab-python", "3.x"],
            r"error: --lab-python: '3.x' is not a Python 3 version",
            id="bad-lab-python",
        ),
        pytest.param(
            ["-f", "missing.yml"],
            r"missing.yml",
            id="missing-file",
        ),
    ],
)
def test_init_bad_input_exits_2_and_writes_nothing(
    project: Path, args: list[str], message: str
) -> None:
    (project / "vp.yml").write_text(
        "subdirs:\n  linux-64:\n    packages:\n      __glibcc: '2.28'\n"
    )
    done = run(project, "init", *args)
    assert done.returncode == 2
    assert "error: " in done.stderr and "hint: " in done.stderr
    assert re.search(message, done.stderr), done.stderr
    assert "Traceback" not in done.stderr
    assert not (project / "envs").exists()


def test_init_never_overwrites_without_force(project: Path) -> None:
    first = run(project, "init", "-f", "rsp-payload.environment.yml", "--name", "rsp")
    assert first.returncode == 0, first.stderr
    written = (project / "envs" / "rsp.yaml").read_text()
    again = run(
        project, "init", "-f", "rsp-payload.environment.yml", "--name", "rsp", "-p", "osx-arm64"
    )
    assert again.returncode == 2
    assert "envs/rsp.yaml already exists; nothing was written" in again.stderr
    assert (project / "envs" / "rsp.yaml").read_text() == written
    forced = run(
        project,
        "init",
        "-f",
        "rsp-payload.environment.yml",
        "--name",
        "rsp",
        "--force",
        "-p",
        "osx-arm64",
    )
    assert forced.returncode == 0, forced.stderr


@pytest.mark.slow
def test_init_from_the_example_payload_locks_to_the_example_pins(project: Path) -> None:
    """init + lock from the payload file and a virtual-packages.yml = envs/rsp.yaml's pins."""
    done = run(
        project,
        "init",
        "-f",
        "rsp-payload.environment.yml",
        "--virtual-package-spec",
        "virtual-packages.yml",
        "--platform",
        "linux-64",
        "--snapshot",
        "2026-10-01",
        "--name",
        "rsp",
    )
    assert done.returncode == 0, done.stderr
    assert "next: twinlock lock envs/rsp.yaml" in done.stdout
    locked = run(project, "lock", "envs/rsp.yaml")
    assert locked.returncode == 0, locked.stderr
    for env in ("lab", "payload"):
        ours = parse_conda_lock(
            (project / f"locks/rsp/{env}.conda-lock.yml").read_text(), source="ours"
        )
        example = parse_conda_lock(
            (REPO / f"locks/rsp/{env}.conda-lock.yml").read_text(), source="example"
        )
        pins = {(p.name, p.version, p.build) for p in ours.platform("linux-64").packages}
        assert pins == {(p.name, p.version, p.build) for p in example.platform("linux-64").packages}
        assert len(pins) > 100


@pytest.mark.slow
def test_init_from_a_conda_lock_file_keeps_its_pins(project: Path) -> None:
    """A conda-lock.yml written by another tool (no twinlock metadata): the printed next
    step rebuilds the payload from its pins (none moves) and solves only the lab."""
    data = yaml.safe_load((REPO / "locks/rsp/payload.conda-lock.yml").read_text())
    data["metadata"].pop("custom_metadata")
    (project / "conda-lock.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    done = run(
        project,
        "init",
        "-f",
        "rsp-payload.environment.yml",
        "--lockfile",
        "conda-lock.yml",
        "--virtual-package-spec",
        "virtual-packages.yml",
        "--snapshot",
        "2026-10-01",
        "--name",
        "rsp",
    )
    assert done.returncode == 0, done.stderr
    command = done.stdout.split("next: twinlock ", 1)[1].split()
    assert command[:3] == ["rebuild", "envs/rsp.yaml", "--from"]
    rebuilt = run(project, *command)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "payload: kept (547 packages)" in rebuilt.stdout
    ours = parse_conda_lock(
        (project / "locks/rsp/payload.conda-lock.yml").read_text(), source="ours"
    )
    assert {p.url for p in ours.platform("linux-64").packages} == {
        p["url"] for p in data["package"] if p["manager"] == "conda"
    }
