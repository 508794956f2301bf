"""twinlock diff: the pure core, the three renderers (golden files) and the command line.

The golden files under tests/data/diff/ are compared byte for byte; regenerate
them on purpose with TWINLOCK_REGEN_GOLDEN=1 and review the change.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twinlock.audit import diffrender
from twinlock.audit.diff import compare_packages, diff_lock_sets, diff_platforms
from twinlock.audit.diffmodel import CHANGE_KINDS, LocksDiff, LockSet
from twinlock.audit.sources import read_lock_set, split_range
from twinlock.audit.versions import pypi_version_change, version_change
from twinlock.cli.main import app
from twinlock.lock.format import parse_conda_lock, render_conda_lock
from twinlock.model.lock import (
    LICENSES_KEY,
    LockedPackage,
    PlatformLock,
    PypiPackage,
    without_package_facts,
)

DATA = Path(__file__).resolve().parent / "data" / "diff"
CF = "https://conda.anaconda.org/conda-forge"
runner = CliRunner()


def _fixture_diff(monkeypatch: pytest.MonkeyPatch) -> LocksDiff:
    monkeypatch.chdir(DATA)  # labels are then "old" and "new"
    return diff_lock_sets(read_lock_set(Path("old")), read_lock_set(Path("new")))


def _golden(name: str, actual: str) -> None:
    path = DATA / name
    if os.environ.get("TWINLOCK_REGEN_GOLDEN"):
        path.write_text(actual)
    assert actual == path.read_text(), f"{name} differs (TWINLOCK_REGEN_GOLDEN=1 regenerates)"


@pytest.mark.parametrize(
    ("name", "render"),
    [
        pytest.param("expected.txt", lambda d: diffrender.render_text(d, width=100), id="text"),
        pytest.param("expected.md", diffrender.render_markdown, id="markdown"),
        pytest.param("expected.json", diffrender.render_json, id="json"),
    ],
)
def test_renderers_match_golden_files(monkeypatch: pytest.MonkeyPatch, name, render) -> None:
    _golden(name, render(_fixture_diff(monkeypatch)))


def test_fixture_pair_exercises_every_category(monkeypatch: pytest.MonkeyPatch) -> None:
    diff = _fixture_diff(monkeypatch)
    counts = diff.kind_counts()
    assert [k for k in CHANGE_KINDS if counts[k] == 0] == []
    assert {b for b, n in diff.bump_counts().items() if n} >= {"major", "minor", "patch"}
    statuses = {e.environment: e.status for e in diff.environments}
    assert statuses == {
        "lab": "changed",
        "legacy": "removed",
        "payload": "changed",
        "tools": "added",
    }
    lab = next(e for e in diff.environments if e.environment == "lab")
    assert {p.platform: p.status for p in lab.platforms} == {
        "linux-64": "changed",
        "linux-aarch64": "removed",
        "osx-arm64": "added",
    }
    roles = {c.name: c.root for _, c in lab.changes()}
    assert roles["python"] and roles["packaging"] and not roles["openssl"]
    assert [c.name for _, _, c in diff.alarms()] == ["openssl"]
    assert diff.exit_code == 3


def test_json_shape_is_documented_and_stable(monkeypatch: pytest.MonkeyPatch) -> None:
    data = json.loads(diffrender.render_json(_fixture_diff(monkeypatch)))
    assert data["format"] == "twinlock-diff/1"
    assert set(data) == {
        "format",
        "old",
        "new",
        "changed",
        "exit_code",
        "summary",
        "damaged",
        "environments",
    }
    change = data["environments"][0]["platforms"][0]["changes"][0]
    assert set(change) == {"name", "kind", "kinds", "bump", "root", "alarm", "old", "new"}
    assert set(change["old"]) == {
        "version",
        "build",
        "channel",
        "subdir",
        "file",
        "md5",
        "sha256",
        "license",
    }
    assert list(data["summary"]["kinds"]) == list(CHANGE_KINDS)


def _pkg(version: str = "1.0", build: str = "h0_0", **kw: str | None) -> LockedPackage:
    ext = kw.pop("ext", ".conda") or ".conda"
    subdir = kw.pop("subdir", "linux-64") or "linux-64"
    channel = kw.pop("channel", CF) or CF
    fields: dict[str, str | None] = {"md5": "a" * 32, "sha256": "b" * 64, "license": "MIT", **kw}
    url = f"{channel}/{subdir}/foo-{version}-{build}{ext}"
    return LockedPackage("foo", version, build, subdir, url, channel, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("old", "new", "kinds", "bump"),
    [
        pytest.param(_pkg(), _pkg(), None, None, id="identical"),
        pytest.param(_pkg(), None, ("removed",), None, id="removed"),
        pytest.param(None, _pkg(), ("added",), None, id="added"),
        pytest.param(_pkg("1.2.3"), _pkg("2.0.0"), ("upgraded",), "major", id="major"),
        pytest.param(_pkg("1.2.3"), _pkg("1.3"), ("upgraded",), "minor", id="minor"),
        pytest.param(_pkg("1.2.3"), _pkg("1.2.4"), ("upgraded",), "patch", id="patch"),
        pytest.param(_pkg("1.2.3.1"), _pkg("1.2.3.2"), ("upgraded",), "other", id="other"),
        pytest.param(_pkg("1.10"), _pkg("1.9"), ("downgraded",), "minor", id="numeric-order"),
        pytest.param(_pkg("1.0", "h0_0"), _pkg("1.0", "h1_1"), ("rebuilt",), None, id="build"),
        pytest.param(_pkg(), _pkg(md5="c" * 32), ("hash",), None, id="md5-alarm"),
        pytest.param(_pkg(), _pkg(sha256="d" * 64), ("hash",), None, id="sha256-alarm"),
        pytest.param(_pkg(), _pkg(sha256=None), ("hash",), None, id="sha256-missing-one-side"),
        pytest.param(_pkg(sha256=None), _pkg(sha256=None), None, None, id="sha256-neither-side"),
        pytest.param(_pkg(), _pkg(md5="Z" * 32), ("hash",), None, id="md5-malformed"),
        pytest.param(
            _pkg(md5="z" * 32), _pkg(md5="z" * 32), ("hash",), None, id="same-malformed-md5"
        ),
        pytest.param(_pkg(), _pkg(md5=""), ("hash",), None, id="md5-missing"),
        pytest.param(_pkg(), _pkg(sha256="1" * 63), ("hash",), None, id="sha256-short"),
        pytest.param(
            _pkg(ext=".tar.bz2"), _pkg(md5="c" * 32), ("artifact",), None, id="format-not-alarm"
        ),
        pytest.param(
            _pkg(), _pkg(channel="https://mirror.example/cf"), ("channel",), None, id="channel"
        ),
        pytest.param(
            _pkg(),
            _pkg(channel="https://mirror.example/cf", md5="c" * 32),
            ("hash", "channel"),
            None,
            id="channel-and-hash",
        ),
        pytest.param(_pkg(), _pkg(license="GPL-3.0"), ("license",), None, id="license"),
        pytest.param(_pkg(), _pkg(license=None), None, None, id="license-unknown-is-no-change"),
        pytest.param(
            _pkg("1.0"),
            _pkg("1.1", license="Apache-2.0"),
            ("upgraded", "license"),
            "minor",
            id="upgrade-and-license",
        ),
    ],
)
def test_compare_packages(old, new, kinds, bump) -> None:
    change = compare_packages(old, new, root=False)
    if kinds is None:
        assert change is None
        return
    assert change is not None
    assert (change.kinds, change.bump) == (kinds, bump)
    assert change.alarm == ("hash" in kinds)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param("1.0", "1.0.0", ("rebuilt", None), id="equal-spelled-differently"),
        pytest.param("1!1.0", "2!0.1", ("upgraded", "major"), id="epoch"),
        pytest.param("2024.10.1", "2024.11.0", ("upgraded", "minor"), id="calendar"),
        pytest.param("3.12.0rc1", "3.12.0", ("upgraded", "patch"), id="prerelease"),
        pytest.param("2.0", "1.9", ("downgraded", "major"), id="downgrade"),
    ],
)
def test_version_change(old: str, new: str, expected: tuple[str, str | None]) -> None:
    assert version_change(old, new) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("main..HEAD", ("main", "HEAD"), id="range"),
        pytest.param("v1..", ("v1", "HEAD"), id="open-end"),
        pytest.param("a...b", None, id="symmetric-difference-refused"),
        pytest.param("locks/rsp", None, id="path"),
    ],
)
def test_split_range(text: str, expected: tuple[str, str] | None) -> None:
    assert split_range(text) == expected


@pytest.mark.parametrize(
    ("isatty", "environ", "expected"),
    [
        pytest.param(True, {}, True, id="terminal"),
        pytest.param(True, {"NO_COLOR": "1"}, False, id="no-color"),
        pytest.param(True, {"NO_COLOR": ""}, True, id="empty-no-color-ignored"),
        pytest.param(False, {}, False, id="pipe"),
    ],
)
def test_use_color(isatty: bool, environ: dict[str, str], expected: bool) -> None:
    assert diffrender.use_color(isatty, environ) is expected


def test_text_colour_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    diff = _fixture_diff(monkeypatch)
    assert "\x1b[" in diffrender.render_text(diff, color=True)
    assert "\x1b[" not in diffrender.render_text(diff, color=False)


def test_identical_locks_say_no_changes() -> None:
    side = read_lock_set(DATA / "new")
    diff = diff_lock_sets(side, replace(side, label="again"))
    assert (diff.changed, diff.exit_code) == (False, 0)
    assert "no changes" in diffrender.render_text(diff)
    assert "**no changes**" in diffrender.render_markdown(diff)


def test_license_survives_the_lock_file_and_is_not_a_solve_input() -> None:
    lock = read_lock_set(DATA / "new").by_environment()["lab"]
    text = render_conda_lock(lock)
    assert f"{LICENSES_KEY}linux-64" in text
    again = parse_conda_lock(text, source="test")
    assert again == lock
    licenses = {p.name: p.license for p in again.platform("linux-64").packages}  # type: ignore[union-attr]
    assert licenses["zeromq"] == "MPL-2.0"
    # What a package-less shell (the no-op relock check) records equals the lock minus licenses.
    shell = replace(lock, platforms=tuple(replace(p, packages=()) for p in lock.platforms))
    assert without_package_facts(lock.custom_metadata()) == shell.custom_metadata()
    assert lock.custom_metadata() != shell.custom_metadata()


# -- command line -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code"),
    [
        pytest.param(["old", "old", "--exit-code"], 0, id="unchanged"),
        pytest.param(["old/payload.conda-lock.yml", "new/payload.conda-lock.yml"], 0, id="no-gate"),
        pytest.param(
            ["old/payload.conda-lock.yml", "new/payload.conda-lock.yml", "--exit-code"],
            1,
            id="changed",
        ),
        pytest.param(["old", "new", "--exit-code"], 3, id="hash-alarm"),
    ],
)
def test_cli_exit_codes(monkeypatch: pytest.MonkeyPatch, args: list[str], code: int) -> None:
    monkeypatch.chdir(DATA)
    result = runner.invoke(app, ["diff", *args])
    assert result.exit_code == code, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["old", "new", "-f", "markdwn"], "did you mean 'markdown'", id="format"),
        pytest.param(["old", "nowhere"], "nowhere: no such lock file or directory", id="missing"),
        pytest.param(["old"], "needs two sides", id="one-side"),
        pytest.param([".", "new"], "no \\*.conda-lock.yml files", id="not-a-lock-dir"),
        pytest.param(["--git", "HEAD", "old", "new"], "at most one PATH", id="git-two-paths"),
    ],
)
def test_cli_bad_input_exits_2(monkeypatch: pytest.MonkeyPatch, args, message: str) -> None:
    monkeypatch.chdir(DATA)
    result = runner.invoke(app, ["diff", *args])
    assert result.exit_code == 2
    assert "error:" in result.output
    assert re.search(message, result.output), result.output


def test_cli_formats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA)
    out = runner.invoke(app, ["diff", "old", "new", "--format", "json"]).output
    assert json.loads(out)["exit_code"] == 3
    out = runner.invoke(app, ["diff", "old", "new", "-f", "markdown"]).output
    assert out == (DATA / "expected.md").read_text()


def test_lock_set_of_a_single_file_holds_one_environment() -> None:
    side = read_lock_set(DATA / "old" / "lab.conda-lock.yml")
    assert isinstance(side, LockSet)
    assert [lock.environment for lock in side.locks] == ["lab"]


@pytest.mark.slow
def test_example_against_an_older_snapshot_is_readable(make_project, tmp_path: Path) -> None:
    """The bundled example vs the same composition locked 11 months earlier.

    2025-11-01, not 2025-10-01: in the sparse bundled snapshot payload's
    ``moto >=5.0.6`` has no record uploaded before October 2025.
    """
    import yaml

    from twinlock.app.lock import run_lock

    repo = Path(__file__).resolve().parents[1]
    composition = yaml.safe_load((repo / "envs" / "rsp.yaml").read_text())
    composition["snapshot"] = "2025-11-01"
    env_file = "envs/rsp-payload.environment.yml"
    project = make_project(composition, extra_files={env_file: (repo / env_file).read_text()})
    run_lock(project)
    old = read_lock_set(project.paths.directory)
    diff = diff_lock_sets(old, read_lock_set(repo / "locks" / "rsp"))

    assert diff.exit_code == 1
    counts = diff.kind_counts()
    assert counts["upgraded"] > 100 and counts["hash"] == 0
    for env in diff.environments:
        assert env.status == "changed"
        assert any(m.field == "snapshot" for m in env.metadata)
    renders = {
        "txt": diffrender.render_text(diff, width=120),
        "md": diffrender.render_markdown(diff),
        "json": diffrender.render_json(diff),
    }
    for suffix, text in renders.items():  # kept for a human to read: pytest --basetemp=DIR
        (tmp_path / f"example-diff.{suffix}").write_text(text)
    assert "lab (changed" in renders["txt"] and "payload (changed" in renders["txt"]
    assert renders["md"].count("<details>") == 2
    assert len(renders["md"]) < 65536  # fits a GitHub pull-request body
    data = json.loads(renders["json"])
    assert data["summary"]["kinds"] == counts


def _pypi(version: str, sha: str, file: str | None = None) -> PypiPackage:
    name = file or f"numpy-{version}-cp311-cp311-manylinux_2_17_x86_64.whl"
    return PypiPackage("numpy", version, f"https://files.pythonhosted.org/packages/xx/{name}", sha)


@pytest.mark.parametrize(
    ("old", "new", "kinds"),
    [
        pytest.param(
            _pypi("1.26.4", "a" * 64), _pypi("2.0.1", "b" * 64), ("upgraded",), id="upgrade"
        ),
        pytest.param(
            _pypi("1.26.4", "a" * 64), _pypi("1.26.4", "c" * 64), ("hash",), id="hash-alarm"
        ),
        pytest.param(
            _pypi("1.26.4", "a" * 64),
            _pypi("1.26.4", "d" * 64, "numpy-1.26.4.tar.gz"),
            ("artifact",),
            id="sdist-instead-of-wheel",
        ),
        pytest.param(None, _pypi("1.26.4", "a" * 64), ("added",), id="added"),
    ],
)
def test_pypi_packages_are_diffed(
    old: PypiPackage | None, new: PypiPackage, kinds: tuple[str, ...]
) -> None:
    before = PlatformLock.create("linux-64", "h", (), (), [old] if old else [])
    after = PlatformLock.create("linux-64", "h", (), (), [new])
    result = diff_platforms(before, after, "linux-64", frozenset(), frozenset({"numpy (pypi)"}))
    (change,) = result.changes
    assert change.name == "numpy (pypi)"
    assert change.kinds == kinds
    assert change.root
    assert (result.old_count, result.new_count) == (1 if old else 0, 1)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param("2.1.0+cpu", "2.1.0", ("rebuilt", None), id="local-label-dropped"),
        pytest.param("2.1.0", "2.1.0+cu121", ("rebuilt", None), id="local-label-added"),
        pytest.param("2.1.0+cpu", "2.1.1", ("upgraded", "patch"), id="local-then-release"),
        pytest.param("1.0.dev0", "1.0a1", ("upgraded", "other"), id="dev-to-alpha"),
        pytest.param("1.0a1", "1.0b2", ("upgraded", "other"), id="alpha-to-beta"),
        pytest.param("1.0rc1", "1.0", ("upgraded", "other"), id="rc-to-final"),
        pytest.param("1.0", "1.0.post1", ("upgraded", "other"), id="post-release"),
        pytest.param("1.0", "1.0.dev1", ("downgraded", "other"), id="final-to-dev"),
        pytest.param("1.0", "1.0.0", ("rebuilt", None), id="equal-spelled-differently"),
        pytest.param("1.9", "1.10", ("upgraded", "minor"), id="numeric"),
        pytest.param("1!1.0", "2.0", ("downgraded", "major"), id="epoch"),
        pytest.param("2.0.0rc1", "1.9", ("downgraded", "major"), id="downgrade"),
        pytest.param("2.3.1.x", "2.3.2.x", ("upgraded", "patch"), id="not-pep440-conda-rules"),
    ],
)
def test_pypi_version_change_follows_pep_440(
    old: str, new: str, expected: tuple[str, str | None]
) -> None:
    assert pypi_version_change(old, new) == expected


@pytest.mark.parametrize(
    ("old", "new", "kinds", "conda_kind"),
    [
        pytest.param("2.1.0+cpu", "2.1.0", ("rebuilt",), "upgraded", id="local"),
        pytest.param("1.0.dev0", "1.0a1", ("upgraded",), "downgraded", id="dev-pre"),
    ],
)
def test_pypi_entries_of_a_diff_use_pep_440_where_conda_rules_disagree(
    old: str, new: str, kinds: tuple[str, ...], conda_kind: str
) -> None:
    before = PlatformLock.create("linux-64", "h", (), (), [_pypi(old, "a" * 64)])
    after = PlatformLock.create("linux-64", "h", (), (), [_pypi(new, "b" * 64)])
    (change,) = diff_platforms(before, after, "linux-64", frozenset(), frozenset()).changes
    assert change.name == "numpy (pypi)" and change.kinds == kinds
    assert version_change(old, new)[0] == conda_kind  # what the conda rules said before
