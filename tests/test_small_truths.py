"""Small truths: what lock and check say must match what they did.

- ``lock``'s summary line of a PyPI-only environment counts its PyPI packages
  (solved and reused alike);
- ``--update X`` that a kept pin holds back names that pin and suggests updating both;
- ``check`` applies the kernel rule ``lock`` warns about (a ``kernel:`` environment
  without ipykernel is a finding).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.conftest import REPO, ProjectFactory, mix_composition
from tests.test_pypi import FakeResolver
from twinlock.app.check import run_check
from twinlock.app.lock import run_lock
from twinlock.app.project import open_project
from twinlock.cli.render import summary_line
from twinlock.lock.plan import PlatformSummary
from twinlock.model.lock import PypiPackage
from twinlock.pypi.plan import PypiOutcome, PypiRequest

TWINLOCK = Path(sys.executable).parent / "twinlock"


@pytest.mark.parametrize(
    ("summary", "line"),
    [
        pytest.param(
            PlatformSummary("lab", "linux-64", "solved", 0, 1.5, (), 255),
            "lab linux-64: 255 PyPI packages, solved in 1.50 s",
            id="pypi-only-solved",
        ),
        pytest.param(
            PlatformSummary("lab", "linux-64", "reused", 0, 0.0, (), 255),
            "lab linux-64: 255 PyPI packages, reused (inputs unchanged)",
            id="pypi-only-reused",
        ),
        pytest.param(
            PlatformSummary("payload", "linux-64", "solved", 547, 0.25, (), 3),
            "payload linux-64: 547 packages + 3 PyPI, solved in 0.25 s",
            id="conda-plus-pypi",
        ),
        pytest.param(
            PlatformSummary("payload", "linux-64", "reused", 547, 0.0),
            "payload linux-64: 547 packages, reused (inputs unchanged)",
            id="conda-only",
        ),
    ],
)
def test_summary_line_counts_what_was_locked(summary: PlatformSummary, line: str) -> None:
    assert summary_line(summary) == line


def test_pypi_only_environment_counts_its_pypi_packages_solved_and_reused(
    make_project: ProjectFactory,
) -> None:
    project = make_project(mix_composition(python="3.12", pypi=["numpy", "six"]))
    resolver = FakeResolver({"numpy": "2.1.0", "six": "1.16.0"})
    solved = run_lock(project, pypi=resolver)
    assert [summary_line(s) for s in solved.result.summaries] == [
        "payload linux-64: 2 PyPI packages, solved in 0.00 s"
    ]
    reused = run_lock(open_project(project.composition_path, cwd=project.config.root))
    assert [summary_line(s) for s in reused.result.summaries] == [
        "payload linux-64: 2 PyPI packages, reused (inputs unchanged)"
    ]


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [str(TWINLOCK), *args], cwd=root, capture_output=True, text=True, env=env, check=False
    )


@pytest.mark.slow
def test_console_script_counts_the_bundled_pypi_lab(tmp_path: Path) -> None:
    shutil.copytree(REPO / "envs", tmp_path / "envs")
    shutil.copytree(REPO / "locks" / "rsp-pypi", tmp_path / "locks" / "rsp-pypi")
    shutil.copy(REPO / "twinlock.toml", tmp_path / "twinlock.toml")
    done = _cli(tmp_path, "lock", "envs/rsp-pypi.yaml")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^lab linux-64: \d{3} PyPI packages, reused", done.stdout, re.MULTILINE)


HELD = {
    "name": "held",
    "channels": ["conda-forge"],
    "platforms": ["linux-64"],
    "snapshot": "2026-10-01",
    "environments": {
        "payload": {
            "prefix": "/opt/payload",
            "requirements": ["python 3.11.*", "astropy <6", "numpy <1.26"],
        }
    },
}


@pytest.mark.slow
def test_update_held_back_by_a_kept_pin_names_it_and_suggests_both(
    make_project: ProjectFactory,
) -> None:
    project = make_project(HELD)
    run_lock(project)
    path = project.composition_path
    # Loosen both: a plain relock keeps the pins (only requirements changed).
    path.write_text(
        path.read_text().replace("astropy <6", "astropy").replace("numpy <1.26", "numpy")
    )
    root = project.config.root
    assert _cli(root, "lock", str(path)).returncode == 0

    # astropy 5.3.4 (kept) needs numpy <2: numpy moves within that, and lock says why.
    done = _cli(root, "lock", str(path), "--update", "numpy")
    assert done.returncode == 0, done.stderr
    warning = re.search(r"warning: --update numpy: .*", done.stdout + done.stderr)
    assert warning is not None, done.stdout + done.stderr
    assert re.search(
        r"numpy went to 1\.\S+ on linux-64, not 2\.\S+: the kept pin astropy 5\.\S+ holds it "
        r"back; update both: --update numpy,astropy",
        warning.group(0),
    )
    # Following the suggestion moves numpy past the pin, and nothing is held back any more.
    done = _cli(root, "lock", str(path), "--update", "numpy,astropy")
    assert done.returncode == 0 and "warning: --update" not in done.stdout + done.stderr
    assert re.search(r"numpy: 1\.\S+ \S+ -> 2\.", done.stdout)


class HoldingResolver:
    """PyPI as uv sees it: astropy 5 needs numpy <2, and kept pins (preferences) stay put."""

    def __init__(self) -> None:
        self.requests: list[PypiRequest] = []

    def resolve_all(self, requests: Sequence[PypiRequest]) -> list[PypiOutcome]:
        self.requests += requests
        return [self._resolve(r) for r in requests]

    def _resolve(self, request: PypiRequest) -> PypiOutcome:
        kept = {p.name: p.version for p in request.preferences if p.name not in request.upgrade}
        astropy = kept.get("astropy", "6.1.0")
        numpy = "1.26.4" if astropy.startswith("5.") else "2.1.0"
        packages = (
            PypiPackage(
                "astropy", astropy, f"https://f/astropy-{astropy}.whl", "1" * 64, ("numpy",)
            ),
            PypiPackage("numpy", numpy, f"https://f/numpy-{numpy}.whl", "2" * 64),
        )
        return PypiOutcome(request, packages, None, 0.0)


def test_pypi_update_held_back_by_a_kept_pin_names_it(make_project: ProjectFactory) -> None:
    project = make_project(mix_composition(python="3.12", pypi=["astropy", "numpy"]))
    run_lock(project, pypi=FakeResolver({"astropy": "5.3.4", "numpy": "1.25.2"}))
    resolver = HoldingResolver()
    report = run_lock(project, update=["numpy"], pypi=resolver)
    # the lock itself (preferences kept), then one resolution without preferences
    assert [len(r.preferences) for r in resolver.requests] == [2, 0]
    assert [w for w in report.warnings if w.startswith("--update")] == [
        "--update numpy: numpy went to 1.26.4 on linux-64, not 2.1.0: the kept pin "
        "astropy 5.3.4 holds it back; update both: --update numpy,astropy"
    ]
    report = run_lock(project, update=["numpy", "astropy"], pypi=HoldingResolver())
    assert not [w for w in report.warnings if w.startswith("--update")]
    assert {p.name: p.version for p in project.read_locks()["payload"].platforms[0].pypi} == {
        "astropy": "6.1.0",
        "numpy": "2.1.0",
    }


def test_check_applies_the_kernel_rule_as_lock_warns(make_project: ProjectFactory) -> None:
    composition = {
        **mix_composition(
            python="3.12",
            pypi=["numpy"],
            kernel={"name": "p", "display-name": "P", "lab": "lab"},
        ),
    }
    composition["environments"]["lab"] = {
        "prefix": "/opt/lab",
        "python": "3.12",
        "pypi": ["jupyterlab"],
    }
    project = make_project(composition)
    report = run_lock(project, pypi=FakeResolver({"numpy": "2.1.0", "jupyterlab": "4.2.0"}))
    (warning,) = [w for w in report.warnings if "ipykernel" in w]
    findings = run_check(project)
    assert [(f.environment, f.kind, f.detail) for f in findings] == [("payload", "kernel", warning)]
    # with ipykernel locked the rule is satisfied in both
    fixed = FakeResolver({"numpy": "2.1.0", "jupyterlab": "4.2.0", "ipykernel": "6.29.0"})
    report = run_lock(project, full=True, pypi=fixed)
    assert not [w for w in report.warnings if "ipykernel" in w]
    assert run_check(project) == []
