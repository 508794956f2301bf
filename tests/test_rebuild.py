"""Maintenance rebuilds: kept pins stay identical, updates move minimally, imports report gaps."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, ProjectFactory
from twinlock.app import rebuild as maintenance
from twinlock.app.check import run_check
from twinlock.app.lock import run_lock
from twinlock.app.progress import Step
from twinlock.errors import LockFileError, TwinlockError
from twinlock.images.rebuild import RebuildOptions, rebuild_composition
from twinlock.lock.imports import parse_explicit
from twinlock.model.composition import Requirement
from twinlock.solve.adapter import RattlerSolver
from twinlock.solve.channels import local_channel_dir

NEW = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
REAL_EXPLICIT = sorted((DATA / "rebuild").glob("*.explicit.txt"))


def _mini(payload: list[str]) -> dict[str, Any]:
    return {
        "name": "mini",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "snapshot": "2024-06-01",
        "environments": {
            "lab": {"prefix": "/opt/lab", "requirements": ["python 3.12.*", "jupyterlab >=4"]},
            "payload": {"prefix": "/opt/payload", "requirements": payload},
        },
    }


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.mark.slow
def test_kept_payload_is_byte_identical_while_lab_moves_to_a_newer_snapshot(
    make_project: ProjectFactory,
) -> None:
    project = make_project(_mini(["python 3.11.*", "astropy >=6", "numpy <2"]))
    run_lock(project)
    before = _files(project.paths.directory)
    old_lab = project.read_locks()["lab"]

    steps: list[Step] = []
    report = maintenance.run_rebuild(
        project,
        sources=[str(project.paths.directory)],
        options=RebuildOptions(refresh=("lab",), snapshot=NEW),
        progress=steps.append,
    )
    # Progress names what was solved: the refreshed lab only, never the kept payload.
    assert {(s.task, s.state) for s in steps} == {
        ("lab linux-64", "solving"),
        ("lab linux-64", "solved"),
    }

    after = _files(project.paths.directory)
    payload_files = [n for n in before if n.startswith("payload")]
    assert payload_files and all(after[n] == before[n] for n in payload_files)
    new_lab = project.read_locks()["lab"]
    assert new_lab.snapshot == "2026-10-01T00:00:00Z" != old_lab.snapshot
    assert new_lab.platforms[0].packages != old_lab.platforms[0].packages
    actions = {e.environment: e.action for e in report.result.environments}
    assert actions == {"lab": "refreshed", "payload": "kept"}
    lab_changes = dict(report.result.environments[0].changes)["linux-64"]
    assert lab_changes, "the refreshed lab should differ from the historical one"


@pytest.mark.slow
def test_refreshed_and_updated_locks_are_fresh_for_check(make_project: ProjectFactory) -> None:
    # The input hash covers align (and python, PyPI specs), as `twinlock check` computes it.
    project = make_project(
        _mini(["python 3.11.*", "astropy >=6", "numpy <2"]) | {"align": ["tzdata"]}
    )
    run_lock(project)
    maintenance.run_rebuild(
        project,
        sources=[str(project.paths.directory)],
        options=RebuildOptions(refresh=("lab",), update={"payload": ("astropy",)}),
    )
    assert [f for f in run_check(project) if f.kind == "stale"] == []


@pytest.mark.slow
def test_from_a_git_revision_reads_the_locks_as_committed(make_project: ProjectFactory) -> None:
    project = make_project(_mini(["python 3.11.*", "numpy <2"]))
    run_lock(project)
    root = project.config.root
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "r1"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True
        )
    committed = _files(project.paths.directory)
    shutil.rmtree(project.paths.directory)

    report = maintenance.run_rebuild(
        project, sources=["HEAD"], options=RebuildOptions(), dry_run=False
    )

    assert {e.action for e in report.result.environments} == {"kept"}
    assert _files(project.paths.directory) == committed


@pytest.mark.slow
def test_update_moves_astropy_and_only_what_it_forces(make_project: ProjectFactory) -> None:
    # The historical payload: astropy held at 6.0 (as if newer ones did not exist yet),
    # recorded as having asked only for astropy >=6.
    project = make_project(_mini(["python 3.11.*", "astropy 6.0.*", "numpy <2"]))
    run_lock(project, environments=["payload", "lab"])
    locks = project.read_locks()
    wide = (Requirement("python 3.11.*"), Requirement("astropy >=6"), Requirement("numpy <2"))
    base = {**locks, "payload": replace(locks["payload"], requirements=wide)}

    result = rebuild_composition(
        project.composition,
        base,
        project.solver(),
        sources=project.sources,
        options=RebuildOptions.parse([], ["payload:astropy"], NEW),
    )

    old = base["payload"].platforms[0].by_name()
    new = result.locks[1].platforms[0].by_name()
    assert new["astropy"].version != old["astropy"].version
    changed = {n for n in old.keys() | new.keys() if old.get(n) != new.get(n)}
    # Everything else that moved must be reachable from the new astropy's dependencies.
    forced = _dependency_closure(new, "astropy")
    assert changed <= forced, f"moved without being forced: {sorted(changed - forced)}"
    assert new["python"] == old["python"] and new["numpy"] == old["numpy"]
    assert result.locks[0] == base["lab"]


def _dependency_closure(packages: dict[str, Any], root: str) -> set[str]:
    seen, todo = set(), [root]
    while todo:
        name = todo.pop()
        if name in seen or name not in packages:
            continue
        seen.add(name)
        todo += [d.split(" ", 1)[0] for d in packages[name].depends]
    return seen


def _snapshot_files(channel: Path) -> set[str]:
    names: set[str] = set()
    for subdir in ("linux-64", "noarch"):
        data = json.loads((channel / subdir / "repodata.json").read_text())
        names |= {f"{subdir}/{f}" for key in ("packages", "packages.conda") for f in data[key]}
    return names


@pytest.mark.slow
@pytest.mark.parametrize("path", REAL_EXPLICIT, ids=[p.name.split(".")[0] for p in REAL_EXPLICIT])
def test_import_of_real_explicit_files_reports_every_pin_the_snapshot_lacks(
    make_project: ProjectFactory, snapshot_channel: Path, path: Path
) -> None:
    project = make_project(_mini(["python"]))
    pins = parse_explicit(path.read_text(), source=path.name)
    history = maintenance.load_history(project, [f"payload={path}"])
    lock, missing = maintenance.import_environment(
        project,
        "payload",
        history.imports["payload"],
        RattlerSolver(project.config.mirrors, local_channel_dir),
    )

    held = _snapshot_files(snapshot_channel)
    cf = "https://conda.anaconda.org/conda-forge"
    expected = {
        p.file_name
        for p in pins.pins
        if p.channel_url != cf or f"{p.subdir}/{p.file_name}" not in held
    }
    assert {m.pin.file_name for m in missing} == expected
    imported = lock.platforms[0].packages
    assert len(imported) + len(missing) == len(pins.pins)
    # The 2020 file carries no hashes at all: md5 (and depends) come from the channel.
    assert all(p.md5 and p.depends is not None for p in imported)
    with pytest.raises(maintenance.MissingPinsError, match=f"{len(expected)} pin"):
        maintenance.run_rebuild(
            project, sources=[f"payload={path}"], options=RebuildOptions(refresh=("lab",))
        )


@pytest.mark.parametrize(
    ("sources", "options", "message"),
    [
        pytest.param(
            ["nowhere"], RebuildOptions(), "not ENV=FILE, a lock directory", id="bad-from"
        ),
        pytest.param([], RebuildOptions(), "rebuild needs --from", id="no-from"),
        pytest.param(
            ["LOCKS"],
            RebuildOptions(update={"payload": ("numpyy",)}),
            "did you mean 'numpy'",
            id="update-unknown-package",
        ),
        pytest.param(
            ["LOCKS"],
            RebuildOptions(refresh=("lab",), update={"lab": ("python",)}),
            "a refreshed environment is solved anew",
            id="update-and-refresh",
        ),
        pytest.param(
            ["LOCKS"], RebuildOptions(refresh=("labb",)), "did you mean 'lab'", id="unknown-env"
        ),
    ],
)
def test_rebuild_input_errors(
    make_project: ProjectFactory, sources: list[str], options: RebuildOptions, message: str
) -> None:
    project = make_project(_mini(["python 3.11.*", "numpy <2"]))
    run_lock(project)
    sources = [str(project.paths.directory) if s == "LOCKS" else s for s in sources]
    with pytest.raises(TwinlockError, match=message):
        maintenance.run_rebuild(project, sources=sources, options=options, dry_run=True)


def test_missing_environment_in_from_must_be_refreshed(make_project: ProjectFactory) -> None:
    project = make_project(_mini(["python 3.11.*"]))
    explicit = DATA / "rebuild" / "repo2docker-environment.py-3.11-linux-64.explicit.txt"
    with pytest.raises(TwinlockError, match="--from has no lock for environment 'lab'"):
        maintenance.run_rebuild(
            project, sources=[f"payload={explicit}"], options=RebuildOptions(), dry_run=True
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("https://x/y/z.conda\n", "not an @EXPLICIT file", id="no-marker"),
        pytest.param("# platform: linux-64\n@EXPLICIT\nnot-a-url\n", "not a package URL", id="bad"),
    ],
)
def test_parse_explicit_errors(text: str, message: str) -> None:
    with pytest.raises(LockFileError, match=message):
        parse_explicit(text, source="x.txt")


def test_parse_explicit_reads_md5_and_sha256() -> None:
    md5, sha = "a" * 32, "b" * 64
    text = (
        "# platform: linux-64\n@EXPLICIT\n"
        f"https://conda.anaconda.org/conda-forge/noarch/a-1-0.conda#{md5}\n"
        f"https://conda.anaconda.org/conda-forge/linux-64/b-1-0.conda#sha256:{sha}\n"
    )
    first, second = parse_explicit(text, source="x").pins
    assert (first.md5, first.sha256, first.subdir) == (md5, None, "noarch")
    assert (second.md5, second.sha256, second.file_name) == (None, sha, "b-1-0.conda")


@pytest.mark.slow
def test_rebuild_keeps_the_historical_images_smoke_tests(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    """A refreshed environment's lock records the historical tests beside the composition's,
    so the rebuilt image must pass both; check stays fresh."""
    old = _mini(["python 3.11.*", "numpy <2"])
    old["environments"]["lab"]["tests"] = {"imports": ["jupyterlab"], "commands": [["true"]]}
    history = run_lock(make_project(old)).written[0].parent
    kept = tmp_path / "history"
    shutil.copytree(history, kept)
    new = _mini(["python 3.11.*", "numpy <2"])
    new["environments"]["lab"]["tests"] = {"imports": ["jupyter_server"]}
    project = make_project(new)
    maintenance.run_rebuild(project, sources=[str(kept)], options=RebuildOptions(refresh=("lab",)))
    tests = project.read_locks()["lab"].tests
    assert tests is not None
    assert tests.imports == ("jupyterlab", "jupyter_server") and tests.commands == (("true",),)
    assert [f for f in run_check(project) if f.kind == "stale"] == []
