"""Start-up budgets of the hot commands, in modules (issue 13): what each one imports.

Each test runs the real console script under ``python -X importtime`` with
stdout piped, as CI and scripts run it, and reads the list of modules the
process imported. A budget is a set of packages that must stay out and a ceiling
on twinlock's own modules, chosen from a measurement (below) with a little
headroom (splitting a module adds one); a lazy import that turns eager again, or
a new dependency on the hot path, fails here. Times are for bench/, never for a test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_fastpath import importtime_modules, run_script

REPO = Path(__file__).resolve().parents[1]

# Never imported by piped diff, check or --help: drawing (rich; piped diff text is padded
# columns, piped progress is off), graphs, SBOMs, the PyPI resolver, conda-lock and what
# they bring; nor typer's stack by the fast front (lock, check, diff).
NEVER = frozenset(
    {"rich", "networkx", "cyclonedx", "uv", "conda_lock", "pydantic", "jinja2", "requests"}
)
FAST_FRONT = NEVER | {"typer", "click"}
# twinlock stages diff has no business with: it reads lock files and compares them.
NOT_FOR_DIFF = (
    "twinlock.spec",
    "twinlock.solve",
    "twinlock.pypi",
    "twinlock.install",
    "twinlock.images",
    "twinlock.graph",
    "twinlock.explain",
    "twinlock.aio",
    "twinlock.app.project",
    "twinlock.audit.overlap",
    "twinlock.audit.sbom",
    "twinlock.yamlio",
)
# Measured when the budgets were set (fast lock reader, modules split under 400 lines):
# diff imports 30 twinlock modules, --help 12, check 48, a lock that reuses every pin 61.
DIFF_TWINLOCK_BUDGET = 32
HELP_TWINLOCK_BUDGET = 13
CHECK_TWINLOCK_BUDGET = 50
LOCK_TWINLOCK_BUDGET = 64


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def _own(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m == "twinlock" or m.startswith("twinlock."))


@pytest.mark.parametrize(
    ("old", "new", "also_absent"),
    [
        # Versions change here, so rattler orders them (upgraded/downgraded, bump class).
        pytest.param("tests/data/diff/old", "tests/data/diff/new", set(), id="changed"),
        # Nothing changes: no version is compared, so rattler stays out too.
        pytest.param("locks/rsp", "locks/rsp", {"rattler"}, id="unchanged-bundled"),
    ],
)
def test_piped_diff_of_two_lock_dirs_stays_within_its_budget(
    old: str, new: str, also_absent: set[str]
) -> None:
    done, modules = run_script("diff", old, new)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(f"twinlock diff: {old} -> {new}\n")
    # PyYAML: locks in the regular form twinlock writes are read without it. And the
    # standard library's share: solving, git sides, writing files, markdown, SBOM ids.
    stdlib = {"asyncio", "subprocess", "tempfile", "html", "uuid"}
    heavy = FAST_FRONT | also_absent | stdlib | {"yaml"}
    assert not _top(modules) & heavy, sorted(_top(modules) & heavy)
    own = _own(modules)
    assert not [m for m in own if m.startswith(NOT_FOR_DIFF)]
    assert len(own) <= DIFF_TWINLOCK_BUDGET, own


def test_help_imports_typer_and_the_command_modules_only() -> None:
    done, modules = run_script("--help")
    assert done.returncode == 0
    assert "Commands:" in done.stdout
    baseline = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import typer"],
        capture_output=True,
        text=True,
        check=True,
    )
    extra = modules - importtime_modules(baseline.stderr)
    own = _own(extra)
    assert {m for m in own if not m.startswith("twinlock.cli")} <= {"twinlock", "twinlock.errors"}
    assert len(own) <= HELP_TWINLOCK_BUDGET, own
    # Beyond typer's own imports and twinlock's cli: a module or two of typer's internals.
    others = sorted(m for m in extra - set(own) if _top({m}) != {"typer"})
    assert not _top(set(others)) & (NEVER | {"logging", "yaml", "rattler", "asyncio"}), others
    assert len(others) <= 2, others


def test_check_stays_within_its_budget() -> None:
    # The first check of a cache unpacks the snapshot and remembers the channel's records
    # (a solve's worth of rattler, asyncio); from then on check only looks them up.
    first, _ = run_script("check", "envs/rsp.yaml")
    assert first.returncode == 0, first.stderr[-2000:]
    done, modules = run_script("check", "envs/rsp.yaml")
    assert done.returncode == 0, done.stderr[-2000:]
    # importlib.resources would bring tempfile and zipfile to find the bundled snapshot.
    heavy = FAST_FRONT | {"asyncio", "logging", "tempfile", "zipfile"}
    assert not _top(modules) & heavy, sorted(_top(modules) & heavy)
    own = _own(modules)
    # Checking reads and compares locks: it never plans a lock or resolves PyPI.
    assert not [m for m in own if m.startswith(("twinlock.pypi", "twinlock.lock.plan"))], own
    assert len(own) <= CHECK_TWINLOCK_BUDGET, own


def test_piped_lock_that_reuses_every_pin_stays_within_its_budget(tmp_path: Path) -> None:
    """The full lock path (a fresh locks dir has no no-op stamp) with progress on a pipe."""
    shutil.copytree(REPO / "locks" / "rsp", tmp_path / "rsp")
    done, modules = run_script("lock", "envs/rsp.yaml", "--locks-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "reused (inputs unchanged)" in done.stdout
    assert "yaml" in _top(modules)  # it did read the locks: not the no-op stamp's answer
    # rich included: progress on a pipe draws nothing
    assert not _top(modules) & FAST_FRONT, sorted(_top(modules) & FAST_FRONT)
    own = _own(modules)
    elsewhere = ("twinlock.audit", "twinlock.graph", "twinlock.install", "twinlock.images")
    assert not [m for m in own if m.startswith(elsewhere)], own
    assert len(own) <= LOCK_TWINLOCK_BUDGET, own
