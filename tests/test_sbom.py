"""twinlock sbom: CycloneDX built with cyclonedx-python-lib, validated against its schema."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import ProjectFactory
from twinlock.audit.sbom import conda_purl, render_sbom
from twinlock.audit.sources import read_lock_set
from twinlock.cli.main import app
from twinlock.model.lock import EnvironmentLock, LockedPackage

DATA = Path(__file__).resolve().parent / "data" / "diff"
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
runner = CliRunner()


def _locks() -> list[EnvironmentLock]:
    return list(read_lock_set(DATA / "new").locks)


def _sbom(locks: list[EnvironmentLock]) -> dict[str, Any]:
    return json.loads(render_sbom("demo", locks, timestamp=WHEN))  # type: ignore[no-any-return]


def test_sbom_validates_against_the_cyclonedx_schema() -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = render_sbom("demo", _locks(), timestamp=WHEN)
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    assert errors is None, [str(e) for e in errors]  # type: ignore[union-attr]


def test_one_component_per_locked_package_with_hashes_and_properties() -> None:
    locks = _locks()
    data = _sbom(locks)
    expected = sum(len(p.packages) for lock in locks for p in lock.platforms)
    assert len(data["components"]) == expected
    zeromq = next(c for c in data["components"] if c["name"] == "zeromq")
    assert {h["alg"] for h in zeromq["hashes"]} == {"MD5", "SHA-256"}
    assert zeromq["licenses"] == [{"license": {"id": "MPL-2.0"}}]
    props = {p["name"]: p["value"] for p in zeromq["properties"]}
    assert props == {
        "twinlock:environment": "lab",
        "twinlock:prefix": "/opt/lab",
        "twinlock:platform": "linux-64",
        "twinlock:requested": "false",
    }
    libcxx = next(c for c in data["components"] if c["name"] == "libcxx")
    assert "licenses" not in libcxx  # the lock records no license for it
    assert data["metadata"]["component"]["name"] == "demo"


def test_dependency_graph_links_roots_and_depends() -> None:
    data = _sbom(_locks())
    graph = {d["ref"]: set(d.get("dependsOn", [])) for d in data["dependencies"]}
    lab_python = "lab/linux-64/python-3.12.7-hc5c86c4_0_cpython"
    assert lab_python in graph["composition:demo"]
    assert "lab/linux-64/openssl-3.3.2-hb9d3cd8_0" in graph[lab_python]


def test_serial_number_depends_only_on_content() -> None:
    locks = _locks()
    first = _sbom(locks)["serialNumber"]
    assert (
        first
        == json.loads(render_sbom("demo", locks, timestamp=dt.datetime.now(dt.UTC)))["serialNumber"]
    )
    assert first != _sbom(locks[:1])["serialNumber"]


def _pkg(url: str, channel: str) -> LockedPackage:
    stem = url.rsplit("/", 1)[1].removesuffix(".conda").removesuffix(".tar.bz2")
    name, version, build = stem.rsplit("-", 2)
    return LockedPackage(name, version, build, url.rsplit("/", 2)[1], url, channel, "0" * 32)


@pytest.mark.parametrize(
    ("pkg", "purl"),
    [
        pytest.param(
            _pkg(
                "https://conda.anaconda.org/conda-forge/linux-64/numpy-1.26.4-py311_0.conda",
                "https://conda.anaconda.org/conda-forge",
            ),
            "pkg:conda/numpy@1.26.4?build=py311_0&channel=conda-forge&subdir=linux-64&type=conda",
            id="conda-forge",
        ),
        pytest.param(
            _pkg(
                "https://conda.anaconda.org/conda-forge/noarch/six-1.16.0-pyh_0.tar.bz2",
                "https://conda.anaconda.org/conda-forge",
            ),
            "pkg:conda/six@1.16.0?build=pyh_0&channel=conda-forge&subdir=noarch&type=tar.bz2",
            id="tar-bz2",
        ),
        pytest.param(
            _pkg(
                "https://repo.example.org/forge/linux-64/git-2.46-h0_0.conda",
                "https://repo.example.org/forge",
            ),
            # packageurl (the purl reference library) leaves ':' and '/' unencoded here.
            "pkg:conda/git@2.46?build=h0_0&channel=https://repo.example.org/forge"
            "&subdir=linux-64&type=conda",
            id="url-channel",
        ),
    ],
)
def test_conda_purl(pkg: LockedPackage, purl: str) -> None:
    assert conda_purl(pkg).to_string() == purl


@pytest.fixture
def demo_project(make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose composition 'demo' has the lock files of tests/data/diff/new."""
    project = make_project(
        {
            "name": "demo",
            "channels": ["conda-forge"],
            "platforms": ["linux-64"],
            "environments": {
                "lab": {"prefix": "/opt/lab", "requirements": ["python 3.12.*"]},
                "payload": {"prefix": "/opt/payload", "requirements": ["python 3.11.*"]},
            },
        }
    )
    shutil.copytree(DATA / "new", project.paths.directory)
    monkeypatch.chdir(project.config.root)
    return project.config.root


def test_cli_writes_a_filtered_sbom(demo_project: Path) -> None:
    out = demo_project / "sbom.json"
    result = runner.invoke(
        app,
        [
            "sbom",
            "--env",
            "lab",
            "--platform",
            "osx-arm64",
            "--format",
            "cyclonedx-json",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "(2 components)" in result.output
    data = json.loads(out.read_text())
    assert sorted(c["name"] for c in data["components"]) == ["libcxx", "python"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--env", "lap"], "did you mean 'lab'", id="env"),
        pytest.param(["--platform", "linux64"], "did you mean 'linux-64'", id="platform"),
        pytest.param(["--format", "spdx"], "unknown SBOM format", id="format"),
    ],
)
def test_cli_bad_input_exits_2(demo_project: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["sbom", *args])
    assert result.exit_code == 2
    assert message in result.output


# --- PyPI layers ------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]
RSP_PYPI = REPO / "locks" / "rsp-pypi"


def _pypi_lab() -> EnvironmentLock:
    return read_lock_set(RSP_PYPI / "lab.conda-lock.yml").locks[0]


def test_pypi_layer_components_validate_against_the_schema() -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    lab = _pypi_lab()
    data = json.loads(render_sbom("rsp-pypi", [lab], timestamp=WHEN))
    pypi = [c for c in data["components"] if c["purl"].startswith("pkg:pypi/")]
    assert len(pypi) == len(lab.platforms[0].pypi) == 255
    # The schema's uniqueness checks are quadratic: validate the first 40 (deps among them).
    plat = lab.platforms[0]
    part = lab.with_platforms([replace(plat, pypi=plat.pypi[:40])])
    text = render_sbom("rsp-pypi", [part], timestamp=WHEN)
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    assert errors is None, [str(e) for e in errors]  # type: ignore[union-attr]
    assert any(d.get("dependsOn") for d in json.loads(text)["dependencies"])


@pytest.mark.parametrize(
    ("name", "purl", "requested", "depends"),
    [
        pytest.param(
            "aiodns",
            "pkg:pypi/aiodns@4.0.4?file_name=aiodns-4.0.4-py3-none-any.whl",
            "false",
            {"lab/linux-64/pypi/pycares-"},
            id="dependency",
        ),
        pytest.param("jupyterlab", "pkg:pypi/jupyterlab@", "true", set(), id="requested"),
    ],
)
def test_pypi_component_has_purl_sha256_and_properties(
    name: str, purl: str, requested: str, depends: set[str]
) -> None:
    lab = _pypi_lab()
    data = json.loads(render_sbom("rsp-pypi", [lab], timestamp=WHEN))
    component = next(c for c in data["components"] if c["name"] == name)
    locked = lab.platforms[0].pypi_package(name)
    assert locked is not None
    assert component["purl"].startswith(purl)
    assert component["hashes"] == [{"alg": "SHA-256", "content": locked.sha256}]
    assert component["externalReferences"][0]["url"] == locked.url
    props = {p["name"]: p["value"] for p in component["properties"]}
    assert props == {
        "twinlock:environment": "lab",
        "twinlock:prefix": "/opt/lab",
        "twinlock:platform": "linux-64",
        "twinlock:requested": requested,
        "twinlock:layer": "pypi",
    }
    graph = {d["ref"]: d.get("dependsOn", []) for d in data["dependencies"]}
    assert all(any(ref.startswith(d) for ref in graph[component["bom-ref"]]) for d in depends)
    assert (component["bom-ref"] in graph["composition:rsp-pypi"]) == (requested == "true")


def test_cli_sbom_of_a_pypi_only_environment_lists_its_packages(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "sbom.json"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "twinlock"),
            "sbom",
            "envs/rsp-pypi.yaml",
            "--env",
            "lab",
            "-o",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "(255 components)" in done.stdout
    assert len(json.loads(out.read_text())["components"]) == 255
