"""Exit codes a CI can rely on: the real console script, run again and again.

``explain`` and ``lock`` once ended in ``Fatal Python error: PyGILState_Release`` (exit 134
or 139) in about one run of three to eight, after printing a complete report: rattler's
threads were still handing a result to the event loop while the interpreter shut down
(see :mod:`twinlock.aio`). In-process CLI tests cannot see that, so these run the installed
``twinlock`` script in a subprocess, sequentially, many times.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ProjectFactory, mix_composition

pytestmark = pytest.mark.slow

TWINLOCK = Path(sys.executable).with_name("twinlock")
RUNS = 30

# fitsio >=1.2.1 exists on the bundled snapshot only for Python >= 3.12: small, quick solves.
UNSOLVABLE = ["python 3.11.*", "fitsio >=1.2.1"]
SOLVABLE = ["python 3.12.*", "fitsio >=1.2.1"]


@pytest.mark.parametrize(
    ("command", "requirements", "expected"),
    [
        pytest.param("explain", UNSOLVABLE, 1, id="explain-unsolvable"),
        pytest.param("lock", UNSOLVABLE, 1, id="lock-unsolvable"),
        pytest.param("explain", SOLVABLE, 0, id="explain-solvable"),
        pytest.param("lock", SOLVABLE, 0, id="lock-solvable"),
    ],
)
def test_exit_code_is_the_same_every_run(
    command: str,
    requirements: list[str],
    expected: int,
    make_project: ProjectFactory,
    tmp_path: Path,
) -> None:
    project = make_project(mix_composition(requirements=requirements))
    codes, first_odd = [], ""
    for run in range(RUNS):
        # A fresh locks directory per run: every lock solves, none is a no-op reuse.
        locks = ["--locks-dir", str(tmp_path / f"locks-{run}")] if command == "lock" else []
        done = subprocess.run(
            [str(TWINLOCK), command, str(project.composition_path), *locks],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        codes.append(done.returncode)
        if done.returncode != expected and not first_odd:
            first_odd = done.stderr[-2000:]
    assert codes == [expected] * RUNS, first_odd
