"""Cross-environment overlap: shared packages classified, boundary pairs checked."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from twinlock.audit.overlap import BOUNDARY_PAIRS, BoundaryPair, overlap
from twinlock.audit.overlaprender import overlap_json, overlap_text
from twinlock.errors import TwinlockError
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock

BASE = "https://conda.anaconda.org/conda-forge"


def _pkg(name: str, version: str, build: str, *depends: str) -> LockedPackage:
    return LockedPackage(
        name=name,
        version=version,
        build=build,
        subdir="noarch",
        url=f"{BASE}/noarch/{name}-{version}-{build}.conda",
        channel=BASE,
        md5="0" * 32,
        depends=depends,
    )


def _lock(env: str, *packages: LockedPackage, platform: str = "linux-64") -> EnvironmentLock:
    return EnvironmentLock(
        composition="twins",
        environment=env,
        prefix=f"/opt/{env}",
        channels=(BASE,),
        requirements=(),
        platforms=(PlatformLock.create(platform, "h", (), packages),),
    )


LAB = _lock(
    "lab",
    _pkg("openssl", "3.6.3", "h1_0"),
    _pkg("tzdata", "2026c", "h0_0"),
    _pkg("python", "3.12.13", "h_cpython"),
    _pkg("jupyterlab_widgets", "3.0.15", "pyhd_0"),
    _pkg("jupyter_client", "8.9.1", "pyhd_0"),
    _pkg("jupyter_bokeh", "4.0.5", "pyhd_0", "bokeh 3.*", "ipywidgets 8.*"),
    _pkg("only-lab", "1.0", "0"),
)
PAYLOAD = _lock(
    "payload",
    _pkg("openssl", "3.6.3", "h1_0"),
    _pkg("tzdata", "2026c", "h0_1"),
    _pkg("python", "3.11.9", "h_cpython"),
    _pkg("ipywidgets", "8.1.7", "pyhd_0", "jupyterlab_widgets >=3.0.15,<3.1"),
    _pkg("bokeh", "2.4.3", "pyhd_0"),
    _pkg("ipykernel", "6.29.5", "pyh_0", "jupyter_client >=9"),
)
TOOLS = _lock("tools", _pkg("openssl", "3.5.0", "h2_0"), _pkg("only-tools", "1.0", "0"))


def test_shared_packages_are_classified() -> None:
    [result] = overlap([LAB, PAYLOAD, TOOLS])
    kinds = {s.name: s.kind for s in result.shared}
    assert kinds == {
        "openssl": "version differs",  # tools has 3.5.0
        "tzdata": "build differs",
        "python": "version differs",
    }
    openssl = next(s for s in result.shared if s.name == "openssl")
    assert [p.environment for p in openssl.pins] == ["lab", "payload", "tools"]
    [identical] = overlap([LAB, PAYLOAD], pairs=())
    assert [s.name for s in identical.of_kind("identical")] == ["openssl"]


def test_boundary_pairs_are_checked_with_the_declared_constraint() -> None:
    [result] = overlap([LAB, PAYLOAD])
    checks = {(c.pair.package, c.environment): c for c in result.pairs}
    widgets = checks["ipywidgets", "payload"]
    assert (widgets.status, widgets.other_environment, widgets.other_version) == (
        "compatible",
        "lab",
        "3.0.15",
    )
    assert checks["jupyter_bokeh", "lab"].status == "incompatible"  # bokeh 2.4.3 vs 3.*
    assert checks["ipykernel", "payload"].status == "incompatible"  # jupyter_client 8.9.1 vs >=9


@pytest.mark.parametrize(
    ("pairs", "status"),
    [
        pytest.param((BoundaryPair("python", "tzdata", "x"),), "unconstrained", id="no-spec"),
        pytest.param((BoundaryPair("only-lab", "only-tools", "x"),), "one-sided", id="absent"),
    ],
)
def test_pair_without_constraint_or_counterpart(
    pairs: tuple[BoundaryPair, ...], status: str
) -> None:
    [result] = overlap([LAB, PAYLOAD], pairs=pairs)
    assert {c.status for c in result.pairs} == {status}


def test_the_pair_table_is_data() -> None:
    names = {(p.package, p.counterpart) for p in BOUNDARY_PAIRS}
    assert names == {
        ("ipywidgets", "jupyterlab_widgets"),
        ("jupyter_bokeh", "bokeh"),
        ("ipykernel", "jupyter_client"),
    }


def test_platforms_locked_once_are_skipped_and_unknown_ones_refused() -> None:
    mac = _lock("mac", _pkg("openssl", "3.6.3", "h1_0"), platform="osx-arm64")
    assert [r.platform for r in overlap([LAB, PAYLOAD, mac])] == ["linux-64"]
    with pytest.raises(TwinlockError, match=r"no environment is locked for platform 'linux-46'"):
        overlap([LAB, PAYLOAD], ["linux-46"])


def test_renderings() -> None:
    results = overlap([LAB, PAYLOAD])
    text = overlap_text("twins", results)
    assert "twins on linux-64: 3 packages in more than one environment (lab, payload)" in text
    assert "INCOMPATIBLE: ipykernel 6.29.5 (payload) needs 'jupyter_client >=9'" in text
    assert "OK: ipywidgets 8.1.7 (payload)" in text
    data = json.loads(overlap_json("twins", results))
    [platform] = data["platforms"]
    classes = {p["name"]: p["class"] for p in platform["packages"]}
    assert classes["tzdata"] == "build differs"
    assert platform["packages"][0]["pins"]["lab"]["version"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["overlap"],
            [
                "version differs:",
                "build differs:",
                "identical:",
                "aligned ('align' list): ca-certificates identical, openssl identical",
            ],
            id="overlap",
        ),
        pytest.param(["overlap", "--json"], ['"class": "identical"'], id="overlap-json"),
        pytest.param(["why", "payload", "libzlib"], ["needs libzlib", "<- requested:"], id="why"),
    ],
)
def test_bundled_example(
    monkeypatch: pytest.MonkeyPatch, args: list[str], expected: list[str]
) -> None:
    from typer.testing import CliRunner

    from tests.conftest import REPO
    from twinlock.cli.main import app

    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output


def test_aligned_packages_are_listed_with_their_class() -> None:
    lab, payload = (replace(lock, align=("tzdata", "openssl", "absent")) for lock in (LAB, PAYLOAD))
    [result] = overlap([lab, payload])
    kinds = dict(result.alignment())
    assert kinds == {"tzdata": "build differs", "openssl": "identical", "absent": None}
    text = overlap_text("twins", [result])
    assert (
        "aligned ('align' list): tzdata BUILD DIFFERS (relock: `twinlock lock`), "
        "openssl identical, absent (in one environment or none)"
    ) in text
    [platform] = json.loads(overlap_json("twins", [result]))["platforms"]
    assert platform["aligned"] == kinds
    assert "aligned" not in overlap_text("twins", overlap([LAB, PAYLOAD]))
