"""The PyPI layer against real uv and PyPI: bad input, a conda+PyPI environment,
``--update`` and interpreter discovery. Needs network access to PyPI (or a warm uv cache).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import ProjectFactory, mix_composition
from twinlock.app.check import run_check
from twinlock.app.lock import run_lock
from twinlock.app.project import open_project
from twinlock.cli.main import app
from twinlock.errors import InterpreterError
from twinlock.pypi.uv import find_interpreter, interpreter_version

pytestmark = pytest.mark.slow

runner = CliRunner()


@pytest.mark.parametrize(
    ("pypi", "code", "message"),
    [
        pytest.param(
            ["numpy-does-not-exist-twinlock"],
            2,
            r"error: PyPI layer of payload on linux-64: (.|\n)*numpy-does-not-exist-twinlock "
            r"was not found in the package registry(.|\n)*hint: check the project name",
            id="unknown-project",
        ),
        pytest.param(
            ["numpy==1.26.4", "numpy>=2"],
            1,
            r"error: cannot solve payload on linux-64:\n    PyPI layer \(uv\): (.|\n)*"
            r"you require numpy==1.26.4 and numpy>=2",
            id="unsatisfiable-pins",
        ),
    ],
)
def test_bad_pypi_input_is_a_clear_error(
    make_project: ProjectFactory, pypi: list[str], code: int, message: str
) -> None:
    project = make_project(mix_composition(python="3.11", pypi=pypi))
    result = runner.invoke(app, ["lock", str(project.composition_path)])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert re.search(message, result.output), result.output
    assert project.read_locks() == {}


def test_pypi_on_top_of_conda(make_project: ProjectFactory) -> None:
    """Python version from the conda solve; conda's numpy and pyyaml are reused, not reinstalled."""
    project = make_project(
        mix_composition(
            requirements=["python 3.11.*", "numpy 1.26.*", "pyyaml"],
            pypi=["PyYAML", "astropy>=6,<7", "numpy"],
        )
    )
    report = run_lock(project)
    plat = project.read_locks()["payload"].platforms[0]
    conda_numpy = plat.provider("numpy")
    assert conda_numpy is not None and conda_numpy.version.startswith("1.26.")
    astropy = plat.pypi_package("astropy")
    assert astropy is not None and astropy.version.startswith("6.")
    assert "numpy" in astropy.depends  # met by conda's numpy
    assert plat.pypi_package("numpy") is None and plat.pypi_package("pyyaml") is None
    assert plat.overlaps() == []
    assert any("'PyYAML' is provided by conda's pyyaml" in w for w in report.warnings)
    assert run_check(project) == []

    # --update moves only the named PyPI package (here: nothing newer within the pins).
    again = run_lock(project, update=["astropy"])
    assert again.result.summaries[0].action == "solved"
    assert project.read_locks()["payload"].platforms[0] == plat


def test_find_interpreter(tmp_path: Path) -> None:
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    found = find_interpreter("x", running)
    assert (interpreter_version(found) or "").startswith(running + ".")
    assert find_interpreter("x", running, sys.executable) == Path(sys.executable)
    with pytest.raises(InterpreterError, match=r"x: python-interpreter .* is Python 3\.\d+\.\d+"):
        find_interpreter("x", "3.9" if running != "3.9" else "3.8", sys.executable)
    with pytest.raises(InterpreterError, match=r"x: no Python 3\.99 found(.|\n)*tried"):
        find_interpreter("x", "3.99")


def test_bundled_pypi_lab_relocks_byte_identical(tmp_path: Path) -> None:
    """The snapshot applies to PyPI (--exclude-newer): a lock from scratch matches the commit."""
    repo = Path(__file__).resolve().parents[1]
    project = open_project(repo / "envs" / "rsp-pypi.yaml", locks_dir=tmp_path)
    run_lock(project, environments=["lab"])
    fresh = (tmp_path / "rsp-pypi" / "lab.conda-lock.yml").read_text()
    assert fresh == (repo / "locks" / "rsp-pypi" / "lab.conda-lock.yml").read_text()


def test_venv_of_another_python_is_rebuilt(tmp_path: Path) -> None:
    """A PyPI-only prefix whose lock moved to another Python is rebuilt aside, then swapped."""
    from twinlock.pypi.uv import install_layer

    try:
        old, new = find_interpreter("x", "3.10"), find_interpreter("x", "3.11")
    except InterpreterError as exc:
        pytest.skip(exc.message)
    prefix = tmp_path / "opt" / "tool"
    first = install_layer(prefix, [], interpreter=old, environment="tool")
    assert first.created and (interpreter_version(prefix / "bin" / "python") or "").startswith(
        "3.10."
    )
    again = install_layer(prefix, [], interpreter=old, environment="tool")
    assert not again.created
    moved = install_layer(prefix, [], interpreter=new, environment="tool")
    assert moved.created and (interpreter_version(prefix / "bin" / "python") or "").startswith(
        "3.11."
    )
    assert sorted(p.name for p in prefix.parent.iterdir()) == ["tool"]  # no staging left behind
