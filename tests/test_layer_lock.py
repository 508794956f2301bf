"""Layers on the bundled payload: base pins held, a conflicting addition named, relock cascade.

The test composition is envs/rsp.yaml (its real rubin-env payload file, snapshot,
system requirements, ``align``, kernel and tests) plus a layer ``extras``
(``extends: payload``). The project starts from the committed locks/rsp, so the
base's pins are the ones the repository ships.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, ProjectFactory
from twinlock.app import rebuild as maintenance
from twinlock.app.check import run_check
from twinlock.app.explain import run_explain
from twinlock.app.lock import run_lock
from twinlock.app.project import Project, open_project
from twinlock.cli.render import summary_line
from twinlock.errors import TwinlockError
from twinlock.explain.model import ConflictsError
from twinlock.images.rebuild import RebuildOptions
from twinlock.lock.format import parse_conda_lock
from twinlock.model.lock import PlatformLock

pytestmark = pytest.mark.slow
TWINLOCK = REPO / ".venv" / "bin" / "twinlock"
PAYLOAD_FILE = "rsp-payload.environment.yml"


def _composition(layer: dict[str, Any]) -> dict[str, Any]:
    rsp = yaml.safe_load((REPO / "envs" / "rsp.yaml").read_text())
    return {**rsp, "environments": {**rsp["environments"], "extras": layer}}


def _project(tmp_path: Path, layer: dict[str, Any]) -> Project:
    root = tmp_path / "project"
    (root / "envs").mkdir(parents=True)
    shutil.copy(REPO / "envs" / PAYLOAD_FILE, root / "envs" / PAYLOAD_FILE)
    (root / "twinlock.toml").write_text(
        '[project]\nlocks-dir = "locks"\n[mirrors]\nconda-forge = "bundled:conda-forge-snapshot"\n'
    )
    shutil.copytree(REPO / "locks" / "rsp", root / "locks" / "rsp")
    path = root / "envs" / "rsp.yaml"
    path.write_text(yaml.safe_dump(_composition(layer), sort_keys=False))
    return open_project(path, cwd=root)


def _linux(project: Project, env: str) -> PlatformLock:
    text = project.paths.conda_lock(env).read_text()
    plat = parse_conda_lock(text, source=env).platform("linux-64")
    assert plat is not None
    return plat


LAYER = {
    "extends": "payload",
    "prefix": "/opt/extras",
    "requirements": [{"spec": "rich", "requested-by": "survey team", "reason": "progress bars"}],
}


def test_a_fitting_addition_keeps_every_base_pin_byte_identical(tmp_path: Path) -> None:
    project = _project(tmp_path, LAYER)
    report = run_lock(project)
    actions = {(s.environment, s.action) for s in report.result.summaries}
    assert actions == {("lab", "reused"), ("payload", "reused"), ("extras", "solved")}
    # the base's files are the committed ones, byte for byte
    for name in ("payload.conda-lock.yml", "payload-linux-64.explicit.txt"):
        assert (project.paths.directory / name).read_bytes() == (
            REPO / "locks" / "rsp" / name
        ).read_bytes()
    base, layer = _linux(project, "payload"), _linux(project, "extras")
    assert set(base.packages) < set(layer.packages)  # every pin, every field, identical
    added = {p.name for p in layer.packages} - {p.name for p in base.packages}
    assert "rich" in added
    (summary,) = [s for s in report.result.summaries if s.environment == "extras"]
    assert summary_line(summary).startswith(
        f"extras linux-64: {len(layer.packages)} packages ({len(base.packages)} held from "
        "payload), solved in "
    )
    # ... and the @EXPLICIT lines of the base reappear in the layer's file
    base_text = (project.paths.directory / "payload-linux-64.explicit.txt").read_text()
    base_urls = {line for line in base_text.splitlines() if line.startswith("https://")}
    layer_text = (project.paths.directory / "extras-linux-64.explicit.txt").read_text()
    assert base_urls <= set(layer_text.splitlines())
    assert run_check(project) == []
    # a no-op relock, even naming the layer alone, is decided from the lock files' metadata
    # and @EXPLICIT lines (no lock parsed, nothing solved): the base comes first
    for names in ([], ["extras"]):
        again = run_lock(project, environments=names)
        assert again.result.locks == () and again.written == ()
        summaries = [s for s in again.result.summaries if s.environment != "lab"]
        assert [(s.environment, s.action, s.base, s.held) for s in summaries] == [
            ("payload", "reused", None, 0),
            ("extras", "reused", "payload", len(base.packages)),
        ]


def test_additions_that_move_base_pins_exit_1_naming_each_with_its_pins(tmp_path: Path) -> None:
    layer = {
        **LAYER,
        "requirements": [
            "rich",
            {"spec": "requests 2.32.*", "requested-by": "survey team"},
            {"spec": "numpy >=2", "requested-by": "cosmology group"},
        ],
    }
    project = _project(tmp_path, layer)
    done = subprocess.run(
        [str(TWINLOCK), "lock"],
        cwd=project.config.root,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 1, done.stderr
    base = _linux(project, "payload")
    requests, numpy = base.package("requests"), base.package("numpy")
    assert requests is not None and numpy is not None
    report = done.stderr
    # a pin the base's requirement admits moving: only that pin is named
    assert (
        "extras on linux-64: 'requests 2.32.*' (requested by survey team) needs pins of its "
        f"base payload to move:\n  requests {requests.version} {requests.build} -> 2.32."
    ) in report
    assert "required by payload as 'requests >=2.31.0'\n  hint:" in report
    # a pin the base's own requirement forbids to move is named first, as forbidden
    assert (
        "extras on linux-64: 'numpy >=2' (requested by cosmology group) needs pins of its "
        "base payload to move:"
    ) in report
    assert f"numpy {numpy.version} {numpy.build} -> 2." in report
    assert "which payload's requirement 'numpy 1.26.4.*' forbids" in report
    assert "'rich'" not in report  # the fitting addition is not blamed
    assert "error: cannot add 'requests 2.32.*' to extras on linux-64" in report
    assert not project.paths.conda_lock("extras").exists()


def test_lock_and_explain_name_the_requested_by_of_the_base_pin(tmp_path: Path) -> None:
    project = _project(tmp_path, {**LAYER, "requirements": ["requests"]})
    data = yaml.safe_load(project.composition_path.read_text())
    data["environments"]["payload"] = {
        "prefix": "/opt/payload",
        "platforms": ["linux-64"],
        "requirements": [
            "python 3.11.*",
            {"spec": "requests >=2.31.0", "requested-by": "data access team"},
        ],
    }
    project.composition_path.write_text(yaml.safe_dump(data, sort_keys=False))
    project = open_project(project.composition_path, cwd=project.config.root)
    run_lock(project)
    data["environments"]["extras"]["requirements"] = ["requests 2.32.*"]
    project.composition_path.write_text(yaml.safe_dump(data, sort_keys=False))
    project = open_project(project.composition_path, cwd=project.config.root)
    with pytest.raises(ConflictsError) as caught:
        run_lock(project)
    (clash,) = caught.value.analysis.layers
    assert (clash.layer, clash.base, clash.addition) == ("extras", "payload", "requests 2.32.*")
    (pin,) = clash.pins
    assert (pin.package, pin.requirement, pin.requested_by) == (
        "requests",
        "requests >=2.31.0",
        "data access team",
    )
    assert pin.moves_to is not None and pin.moves_to.startswith("2.32.")
    # explain holds the locked base pins too (unpinned, the layer alone would solve)
    analysis = run_explain(project, environments=["payload", "extras"])
    assert analysis.layers == (clash,) and not analysis.ok
    assert [(r.environment, r.solvable) for r in analysis.reports] == [("payload", True)]


def test_relocking_the_base_relocks_the_layer_and_check_sees_a_moved_base(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path, LAYER)
    run_lock(project)
    base_files = {
        name: (project.paths.directory / name).read_bytes()
        for name in ("payload.conda-lock.yml", "payload-linux-64.explicit.txt")
    }
    env_file = project.config.root / "envs" / PAYLOAD_FILE
    original = env_file.read_text()
    env_file.write_text(original + '  - "tabulate"\n')
    project = open_project(project.composition_path, cwd=project.config.root)

    # a requirement change of the base, locked with --env payload alone, relocks the layer
    report = run_lock(project, environments=["payload"])
    solved = {s.environment for s in report.result.summaries if s.action == "solved"}
    assert solved == {"payload", "extras"}
    base, layer = _linux(project, "payload"), _linux(project, "extras")
    assert base.package("tabulate") is not None
    assert set(base.packages) < set(layer.packages)
    assert run_check(project) == []

    # the base's old lock back (as if relocked without its layer): the layer is stale
    env_file.write_text(original)
    project = open_project(project.composition_path, cwd=project.config.root)
    for name, data in base_files.items():
        (project.paths.directory / name).write_bytes(data)
    findings = run_check(project)
    assert [(f.environment, f.kind, f.detail) for f in findings] == [
        (
            "extras",
            "stale",
            "requirement removed: tabulate",
        ),
        (
            "extras",
            "stale",
            "the pins of its base 'payload' changed (relock it with its base)",
        ),
    ]
    done = subprocess.run(
        [str(TWINLOCK), "check"],
        cwd=project.config.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "pins of its base 'payload' changed" in done.stdout
    # and the next lock relocks just the layer, on the base's pins as they are now
    report = run_lock(project)
    actions = {(s.environment, s.action) for s in report.result.summaries}
    assert actions == {("lab", "reused"), ("payload", "reused"), ("extras", "solved")}
    assert run_check(project) == []


def _mini_layered() -> dict[str, Any]:
    return {
        "name": "mini",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "snapshot": "2024-06-01",
        "environments": {
            "payload": {"prefix": "/opt/payload", "requirements": ["python 3.11.*", "numpy"]},
            "extras": {"extends": "payload", "prefix": "same", "requirements": ["astropy"]},
        },
    }


def test_a_rebuild_refreshes_a_layer_on_its_kept_base_and_refuses_to_move_the_base(
    make_project: ProjectFactory,
) -> None:
    project = make_project(_mini_layered())
    run_lock(project)
    base_before = _linux(project, "payload")
    report = maintenance.run_rebuild(
        project,
        sources=[str(project.paths.directory)],
        options=RebuildOptions(refresh=("extras",)),
    )
    actions = {e.environment: e.action for e in report.result.environments}
    assert actions == {"payload": "kept", "extras": "refreshed"}
    layer = _linux(project, "extras")
    assert set(base_before.packages) < set(layer.packages)  # the 2024 base pins, held
    assert [f for f in run_check(project) if f.kind == "stale"] == []
    for options in (
        RebuildOptions(refresh=("payload",)),
        RebuildOptions(update={"payload": ("numpy",)}),
    ):
        with pytest.raises(TwinlockError, match="'payload' is the base of extras"):
            maintenance.run_rebuild(
                project, sources=[str(project.paths.directory)], options=options, dry_run=True
            )
