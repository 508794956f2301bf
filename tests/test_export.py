"""Interop: rattler reads every committed lock, and ``twinlock export`` round-trips through it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import rattler
import yaml

from twinlock.app.export import run_export
from twinlock.app.project import open_project
from twinlock.lock.export import build_number, pypi_hash
from twinlock.lock.format import parse_conda_lock, render_explicit
from twinlock.model.lock import EnvironmentLock

REPO = Path(__file__).resolve().parents[1]
COMMITTED = sorted(
    p.relative_to(REPO).as_posix()
    for root in ("locks", "tests/data")
    for p in (REPO / root).rglob("*.conda-lock.yml")
)
TWINLOCK = Path(sys.executable).with_name("twinlock")


def _conda_set(records: list[rattler.RepoDataRecord] | None) -> set[tuple[str, ...]]:
    return {
        (
            r.name.normalized,
            str(r.version),
            str(r.build),
            r.url,
            r.md5.hex() if r.md5 else "",
            r.sha256.hex() if r.sha256 else "",
        )
        for r in records or []
    }


def _ours(
    lock: EnvironmentLock, platform: str
) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
    plat = lock.platform(platform)
    assert plat is not None
    conda = {(p.name, p.version, p.build, p.url, p.md5, p.sha256 or "") for p in plat.packages}
    pypi = {(p.name, p.version, p.url, p.sha256) for p in plat.pypi}
    return conda, pypi


@pytest.mark.parametrize("relative", COMMITTED)
def test_rattler_reads_every_committed_lock(relative: str) -> None:
    """pixi's engine reads our conda-lock files (pip dependencies carry '' not '*')."""
    path = REPO / relative
    theirs = rattler.LockFile.from_path(path).default_environment()
    ours = parse_conda_lock(path.read_text(), source=relative)
    assert theirs is not None
    for plat in theirs.platforms():
        conda = _conda_set(theirs.conda_repodata_records_for_platform(plat))
        assert {c[:4] for c in conda} == {c[:4] for c in _ours(ours, plat.name)[0]}
        names = {p.name for p in theirs.pypi_packages_for_platform(plat) or []}
        assert names == {p[0] for p in _ours(ours, plat.name)[1]}


@pytest.mark.parametrize("composition", ["rsp", "rsp-pypi"])
def test_pixi_lock_export_round_trips_every_package_and_hash(
    composition: str, tmp_path: Path
) -> None:
    project = open_project(REPO / "envs" / f"{composition}.yaml")
    target = tmp_path / "pixi.lock"
    report = run_export(project, "pixi-lock", output=target)
    assert report.written == (target,)
    exported = rattler.LockFile.from_path(target)
    locks = project.read_locks()
    assert sorted(name for name, _ in exported.environments()) == sorted(locks)
    for name, lock in locks.items():
        env = exported.environment(name)
        assert env is not None
        assert sorted(p.name for p in env.platforms()) == sorted(lock.platform_names)
        for plat in env.platforms():
            conda, pypi = _ours(lock, plat.name)
            assert _conda_set(env.conda_repodata_records_for_platform(plat)) == conda
            theirs = {
                (p.name, p.version, p.location.partition("#")[0], pypi_hash(p.location) or "")
                for p in env.pypi_packages_for_platform(plat) or []
            }
            assert theirs == pypi


def test_text_exports_pin_every_package(tmp_path: Path) -> None:
    project = open_project(REPO / "envs" / "rsp.yaml")
    lock = project.read_locks()["payload"]
    explicit = run_export(project, "explicit", output=None, environments=["payload"])
    assert explicit.text == render_explicit(lock, "linux-64")
    env_yml = run_export(project, "environment-yml", output=None, environments=["payload"])
    data = yaml.safe_load(env_yml.text or "")
    plat = lock.platform("linux-64")
    assert plat is not None and data["channels"] == list(lock.channels)
    pinned = {rattler.MatchSpec(d).name.normalized: d for d in data["dependencies"]}
    assert pinned == {p.name: f"{p.name}={p.version}={p.build}" for p in plat.packages}
    written = run_export(project, "explicit", output=tmp_path / "out")
    assert len(written.written) == sum(
        len(lk.platform_names) for lk in project.read_locks().values()
    )


@pytest.mark.parametrize(
    ("build", "number"),
    [
        pytest.param("py311h9ecbd09_0", 0, id="zero"),
        pytest.param("h4bc722e_12", 12, id="twelve"),
        pytest.param("pyhd8ed1ab", 0, id="none"),
        pytest.param("cxx17_h7b12aa8_0", 0, id="underscore-inside"),
    ],
)
def test_build_number_is_the_trailing_digits(build: str, number: int) -> None:
    assert build_number(build) == number


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--format", "pixi"], "not an export format (did you mean", id="format"),
        pytest.param(["-f", "explicit", "--platform", "win-64"], "no locked platform", id="plat"),
    ],
)
def test_cli_bad_export_exits_2(args: list[str], message: str) -> None:
    done = subprocess.run(
        [str(TWINLOCK), "export", "envs/rsp.yaml", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "hint:" in done.stderr
    assert "Traceback" not in done.stderr
