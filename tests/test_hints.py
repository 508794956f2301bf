"""Hints fit the situation: one test per message that used to point the wrong way."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from twinlock.app.lock import run_lock
from twinlock.app.mirror import run_mirror
from twinlock.app.project import open_project
from twinlock.errors import CompositionError, InstallError
from twinlock.model.composition import Channel
from twinlock.solve.adapter import offline_hint
from twinlock.spec.requirements import pypi_requirement_error

from .conftest import REPO
from .installfixtures import make_install_project

TWINLOCK = str(REPO / ".venv" / "bin" / "twinlock")


@pytest.mark.parametrize(
    ("content", "message", "hint"),
    [
        pytest.param("", "the composition is empty", "twinlock init", id="empty"),
        pytest.param("# only a comment\n", "the composition is empty", "name:", id="comments"),
        pytest.param("- a\n", "expected a mapping, got list", "indent", id="list-still-indent"),
    ],
)
def test_empty_composition_is_not_told_to_indent(
    tmp_path: Path, content: str, message: str, hint: str
) -> None:
    (tmp_path / "c.yaml").write_text(content)
    with pytest.raises(CompositionError, match=message) as caught:
        open_project(tmp_path / "c.yaml", cwd=tmp_path)
    assert hint in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("environments", "extra", "message", "hint"),
    [
        pytest.param(
            "  a:\n    prefix: /opt/a\n    file: env.yml\n",
            "",
            "env.yml: the file is empty",
            "write its content",
            id="empty-environment-file",
        ),
        pytest.param("  b:\n", None, "environments.b: empty", "write its keys", id="empty-env"),
        pytest.param(
            "  a:\n    prefix: /opt/a\n    requirements: [python]\n    kernel:\n",
            None,
            "environments.a.kernel: empty",
            "indented under it",
            id="empty-kernel",
        ),
    ],
)
def test_empty_values_are_called_empty(
    tmp_path: Path, environments: str, extra: str | None, message: str, hint: str
) -> None:
    head = "name: e\nchannels: [conda-forge]\nplatforms: [linux-64]\nenvironments:\n"
    (tmp_path / "c.yaml").write_text(head + environments)
    if extra is not None:
        (tmp_path / "env.yml").write_text(extra)
    with pytest.raises(CompositionError) as caught:
        open_project(tmp_path / "c.yaml", cwd=tmp_path)
    text = f"{caught.value}\n{caught.value.hint}"
    assert message in text and hint in text
    assert "got nothing" not in text


def test_directory_as_composition_is_not_a_yaml_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "envs.yaml").mkdir()
    done = subprocess.run(
        [TWINLOCK, "check", "envs.yaml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "is a directory" in done.stderr
    assert "YAML syntax" not in done.stderr and "pass the composition file" in done.stderr


def test_verify_of_a_prefix_that_does_not_exist_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [TWINLOCK, "verify", "-p", "linux-64", "--root", str(tmp_path / "empty")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "opt/lab does not exist" in done.stdout and "conda-meta" not in done.stdout
    (tmp_path / "root/opt/lab").mkdir(parents=True)
    done = subprocess.run(
        [TWINLOCK, "verify", "-p", "linux-64", "--root", str(tmp_path / "root"), "-e", "lab"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "opt/lab has no conda-meta (not a conda environment)" in done.stdout


@pytest.mark.parametrize(
    ("channel", "bundled"),
    [
        pytest.param("conda-forge", True, id="conda-forge"),
        pytest.param("https://repo.example.org/forge-mirror", False, id="other"),
    ],
)
def test_offline_hint_offers_the_bundled_snapshot_for_conda_forge(
    channel: str, bundled: bool
) -> None:
    hint = offline_hint([Channel.from_string(channel)])
    assert ("--mirror conda-forge=bundled:conda-forge-snapshot" in hint) is bundled


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param("--index-url https://example.org/simple", "'--index-url' is a pip option"),
        pytest.param("-e git+https://github.com/x/y", "'-e' is a pip option", id="editable"),
        pytest.param("https://example.org/y-1.0.whl", "a bare URL", id="bare-url-still"),
    ],
)
def test_pip_option_is_not_called_a_bare_url(spec: str, expected: str) -> None:
    assert expected in (pypi_requirement_error(spec) or "")


def test_mirror_failing_does_not_suggest_running_mirror(tmp_path: Path) -> None:
    ip = make_install_project(tmp_path)
    project = open_project(ip.composition, cwd=ip.root)
    run_lock(project)
    for archive in [*ip.channel.rglob("*.conda"), *ip.channel.rglob("*.tar.bz2")]:
        archive.unlink()
    with pytest.raises(InstallError, match="no usable archive") as caught:
        run_mirror(project, dest=tmp_path / "mirror")
    hint = caught.value.hint or ""
    assert "twinlock mirror" not in hint and "--mirror" in hint
