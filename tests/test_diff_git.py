"""twinlock diff against git revisions, in a throw-away repository made by each test."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twinlock.cli.main import app

DATA = Path(__file__).resolve().parent / "data" / "diff"
runner = CliRunner()

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose locks/demo holds the old locks at HEAD~1 and the new ones at HEAD."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "test@example.org")
    _git(root, "config", "user.name", "test")
    locks = root / "locks" / "demo"
    shutil.copytree(DATA / "old", locks)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "old locks")
    shutil.rmtree(locks)
    # shutil.copy, not copy2: a copied file keeping its source's mtime can reuse the
    # removed file's inode and size, and git's stat check then misses the new content.
    shutil.copytree(DATA / "new", locks, copy_function=shutil.copy)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "new locks")
    monkeypatch.chdir(root)
    return root


def _json(args: list[str]) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["diff", *args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def _body(data: dict) -> dict:  # type: ignore[type-arg]
    return {k: v for k, v in data.items() if k not in ("old", "new")}


def test_revision_range_equals_the_directory_diff(repo: Path) -> None:
    from_git = _json(["HEAD~1..HEAD", "locks/demo"])
    from_dirs = _json([str(DATA / "old"), str(DATA / "new")])
    assert (from_git["old"], from_git["new"]) == ("HEAD~1:locks/demo", "HEAD:locks/demo")
    assert _body(from_git) == _body(from_dirs)
    assert from_git["exit_code"] == 3


def test_git_rev_compares_with_the_working_tree_without_checkout(repo: Path) -> None:
    (repo / "locks" / "demo" / "tools.conda-lock.yml").unlink()  # uncommitted removal
    data = _json(["--git", "HEAD", "locks/demo"])
    assert data["new"] == "locks/demo"
    assert [(e["environment"], e["status"]) for e in data["environments"]] == [
        ("lab", "unchanged"),
        ("payload", "unchanged"),
        ("tools", "removed"),
    ]
    assert _git(repo, "status", "--porcelain").strip() == "D locks/demo/tools.conda-lock.yml"


def test_single_lock_file_at_a_revision(repo: Path) -> None:
    data = _json(["HEAD~1..HEAD", "locks/demo/payload.conda-lock.yml"])
    assert [e["environment"] for e in data["environments"]] == ["payload"]
    assert data["environments"][0]["metadata"][0]["field"] == "snapshot"


def test_path_absent_at_a_revision_shows_everything_added(repo: Path) -> None:
    (repo / "locks" / "other").mkdir()
    shutil.copy(DATA / "new" / "tools.conda-lock.yml", repo / "locks" / "other")
    data = _json(["--git", "HEAD", "locks/other"])
    assert [(e["environment"], e["status"]) for e in data["environments"]] == [("tools", "added")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--git", "nosuchrev", "locks/demo"], "unknown git revision 'nosuchrev'"),
        pytest.param(["HEAD~5..HEAD", "locks/demo"], "unknown git revision 'HEAD~5'"),
    ],
)
def test_bad_revision_is_bad_input(repo: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["diff", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_a_path_outside_the_repository_is_bad_input(repo: Path, tmp_path: Path) -> None:
    from twinlock.audit.git import read_git_file
    from twinlock.errors import LockFileError

    with pytest.raises(LockFileError, match="outside the git repository"):
        read_git_file(repo, "HEAD", tmp_path.parent / "elsewhere" / "x.conda-lock.yml")
