"""The no-op stamp of a lock that just solved: its predicted rerun is what a rerun reports.

``twinlock lock`` records the summary an immediate rerun would print without
reading its own locks back or loading the channel again: it takes the locks it
holds and the records the solve returned (:class:`~twinlock.lock.verify.KnownRecords`).
These tests run the rerun for real (the full path, no stamp) and compare.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from twinlock.app.lock import run_lock
from twinlock.app.project import Project, open_project
from twinlock.lock.verify import KnownRecords, package_ref
from twinlock.model.lock import LockedPackage
from twinlock.solve.records import PackageRef

REPO = Path(__file__).resolve().parents[1]
RSP = REPO / "locks" / "rsp"
TWINLOCK = Path(sys.executable).parent / "twinlock"


def _project(root: Path) -> Project:
    return open_project(root / "envs" / "rsp.yaml", cwd=root)


def _no_locks(root: Path) -> None:
    shutil.rmtree(root / "locks")


def _stale_lab(root: Path) -> None:
    """The lab's inputs changed: the lab is solved again, the payload reused and verified."""
    path = root / "envs" / "rsp.yaml"
    path.write_text(path.read_text().replace("      - nodejs\n", "      - nodejs >=18\n", 1))


def _unvouched_lab_pin(root: Path) -> None:
    """A reused pin the channel holds no record of: a rerun warns 'cannot verify'."""
    path = root / "locks" / "rsp" / "lab.conda-lock.yml"
    text = path.read_text()
    path.write_text(
        text.replace("_openmp_mutex-4.5-20_gnu", "_openmp_mutex-4.5-99_gnu", 1).replace(
            "  build: 20_gnu\n", "  build: 99_gnu\n", 1
        )
    )


def _orphan(root: Path) -> None:
    (root / "locks" / "rsp" / "gone.conda-lock.yml").write_text("version: 1\n")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("prepare", "environments"),
    [
        pytest.param(_no_locks, (), id="everything-solved"),
        pytest.param(_stale_lab, (), id="one-solved-one-reused"),
        pytest.param(_unvouched_lab_pin, (), id="reused-pin-without-channel-record"),
        pytest.param(_orphan, (), id="orphan-removed"),
        pytest.param(_no_locks, ("lab",), id="one-environment-named"),
    ],
)
def test_the_predicted_rerun_is_what_the_rerun_reports(
    repo_copy: Path, prepare: Callable[[Path], None], environments: Sequence[str]
) -> None:
    prepare(repo_copy)
    first = run_lock(_project(repo_copy), environments=environments, predict_rerun=True)
    assert first.rerun is not None
    again = run_lock(_project(repo_copy), environments=environments)
    assert again.result.summaries and {s.action for s in again.result.summaries} == {"reused"}
    assert first.rerun == again


def test_a_noop_answered_in_full_predicts_itself(repo_copy: Path) -> None:
    report = run_lock(_project(repo_copy), predict_rerun=True)
    assert report.rerun == replace(report, rerun=None)


class _Channel:
    """A finder over fixed records that counts what it was asked."""

    def __init__(self, records: Sequence[LockedPackage]) -> None:
        self.records = {package_ref(p): p for p in records}
        self.asked: list[PackageRef] = []

    def find_packages(self, refs: Sequence[PackageRef]) -> dict[PackageRef, LockedPackage]:
        self.asked += refs
        return {r: self.records[r] for r in refs if r in self.records}


def test_known_records_ask_the_channel_once_and_only_for_the_unknown() -> None:
    lock = open_project(REPO / "envs" / "rsp.yaml", cwd=REPO).read_locks()["lab"]
    packages = lock.platforms[0].packages
    known, held, absent = packages[:3], packages[3:5], packages[5]
    channel = _Channel(held)
    built: list[int] = []

    def finder() -> _Channel:
        built.append(1)
        return channel

    records = KnownRecords(finder, known)
    refs = [package_ref(p) for p in known]
    assert records.find_packages(refs) == dict(zip(refs, known, strict=True))
    assert not built  # nothing unknown: the finder is not even built
    more = [package_ref(p) for p in (*held, absent)]
    assert records.find_packages(more) == dict(zip(more[:2], held, strict=True))
    assert records.find_packages(more) == dict(zip(more[:2], held, strict=True))
    assert channel.asked == more  # an absent record is remembered as absent too


def test_the_stamp_after_a_full_solve_repeats_what_the_full_path_prints(
    repo_copy: Path, tmp_path: Path
) -> None:
    _no_locks(repo_copy)
    env = {**os.environ, "TWINLOCK_CACHE_DIR": os.environ["TWINLOCK_CACHE_DIR"]}
    stamps = Path(env["TWINLOCK_CACHE_DIR"]) / "noop"

    def lock() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-X", "importtime", str(TWINLOCK), "lock", "envs/rsp.yaml"],
            cwd=repo_copy,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )

    solved = lock()
    assert solved.returncode == 0, solved.stderr[-2000:]
    assert "solved" in solved.stdout
    from_stamp = lock()
    shutil.rmtree(stamps)
    full_path = lock()
    assert from_stamp.returncode == full_path.returncode == 0
    assert " yaml\n" not in from_stamp.stderr  # answered by the stamp: no lock was read
    assert " yaml\n" in full_path.stderr
    assert from_stamp.stdout == full_path.stdout
    assert "reused (inputs unchanged)" in full_path.stdout
