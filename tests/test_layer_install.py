"""``prefix: same`` layers installed from a home-built channel: base pins held, the layer
installed on top of the base, drift reported per layer, a pin-moving addition refused."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import condapkg as cp
from tests.conftest import REPO
from tests.installfixtures import (
    CHANNEL,
    COMPOSITION,
    InstallProject,
    make_install_project,
    packages,
)
from twinlock.app import install as deploy
from twinlock.app.explain import run_explain
from twinlock.app.lock import run_lock
from twinlock.app.project import Project, open_project
from twinlock.app.verify import run_verify
from twinlock.errors import InstallError
from twinlock.explain.model import ConflictsError
from twinlock.install import kernels, launcher
from twinlock.install.usersite import user_site

pytestmark = pytest.mark.slow

BASE = {
    "name": "stack",
    "channels": [CHANNEL],
    "platforms": ["linux-64"],
    "environments": {
        "payload": {
            "prefix": "/opt/payload",
            "requirements": [
                "python 3.11.*",
                {"spec": "zlib", "requested-by": "pipelines"},
            ],
        },
    },
}


def _with_layer(**layer: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["environments"]["extras"] = {"extends": "payload", "prefix": "same", **layer}
    return data


def _packages() -> list[cp.PkgSpec]:
    return [
        cp.python_like("3.11.0"),
        cp.simple("zlib", "1.2.13", fmt=".tar.bz2"),
        cp.simple("zlib", "1.3.1", fmt=".tar.bz2"),
        cp.simple("skytool", "2.0", depends=["zlib >=1.2"], files_count=3),
        cp.simple("oldtool", "1.0", depends=["zlib <1.3"]),
    ]


def _project(ip: InstallProject, data: dict[str, Any]) -> Project:
    ip.composition.write_text(yaml.safe_dump(data, sort_keys=False))
    return open_project(ip.composition, cwd=ip.root)


def _keys(root: Path, prefix: str) -> set[str]:
    return {p.stem for p in (root / prefix / "conda-meta").glob("*.json")}


@pytest.fixture
def stacked(tmp_path: Path) -> tuple[InstallProject, Project, Path]:
    """The base installed alone, then the composition grown by a same-prefix layer."""
    ip = make_install_project(tmp_path, specs=_packages(), composition=BASE)
    root = tmp_path / "root"
    base_only = _project(ip, BASE)
    run_lock(base_only)
    first = deploy.run_install(base_only, root=root, platform="linux-64")
    assert [(r.environment, r.action) for r in first.results] == [("payload", "install")]
    project = _project(ip, _with_layer(requirements=["skytool"]))
    run_lock(project)
    return ip, project, root


def test_the_layer_is_installed_on_top_of_the_installed_base(
    stacked: tuple[InstallProject, Project, Path],
) -> None:
    _, project, root = stacked
    base_keys = _keys(root, "opt/payload")
    zlib_file = root / "opt/payload/share/zlib/file0.txt"
    before = zlib_file.read_bytes()
    report = deploy.run_install(project, root=root, platform="linux-64")
    assert [(r.environment, r.action, r.packages) for r in report.results] == [
        ("payload+extras", "extend", len(base_keys) + 1)
    ]
    after = _keys(root, "opt/payload")
    assert after - base_keys == {"skytool-2.0-0"}
    assert base_keys < after  # nothing of the base removed or changed
    assert zlib_file.read_bytes() == before and "1.3.1" in before.decode()
    assert not (root / "opt/extras").exists()
    assert run_verify(project, root=root, platform="linux-64", deep=True) == []
    # a rerun is a no-op, whichever environment of the prefix is named
    for env in ([], ["payload"], ["extras"]):
        again = deploy.run_install(project, root=root, platform="linux-64", environments=env)
        assert [r.action for r in again.results] == ["skip"]


def test_selecting_the_layer_installs_its_whole_prefix(
    stacked: tuple[InstallProject, Project, Path], tmp_path: Path
) -> None:
    _, project, _ = stacked
    fresh = tmp_path / "fresh"
    report = deploy.run_install(project, root=fresh, platform="linux-64", environments=["extras"])
    assert [(r.environment, r.action) for r in report.results] == [("payload+extras", "install")]
    assert {"skytool-2.0-0", "zlib-1.3.1-0"} <= _keys(fresh, "opt/payload")


def test_verify_reports_drift_per_layer(
    stacked: tuple[InstallProject, Project, Path],
) -> None:
    _, project, root = stacked
    deploy.run_install(project, root=root, platform="linux-64")
    (root / "opt/payload/share/skytool/file1.txt").unlink()
    with (root / "opt/payload/share/zlib/file0.txt").open("a") as handle:
        handle.write("edited in place\n")
    deep = run_verify(project, root=root, platform="linux-64", deep=True)
    assert [(d.environment, d.kind, d.detail) for d in deep] == [
        ("payload", "modified", "share/zlib/file0.txt (from zlib)"),
        ("extras", "deleted", "share/skytool/file1.txt (from skytool)"),
    ]
    next((root / "opt/payload/conda-meta").glob("skytool-*.json")).unlink()
    drift = run_verify(project, root=root, platform="linux-64")
    assert [(d.environment, d.kind, d.detail) for d in drift] == [
        ("extras", "missing", "skytool 2.0 0")
    ]


def test_a_prefix_holding_something_else_is_still_refused(
    stacked: tuple[InstallProject, Project, Path],
) -> None:
    _, project, root = stacked
    next((root / "opt/payload/conda-meta").glob("zlib-*.json")).unlink()
    with pytest.raises(InstallError, match="already holds another conda environment"):
        deploy.run_install(project, root=root, platform="linux-64")


def test_an_addition_that_needs_an_older_base_pin_exits_1(
    stacked: tuple[InstallProject, Project, Path],
) -> None:
    ip, project, _ = stacked
    data = _with_layer(requirements=[{"spec": "oldtool", "requested-by": "survey team"}])
    ip.composition.write_text(yaml.safe_dump(data, sort_keys=False))
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "twinlock"), "lock", str(ip.composition)],
        cwd=ip.root,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "extras on linux-64: 'oldtool' (requested by survey team)" in done.stderr
    assert "zlib 1.3.1 0 -> 1.2.13 0, required by payload as 'zlib'" in done.stderr
    assert "(requested by pipelines)" in done.stderr
    # the previous layer lock is untouched
    lock = project.read_locks()["extras"]
    assert lock.platforms[0].package("skytool") is not None


def test_a_kernel_base_with_a_same_prefix_layer_stays_sound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = copy.deepcopy(COMPOSITION)
    data["environments"]["extras"] = {
        "extends": "payload",
        "prefix": "same",
        "requirements": ["filler0"],
    }
    ip = make_install_project(tmp_path, specs=packages(extra=1), composition=data)
    project = open_project(ip.composition, cwd=ip.root)
    run_lock(project)
    root = tmp_path / "root"
    report = deploy.run_install(project, root=root, platform="linux-64")
    assert [(r.environment, r.action) for r in report.results] == [
        ("lab", "install"),
        ("payload+extras", "install"),
    ]
    payload = root / "opt/payload"
    assert "filler0-1.0-0" in _keys(root, "opt/payload")
    # the kernel's stamp covers what the shared prefix holds: the launcher finds no drift
    plat = project.read_locks()["payload"].platform("linux-64")
    assert plat is not None
    stamp = json.loads((payload / ".twinlock/stamp.json").read_text())
    assert launcher.describe_drift(stamp, kernels.lock_digest(plat), str(payload)) is None
    assert run_verify(project, root=root, platform="linux-64", deep=True) == []
    # a user install shadowing a locked package is reported for the prefix's base only:
    # a same-prefix layer runs the base's Python, with the base's user site
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    site = user_site(project.composition.environment("payload"), "3.11")
    assert site is not None
    plain = Path(".local/lib/python3.11/site-packages")  # where the layer alone would look
    for where in (site, plain):
        (tmp_path / "home" / where / "ipykernel-9.0.dist-info").mkdir(parents=True)
    drift = run_verify(project, root=root, platform="linux-64")
    assert [(d.environment, d.kind) for d in drift] == [("payload", "shadowed")]


def test_an_addition_absent_from_the_channel_still_gets_the_ordinary_report(
    stacked: tuple[InstallProject, Project, Path],
) -> None:
    ip, _, _ = stacked
    project = _project(ip, _with_layer(requirements=["oldtool", "skytool", "nosuchtool"]))
    with pytest.raises(ConflictsError) as caught:
        run_lock(project)
    analysis = caught.value.analysis
    assert [(c.addition, [p.package for p in c.pins]) for c in analysis.layers] == [
        ("oldtool", ["zlib"])
    ]
    (report,) = analysis.reports
    assert (report.environment, [a.name for a in report.absent]) == ("extras", ["nosuchtool"])
    # explain says the same, from the locked base
    explained = run_explain(project)
    assert explained.layers == analysis.layers
    assert [a.name for r in explained.reports for a in r.absent] == ["nosuchtool"]
