"""``twinlock lock A.yaml B.yaml``: several compositions in one call, one solver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from twinlock.app.lock import run_lock, run_locks
from twinlock.app.project import open_project
from twinlock.solve import adapter
from twinlock.solve.adapter import RattlerSolver, Solver

SCRIPT = Path(sys.executable).parent / "twinlock"


def _composition(name: str, specs: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "environments": {"payload": {"prefix": f"/opt/{name}", "requirements": specs}},
    }


@pytest.fixture
def two_compositions(tmp_path: Path) -> list[Path]:
    (tmp_path / "envs").mkdir()
    (tmp_path / "twinlock.toml").write_text(
        '[mirrors]\nconda-forge = "bundled:conda-forge-snapshot"\n'
    )
    paths = []
    for name, specs in (("one", ["python 3.12.*", "tzdata"]), ("two", ["libzlib", "bzip2"])):
        path = tmp_path / "envs" / f"{name}.yaml"
        path.write_text(yaml.safe_dump(_composition(name, specs), sort_keys=False))
        paths.append(path)
    return paths


@pytest.mark.slow
def test_one_call_locks_each_composition_as_a_call_of_its_own_would(
    two_compositions: list[Path], tmp_path: Path
) -> None:
    root = tmp_path
    done = subprocess.run(
        [str(SCRIPT), "lock", "envs/one.yaml", "envs/two.yaml", "--locks-dir", "together"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "envs/one.yaml:\n" in done.stdout
    assert "envs/two.yaml:\n" in done.stdout
    for path in two_compositions:
        alone = open_project(path, locks_dir=root / "alone", cwd=root)
        run_lock(alone)
        for file in sorted((root / "alone" / path.stem).iterdir()):
            assert (root / "together" / path.stem / file.name).read_bytes() == file.read_bytes()


@pytest.mark.slow
def test_compositions_with_the_same_mirrors_share_one_solver(
    two_compositions: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Solver] = []

    class Counting(RattlerSolver):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(adapter, "RattlerSolver", Counting)
    projects = [
        open_project(p, locks_dir=tmp_path / "locks", cwd=tmp_path) for p in two_compositions
    ]
    reports = run_locks(projects)
    assert [len(r.result.summaries) for r in reports] == [1, 1]
    assert all(s.action != "reused" for r in reports for s in r.result.summaries)
    assert len(made) == 1


def test_a_bad_composition_among_several_exits_2_naming_it(
    two_compositions: list[Path], tmp_path: Path
) -> None:
    (tmp_path / "envs" / "bad.yaml").write_text("name: bad\nchanels: [conda-forge]\n")
    done = subprocess.run(
        [str(SCRIPT), "lock", "envs/one.yaml", "envs/bad.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "bad.yaml" in done.stderr
    assert "did you mean 'channels'" in done.stderr
    assert not (tmp_path / "locks" / "one").exists()  # nothing written before the inputs parse
