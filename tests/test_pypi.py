"""The PyPI layer without the network: composition keys, lock format, input hash,
uv output parsing, artifact choice, and locking with a fake resolver.

Real uv runs are in test_pypi_uv.py and test_pypi_e2e.py (marked slow).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, ProjectFactory, mix_composition
from twinlock.app.check import run_check
from twinlock.app.lock import run_lock
from twinlock.app.project import Project, open_project
from twinlock.errors import CompositionError, PypiError, PypiUnsolvableError
from twinlock.lock.format import parse_conda_lock, render_conda_lock, render_explicit
from twinlock.model.composition import PypiRequirement, Requirement
from twinlock.model.inputs import SolveInputs
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock, PypiPackage
from twinlock.pypi.plan import (
    PypiOutcome,
    PypiRequest,
    build_packages,
    choose_artifact,
    conda_provided,
    condense_uv_error,
    parse_pins,
)
from twinlock.spec.parse import parse_composition

PYPI = DATA / "pypi"


@pytest.mark.parametrize(
    ("env", "files", "pypi", "python"),
    [
        pytest.param(
            {"requirements": ["python 3.11.*"], "pypi": ["PyYAML>=6", "numpy<3"]},
            {},
            ("PyYAML>=6", "numpy<3"),
            None,
            id="inline-list",
        ),
        pytest.param(
            {"requirements": ["python"], "pypi-file": "req.txt"},
            {"req.txt": "# pins\nastropy>=6  # units\n\nrequests[socks]; python_version>'3'\n"},
            ("astropy>=6", "requests[socks]; python_version>'3'"),
            None,
            id="requirements-txt",
        ),
        pytest.param(
            {"file": "env.yml"},
            {"env.yml": {"dependencies": ["python 3.11.*", {"pip": ["lsst-rsp>=0.5"]}]}},
            ("lsst-rsp>=0.5",),
            None,
            id="environment-yml-pip-section",
        ),
        pytest.param(
            {"python": "3.12", "pypi": [{"spec": "jupyter_server", "reason": "the server"}]},
            {},
            ("jupyter_server",),
            "3.12",
            id="pypi-only",
        ),
    ],
)
def test_pypi_sources(
    env: dict[str, Any], files: dict[str, object], pypi: tuple[str, ...], python: str | None
) -> None:
    comp = parse_composition(mix_composition(**env), source="envs/mix.yaml", files=files)
    parsed = comp.environment("payload")
    assert parsed.pypi_specs == pypi
    assert all(isinstance(r, PypiRequirement) for r in parsed.pypi)
    assert parsed.python == python
    assert parsed.pypi_only == (python is not None)


def test_pypi_names_are_normalised() -> None:
    assert PypiRequirement("PyYAML>=6").name == "pyyaml"
    assert PypiRequirement("jupyter_server[test] ; python_version>'3'").name == "jupyter-server"
    plat = PlatformLock.create(
        "linux-64",
        "h",
        (),
        [LockedPackage("pyyaml", "6.0.2", "py311_0", "linux-64", "u/x.conda", "c", "m")],
        [PypiPackage("pyyaml", "6.0.2", "https://f/PyYAML-6.0.2.whl", "0" * 64)],
    )
    assert [(c.name, p.name) for c, p in plat.overlaps()] == [("pyyaml", "pyyaml")]
    assert plat.provider("PyYAML") is not None


@pytest.mark.parametrize(
    ("env", "files", "message"),
    [
        pytest.param(
            {"requirements": ["python"], "pypi": ["numpy>=>2"]},
            {},
            r"environments.payload.pypi\[0\]: invalid PyPI requirement 'numpy>=>2'",
            id="bad-pep508",
        ),
        pytest.param(
            {"requirements": ["python"], "pypi": ["lsst @ git+https://github.com/x/y"]},
            {},
            r"cannot lock PyPI entry 'lsst @ git\+https://github.com/x/y': a git reference "
            r"has no hash to lock",
            id="direct-reference",
        ),
        pytest.param(
            {"requirements": ["python"], "pypi-file": "req.txt"},
            {"req.txt": "numpy\n--index-url https://x\ngit+https://github.com/x/y\n"},
            r"envs/req.txt: line:2: pip option '--index-url https://x' is not supported"
            r"(.|\n)*envs/req.txt: line\[1\]: cannot lock PyPI entry 'git\+https",
            id="requirements-txt-options-and-urls",
        ),
        pytest.param(
            {"requirements": ["python"], "pypi-file": "missing.txt"},
            {},
            r"pypi-file: cannot read 'missing.txt'",
            id="missing-file",
        ),
        pytest.param(
            {"python": 3.10, "pypi": ["numpy"]},
            {},
            r"python: invalid Python version 3.1$",
            id="unquoted-version",
        ),
        pytest.param(
            {"python": "3.12", "requirements": ["python"], "pypi": ["numpy"]},
            {},
            r"PyPI-only environment \(python:\) takes no conda 'requirements'",
            id="python-with-conda",
        ),
        pytest.param(
            {"python": "3.12"},
            {},
            r"payload: a PyPI-only environment \(python:\) has nothing to install",
            id="pypi-only-empty",
        ),
        pytest.param(
            {"requirements": ["python"], "python-interpreter": "bin/python", "pypi": ["x"]},
            {},
            r"only a PyPI-only environment(.|\n)*expected an absolute path",
            id="interpreter-without-python",
        ),
        pytest.param(
            {"requirements": ["python"], "pyton": "3.12"},
            {},
            r"unknown key 'pyton' \(did you mean 'python'\?\)",
            id="did-you-mean",
        ),
    ],
)
def test_invalid_pypi_input(env: dict[str, Any], files: dict[str, object], message: str) -> None:
    with pytest.raises(CompositionError, match=message):
        parse_composition(mix_composition(**env), source="envs/mix.yaml", files=files)


def _request(**kw: Any) -> PypiRequest:
    return PypiRequest("payload", "linux-64", "3.11", ("wcwidth", "python-dateutil"), **kw)


def test_parse_pins_reads_pins_and_via_graph() -> None:
    pins = parse_pins((PYPI / "pins.txt").read_text())
    assert pins["python-dateutil"][1] == ()  # via -r: a requested package
    assert pins["tzdata"][1] == ("python-dateutil",)
    split = "b==1.0 \\\n    --hash=sha256:00\n    # via\n    #   -r req.in\n    #   A_Pkg\n"
    assert parse_pins(split) == {"b": ("1.0", ("a-pkg",))}


def test_build_packages_chooses_the_most_specific_wheel() -> None:
    packages = build_packages(
        _request(), (PYPI / "pins.txt").read_text(), (PYPI / "pylock.toml").read_text()
    )
    by_name = {p.name: p for p in packages}
    assert sorted(by_name) == ["python-dateutil", "tzdata", "wcwidth"]
    assert "cp310-abi3-manylinux" in by_name["wcwidth"].file_name  # not the py3-none-any one
    assert by_name["python-dateutil"].depends == ("tzdata",)
    assert all(len(p.sha256) == 64 and p.is_wheel for p in packages)
    # On macOS the manylinux wheel is not acceptable: the pure wheel is chosen.
    mac = build_packages(
        replace(_request(), platform="osx-arm64"),
        (PYPI / "pins.txt").read_text(),
        (PYPI / "pylock.toml").read_text(),
    )
    assert next(p for p in mac if p.name == "wcwidth").file_name.endswith("py3-none-any.whl")


def test_conda_provided_packages_are_left_to_conda() -> None:
    tz = LockedPackage(
        "tzdata", "2026.6", "pyhd8ed1ab_0", "noarch", "u", "c", "m", None, ("python",)
    )
    lib = LockedPackage("libzlib", "1.3", "h0", "linux-64", "u", "c", "m")
    provided = conda_provided([tz, lib])
    assert provided == {"tzdata": "2026.6"}
    req = _request(provided=provided)
    assert req.constraint_lines() == ["tzdata==2026.6"]
    packages = build_packages(
        req, (PYPI / "pins.txt").read_text(), (PYPI / "pylock.toml").read_text()
    )
    assert "tzdata" not in {p.name for p in packages}
    assert choose_artifact([], req) is None


@pytest.mark.parametrize(
    ("glibc", "expected"),
    [
        pytest.param("2.28", "x86_64-manylinux_2_28", id="2.28"),
        pytest.param("2.17", "x86_64-manylinux_2_17", id="2.17"),
        pytest.param("2.30", "x86_64-manylinux_2_28", id="between-levels"),
        pytest.param(None, "x86_64-manylinux_2_28", id="default"),
    ],
)
def test_uv_platform_follows_glibc(glibc: str | None, expected: str) -> None:
    assert _request(glibc=glibc).uv_platform == expected


def test_condense_uv_error() -> None:
    stderr = "  \u00d7 No solution found\n  ╰─▶ Because x was not found\n\n  hint: try again\n"
    assert condense_uv_error(stderr) == "No solution found\nBecause x was not found"


def _lock_with_pypi() -> EnvironmentLock:
    conda = LockedPackage(
        "python", "3.11.9", "h0_cpython", "linux-64",
        "https://conda.anaconda.org/conda-forge/linux-64/python-3.11.9-h0_cpython.conda",
        "https://conda.anaconda.org/conda-forge", "0" * 32, "1" * 64,
    )  # fmt: skip
    pip = PypiPackage(
        "astropy", "7.0.0", "https://files.pythonhosted.org/x/astropy-7.0.0-cp311-cp311-manylinux_2_28_x86_64.whl",
        "2" * 64, ("numpy", "pyerfa"),
    )  # fmt: skip
    plat = PlatformLock.create("linux-64", "h" * 64, (), [conda], [pip])
    return EnvironmentLock(
        composition="mix",
        environment="payload",
        prefix="/opt/payload",
        channels=("https://conda.anaconda.org/conda-forge",),
        requirements=(Requirement("python 3.11.*"),),
        platforms=(plat,),
        sources=("envs/mix.yaml",),
        pypi_requirements=(PypiRequirement("astropy>=6", "science", "units"),),
    )


def test_lock_file_round_trip_with_pip_entries(tmp_path: Path) -> None:
    # A sound lock (what the reader accepts): a hex input hash, every dependency locked.
    base = _lock_with_pypi().platforms[0]
    deps = [
        PypiPackage(
            n, "2.0", f"https://files.pythonhosted.org/x/{n}-2.0-py3-none-any.whl", "3" * 64
        )
        for n in ("numpy", "pyerfa")
    ]
    plat = PlatformLock.create("linux-64", "a" * 64, (), base.packages, [*base.pypi, *deps])
    lock = _lock_with_pypi().with_platforms([plat])
    text = render_conda_lock(lock)
    assert "manager: pip" in text
    assert parse_conda_lock(text, source="x") == lock
    # conda-lock's own parser reads the pip entries.
    from conda_lock.lockfile import parse_conda_lock_file

    path = tmp_path / "payload.conda-lock.yml"
    path.write_text(text)
    pip = [p for p in parse_conda_lock_file(path).package if p.manager == "pip"]
    assert sorted((p.name, p.hash.sha256) for p in pip) == [
        ("astropy", "2" * 64),
        ("numpy", "3" * 64),
        ("pyerfa", "3" * 64),
    ]
    assert "# PyPI layer (3 packages" in render_explicit(lock, "linux-64")


def test_input_hash_covers_pypi_and_keeps_conda_only_hashes() -> None:
    base = SolveInputs("e", "linux-64", ("python",), ("c",), None, ())
    with_pypi = replace(base, pypi_specs=("numpy",))
    with_python = replace(with_pypi, python="3.12")
    assert len({base.digest(), with_pypi.digest(), with_python.digest()}) == 3
    assert with_python.changes_since(base) == [
        "PyPI requirement added: numpy",
        "Python version changed: None -> 3.12",
    ]
    # The committed conda-only example keeps its recorded hashes.
    project = open_project(Path(__file__).resolve().parents[1] / "envs" / "rsp.yaml")
    assert run_check(project) == []


class FakeResolver:
    """Answers every request from a table {name: version}; records the requests."""

    def __init__(self, versions: dict[str, str], error: str | None = None) -> None:
        self.versions = versions
        self.error = error
        self.requests: list[PypiRequest] = []

    def resolve_all(self, requests: Sequence[PypiRequest]) -> list[PypiOutcome]:
        self.requests += requests
        if self.error:
            return [PypiOutcome(r, None, self.error, 0.0) for r in requests]
        return [
            PypiOutcome(
                r,
                tuple(
                    PypiPackage(n, v, f"https://f/{n}-{v}-py3-none-any.whl", "3" * 64)
                    for n, v in self.versions.items()
                ),
                None,
                0.0,
            )
            for r in requests
        ]


def _pypi_only(make_project: ProjectFactory, pypi: list[str]) -> Project:
    return make_project(mix_composition(python="3.12", pypi=pypi))


def test_lock_pypi_only_with_fake_resolver(make_project: ProjectFactory) -> None:
    project = _pypi_only(make_project, ["numpy"])
    resolver = FakeResolver({"numpy": "2.1.0"})
    report = run_lock(project, pypi=resolver)
    assert [(s.packages, s.pypi) for s in report.result.summaries] == [(0, 1)]
    assert resolver.requests[0].python_version == "3.12"
    lock = project.read_locks()["payload"]
    assert lock.python == "3.12" and lock.platforms[0].pypi_package("numpy") is not None
    assert run_check(project) == []

    # --update numpy: previous pins are preferences, numpy may move.
    newer = FakeResolver({"numpy": "2.2.0"})
    report = run_lock(project, update=["numpy"], pypi=newer)
    assert newer.requests[0].upgrade == frozenset({"numpy"})
    assert [p.version for p in newer.requests[0].preferences] == ["2.1.0"]
    assert [(c.name, c.old, c.new) for c in report.result.summaries[0].changes] == [
        ("pypi:numpy", "2.1.0", "2.2.0")
    ]


def test_check_reports_a_stale_pypi_requirement(make_project: ProjectFactory) -> None:
    project = _pypi_only(make_project, ["numpy"])
    run_lock(project, pypi=FakeResolver({"numpy": "2.1.0"}))
    edited = _pypi_only(make_project, ["numpy", "scipy"])
    details = [f.detail for f in run_check(edited)]
    assert "PyPI requirement added: scipy" in details


@pytest.mark.parametrize(
    ("error", "exc", "message"),
    [
        pytest.param(
            "No solution found\nBecause nump was not found in the package registry",
            PypiError,
            r"PyPI layer of payload on linux-64: (.|\n)*nump was not found",
            id="unknown-project",
        ),
        pytest.param(
            "Because you require numpy==1.26.4 and numpy>=2, we can conclude ...",
            PypiUnsolvableError,
            r"cannot solve payload on linux-64:\n    PyPI layer \(uv\): Because you require",
            id="unsatisfiable",
        ),
    ],
)
def test_resolver_failures_name_the_environment(
    make_project: ProjectFactory, error: str, exc: type[Exception], message: str
) -> None:
    project = _pypi_only(make_project, ["numpy"])
    with pytest.raises(exc, match=message):
        run_lock(project, pypi=FakeResolver({}, error=error))
    assert project.read_locks() == {}


REPO = Path(__file__).resolve().parents[1]
SHARED_LAB = (
    REPO.parent.parent / "shared" / "specs" / "nublado" / "nublado-lab-2024-10.py312.pypi.txt"
)


def test_bundled_pypi_example_is_locked_and_fresh() -> None:
    project = open_project(REPO / "envs" / "rsp-pypi.yaml")
    assert run_check(project) == []
    lab = project.read_locks()["lab"]
    assert lab.python == "3.12" and len(lab.platforms[0].pypi) > 200
    assert lab.platforms[0].pypi_package("jupyterlab") is not None
    assert lab.platforms[0].packages == ()


def test_bundled_pypi_list_is_the_nublado_list() -> None:
    """The envs/ copy equals the shared real list, git+ URLs replaced by PyPI releases."""
    shared = Path("/work/shared/specs/nublado/nublado-lab-2024-10.py312.pypi.txt")
    source = next((p for p in (SHARED_LAB, shared) if p.is_file()), None)
    if source is None:
        pytest.skip("the shared nublado spec list is not on this machine")
    real = [line for line in source.read_text().splitlines() if not line.startswith("#")]
    # git+https://github.com/<owner>/<project>[@ref] -> <project>
    expected = [re.sub(r"^git\+https://github.com/[^/]+/([^@/]+).*", r"\1", line) for line in real]
    ours = (REPO / "envs" / "nublado-lab-2024-10.py312.pypi.txt").read_text().splitlines()
    assert [line for line in ours if not line.startswith("#")] == expected


def test_graph_marks_pypi_nodes_and_links_them_to_conda() -> None:
    from twinlock.graph.model import DependencyGraph

    base = _lock_with_pypi()
    numpy = LockedPackage(
        "numpy", "1.26.4", "py311_0", "linux-64", "u/numpy.conda", "c", "m", None, ("python",)
    )
    erfa = PypiPackage("pyerfa", "2.0.1", "https://f/pyerfa-2.0.1-py3-none-any.whl", "4" * 64)
    erfa = replace(erfa, depends=("numpy",))
    plat = base.platforms[0]
    plat = PlatformLock.create(
        plat.platform, plat.input_hash, (), (*plat.packages, numpy), (*plat.pypi, erfa)
    )
    lock = replace(
        base,
        platforms=(plat,),
        pypi_requirements=(*base.pypi_requirements, PypiRequirement("numpy")),
    )
    graph = DependencyGraph.from_lock(lock)
    assert graph.node("astropy").channel == "pypi"
    assert graph.node("numpy").channel != "pypi"
    assert ("astropy", "pyerfa", "pyerfa") in graph.edges()
    assert ("pyerfa", "numpy", "numpy") in graph.edges()  # met by conda's numpy
    # numpy: asked on PyPI, provided by conda; python: the conda requirement
    assert graph.roots == ["astropy", "numpy", "python"]
    assert graph.require("PyErfa") == "pyerfa"


@pytest.mark.slow
def test_a_project_locked_on_both_sides_is_reported(make_project: ProjectFactory) -> None:
    """Conda solve on the bundled snapshot; a fake uv answer re-pins conda's pyyaml on PyPI."""
    project = make_project(mix_composition(requirements=["python 3.11.*", "pyyaml"], pypi=["x"]))
    resolver = FakeResolver({"pyyaml": "9.9"})
    report = run_lock(project, pypi=resolver)
    assert resolver.requests[0].python_version.startswith("3.11.")
    assert "pyyaml" in resolver.requests[0].provided  # constrained to conda's version
    assert any("'pyyaml' is locked on both sides" in w for w in report.warnings)
    findings = run_check(project)
    assert [(f.kind, f.detail.split()[0]) for f in findings] == [("overlap", "'pyyaml'")]
