"""The import contracts of pyproject.toml hold, and a forbidden import breaks them.

Each case copies the package source to a temporary directory, appends one
import that a contract forbids, and runs the real ``lint-imports`` (what
``make lint`` runs) against the copy: it must exit non-zero naming the contract.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _copy_tree(tmp_path: Path) -> Path:
    """A copy of src/twinlock and pyproject.toml that lint-imports analyses instead."""
    shutil.copytree(
        ROOT / "src" / "twinlock",
        tmp_path / "src" / "twinlock",
        ignore=shutil.ignore_patterns("__pycache__", "data"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH puts the copy before the editable install, so grimp reads the copy.
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_tree_as_committed_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint_imports(_copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract", "offender"),
    [
        pytest.param(
            "model/composition.py",
            "import twinlock.app",
            "stages import only downward BROKEN",
            "twinlock.model.composition -> twinlock.app",
            id="model-imports-app",
        ),
        pytest.param(
            "solve/adapter.py",
            "import twinlock.lock.format",
            "stages import only downward BROKEN",
            "twinlock.solve.adapter -> twinlock.lock.format",
            id="solve-imports-lock",
        ),
        pytest.param(
            "model/lock.py",
            "import twinlock.fileio",
            "the model imports nothing of twinlock but errors BROKEN",
            "twinlock.model.lock -> twinlock.fileio",
            id="model-imports-fileio",
        ),
        pytest.param(
            "cli/lock.py",
            "import twinlock.solve.adapter",
            "cli imports app and renderers only BROKEN",
            "twinlock.cli.lock -> twinlock.solve.adapter",
            id="cli-imports-solve",
        ),
        pytest.param(
            "cli/audit.py",
            "import twinlock.audit.diff",
            "cli imports app and renderers only BROKEN",
            "twinlock.cli.audit -> twinlock.audit.diff",
            id="cli-imports-audit-core",
        ),
        pytest.param(
            "cli/app.py",
            "import twinlock.cli.lock",
            "cli: main, then command modules, then the typer app, then rendering BROKEN",
            "twinlock.cli.app -> twinlock.cli.lock",
            id="cli-app-imports-command-module",
        ),
        pytest.param(
            "model/composition.py",
            "import twinlock.model.lock",
            "no import cycles inside any package BROKEN",
            ".lock -> .composition",
            id="cycle-inside-model",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str, offender: str
) -> None:
    tree = _copy_tree(tmp_path)
    target = tree / "src" / "twinlock" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    result = _lint_imports(tree)
    assert result.returncode != 0, result.stdout
    assert contract in result.stdout, result.stdout
    # The report names the offending import (read from the copy, not the installed tree).
    assert offender in result.stdout, result.stdout


# Module size: the standard is "under ~400 lines"; this fails beyond MAX_LINES, so a
# module nearing the limit is split by concern before it grows a catch-all.
MAX_LINES = 420


def _oversized(package: Path, limit: int) -> dict[str, int]:
    """Every module under *package* longer than *limit* lines, by path relative to it."""
    sizes = {
        path.relative_to(package).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in package.rglob("*.py")
    }
    return {path: lines for path, lines in sorted(sizes.items()) if lines > limit}


def test_no_module_is_over_the_size_limit() -> None:
    offenders = _oversized(ROOT / "src" / "twinlock", MAX_LINES)
    assert not offenders, f"modules over {MAX_LINES} lines (split them by concern): " + ", ".join(
        f"src/twinlock/{path} ({lines})" for path, lines in offenders.items()
    )


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(MAX_LINES, {}, id="at-the-limit"),
        pytest.param(MAX_LINES + 1, {"stage/long.py": MAX_LINES + 1}, id="one-over"),
    ],
)
def test_the_size_check_names_a_module_over_the_limit(
    tmp_path: Path, lines: int, expected: dict[str, int]
) -> None:
    (tmp_path / "stage").mkdir()
    (tmp_path / "stage" / "short.py").write_text("x = 1\n" * 10, encoding="utf-8")
    (tmp_path / "stage" / "long.py").write_text("x = 1\n" * lines, encoding="utf-8")
    assert _oversized(tmp_path, MAX_LINES) == expected


@pytest.mark.slow
def test_the_project_object_never_leaves_the_use_case_layer(tmp_path: Path) -> None:
    """The stages get plain values from ``app``: no stage function runs holding the Project.

    Every frame a full lock of the example runs (all threads) is inspected: a local that
    is the project, or holds it (three references deep: an attribute, a closure, a bound
    method, an item), counts.
    """
    import threading
    from types import FrameType
    from typing import Any

    from twinlock.app.lock import run_lock
    from twinlock.app.project import open_project

    root = tmp_path / "repo"
    shutil.copytree(ROOT / "envs", root / "envs")
    shutil.copy(ROOT / "twinlock.toml", root / "twinlock.toml")
    project = open_project(root / "envs" / "rsp.yaml", cwd=root)
    holders: set[str] = set()

    def holds(value: object, depth: int = 3) -> bool:
        """Is *value* the project, or does it hold it (attributes, closures, bound methods)?"""
        if value is project:
            return True
        if depth == 0 or isinstance(value, str | bytes | int | float | Path):
            return False
        inner: list[object] = [getattr(value, "__self__", None)]
        inner += [c.cell_contents for c in getattr(value, "__closure__", None) or ()]
        inner += list(getattr(value, "__dict__", {}).values())
        if isinstance(value, list | tuple) and len(value) <= 8:  # not package lists
            inner += list(value)
        return any(holds(v, depth - 1) for v in inner if v is not None)

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        module = frame.f_globals.get("__name__", "")
        twinlock = event == "call" and module.startswith("twinlock.")
        if twinlock and any(holds(v) for v in frame.f_locals.values()):
            holders.add(module)

    threading.setprofile(profile)  # type: ignore[arg-type]
    sys.setprofile(profile)  # type: ignore[arg-type]
    try:
        run_lock(project, full=True)
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    assert "twinlock.app.lock" in holders  # the probe saw the project where it must be
    assert {m for m in holders if not m.startswith("twinlock.app.")} == set()
