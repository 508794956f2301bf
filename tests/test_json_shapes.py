"""The --json documents of lock, check, verify and tag parse/sort, against golden files.

Regenerate a golden after an intended change of shape (and bump its format
version if a field is removed or changes meaning):
``TWINLOCK_REGEN=1 .venv/bin/python -m pytest tests/test_json_shapes.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from twinlock.app import shapes
from twinlock.app.lockreport import LockReport
from twinlock.lock.plan import LockResult, PackageChange, PlatformSummary

from .conftest import DATA, REPO

GOLDEN = DATA / "interface"
TWINLOCK = str(REPO / ".venv" / "bin" / "twinlock")


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("TWINLOCK_REGEN"):
        path.write_text(text)
    assert text == path.read_text()


def _run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TWINLOCK, *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture
def locks_copy(tmp_path: Path) -> Path:
    """The bundled example's locks, copied (a lock run must not touch the repository's)."""
    shutil.copytree(REPO / "locks", tmp_path / "locks")
    return tmp_path / "locks"


@pytest.mark.parametrize(
    ("args", "code", "golden"),
    [
        pytest.param(["check", "--json"], 0, "check.json", id="check"),
        pytest.param(
            ["tag", "parse", "--json", "r29_2_0_rsp3_c0041.001-amd64", "w_2025_10", "exp_x"],
            0,
            "tag-parse.json",
            id="tag-parse",
        ),
        pytest.param(
            [
                *("tag", "sort", "--json", "--alias", "recommended", "r28_0_0", "recommended"),
                *("w_2025_10", "r29_2_0_rc1", "r29_2_0", "d_2025_03_01"),
            ],
            0,
            "tag-sort.json",
            id="tag-sort",
        ),
    ],
)
def test_json_documents_of_the_real_console_script(args: list[str], code: int, golden: str) -> None:
    done = _run(*args)
    assert done.returncode == code, done.stderr
    _golden(golden, done.stdout)


def test_lock_json_of_a_no_op_relock(locks_copy: Path) -> None:
    done = _run("lock", "--json", "--locks-dir", str(locks_copy))
    assert done.returncode == 0, done.stderr
    _golden("lock-reused.json", done.stdout)


def test_lock_json_with_changes_written_and_removed(tmp_path: Path) -> None:
    summaries = (
        PlatformSummary(
            "lab",
            "linux-64",
            "solved",
            166,
            1.23456,
            (
                PackageChange("jupyterlab", "4.2.5 pyhd8ed1ab_0", "4.3.0 pyhd8ed1ab_0"),
                PackageChange("six", "1.16.0 pyhd8ed1ab_0", None),
            ),
            pypi=2,
        ),
        PlatformSummary("payload", "linux-64", "reused", 547, 0.0),
    )
    report = LockReport(
        LockResult((), summaries),
        written=(tmp_path / "locks/rsp/lab.conda-lock.yml",),
        removed=(tmp_path / "locks/rsp/old-linux-64.explicit.txt",),
        warnings=("kernel 'lsst' names lab 'lab' which has no ipykernel",),
    )
    document = shapes.lock_document(report, tmp_path)
    assert document["format"] == shapes.LOCK_FORMAT
    _golden("lock-changes.json", shapes.dumps(document) + "\n")


def test_verify_json_names_each_missing_prefix(tmp_path: Path) -> None:
    done = _run("verify", "--json", "--platform", "linux-64", "--root", str(tmp_path))
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert document["format"] == shapes.VERIFY_FORMAT and not document["ok"]
    _golden("verify-no-prefix.json", done.stdout.replace(str(tmp_path), "ROOT"))


def test_check_json_lists_findings_and_exits_1(locks_copy: Path) -> None:
    (locks_copy / "rsp" / "lab-osx-arm64.explicit.txt").unlink()
    (locks_copy / "rsp" / "stray-linux-64.explicit.txt").write_text("@EXPLICIT\n")
    done = _run("check", "--json", "--locks-dir", str(locks_copy))
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert not document["ok"]
    kinds = {(f["environment"], f["platform"], f["kind"]) for f in document["findings"]}
    assert ("lab", "osx-arm64", "stale") in kinds
    assert ("stray-linux-64.explicit.txt", None, "orphan") in kinds


def test_every_shape_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for fmt in (shapes.LOCK_FORMAT, shapes.CHECK_FORMAT, shapes.VERIFY_FORMAT, shapes.TAGS_FORMAT):
        assert fmt in readme
        assert fmt in (shapes.__doc__ or "")
