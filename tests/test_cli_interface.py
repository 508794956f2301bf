"""The CLI's edges: option spellings (old and new), help texts, -v logging, piped
tables, shell completion, and hints that fit the situation they are given in."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from twinlock.app import complete
from twinlock.cli.main import app

from .conftest import REPO

TWINLOCK = str(REPO / ".venv" / "bin" / "twinlock")
DEPRECATED = "is deprecated and goes away in a future release"


def _run(*args: str, cwd: Path = REPO, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TWINLOCK, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
    )


# --- one spelling per concept; old spellings still work, with a note ---------------------

WHY = "libzlib 1.2.13 (h4ab18f5_6) in payload on linux-64"


@pytest.mark.parametrize(
    ("args", "code", "expected", "note"),
    [
        pytest.param(["why", "libzlib", "--env", "payload"], 0, WHY, None, id="why-env"),
        pytest.param(["why", "libzlib", "-e", "payload"], 0, WHY, None, id="why-e"),
        pytest.param(
            ["why", "payload", "libzlib"], 0, WHY, "the positional ENV", id="why-positional-env"
        ),
        pytest.param(
            ["why", "libzlib", "-e", "payload", "--composition", "envs/rsp.yaml"],
            0,
            WHY,
            None,
            id="why-composition",
        ),
        pytest.param(
            ["why", "libzlib", "-e", "payload", "-c", "envs/rsp.yaml"],
            0,
            WHY,
            "-c",
            id="why-c-deprecated",
        ),
        pytest.param(["why", "libzlib"], 2, "--env ENV", None, id="why-needs-env"),
        pytest.param(
            ["why", "libzlib", "-e", "payload", "-c", "x.yaml", "--composition", "y.yaml"],
            2,
            "keep only --composition",
            "-c",
            id="why-both-spellings",
        ),
        pytest.param(["tree", "--env", "payload", "--depth", "0"], 0, "payload", None, id="tree"),
        pytest.param(
            ["tree", "payload", "--depth", "0"], 0, "payload", "the positional ENV", id="tree-old"
        ),
        pytest.param(["tree"], 2, "pass --env ENV", None, id="tree-needs-env"),
        pytest.param(
            ["tree", "-e", "payload", "--depth", "0", "-c", "envs/rsp.yaml"],
            0,
            "payload",
            "-c",
            id="tree-c-deprecated",
        ),
        pytest.param(
            ["check", "--composition", "envs/rsp.yaml"], 0, "fresh", None, id="check-composition"
        ),
        pytest.param(["check", "envs/rsp.yaml"], 0, "fresh", None, id="check-positional"),
        pytest.param(
            ["check", "envs/rsp.yaml", "--composition", "envs/rsp-pypi.yaml"],
            2,
            "give the composition once",
            None,
            id="check-two-compositions",
        ),
        pytest.param(
            ["verify", "-p", "linux-64", "--root", "build/none"], 1, "lab", None, id="v-p"
        ),
        pytest.param(["overlap", "-p", "linux-64"], 0, "identical:", None, id="overlap-p"),
        pytest.param(
            ["export", "-f", "explicit", "-e", "lab", "-p", "linux-64"],
            0,
            "@EXPLICIT",
            None,
            id="export-p",
        ),
    ],
)
def test_old_and_new_spellings(args: list[str], code: int, expected: str, note: str | None) -> None:
    done = _run(*args)
    assert done.returncode == code, done.stderr
    assert expected in (done.stdout if code != 2 else done.stderr)
    if note is None:
        assert DEPRECATED not in done.stderr
    else:
        assert f"note: {note} {DEPRECATED}" in done.stderr
    assert DEPRECATED not in done.stdout
    assert "Traceback" not in done.stderr


def _commands() -> list[tuple[str, Any]]:
    # typer's command classes (its own click) are duck-typed: groups have .commands.
    group: Any = typer.main.get_command(app)
    out: list[tuple[str, Any]] = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            out += [(f"{name} {n}", c) for n, c in command.commands.items()]
        else:
            out.append((name, command))
    return out


def test_no_command_uses_c_for_anything_but_a_hidden_alias() -> None:
    for name, command in _commands():
        for param in command.params:
            if "-c" in getattr(param, "opts", []):
                assert getattr(param, "hidden", False), name


def test_every_command_reading_a_composition_takes_composition_option() -> None:
    for name, command in _commands():
        names = {p.name for p in command.params}
        if "composition" in names:
            opts = {o for p in command.params for o in getattr(p, "opts", [])}
            assert "--composition" in opts, name


@pytest.mark.parametrize(
    ("command", "option"),
    [
        pytest.param(c, o, id=f"{c}-{o}")
        for c, o in [
            ("install", "-p"),
            ("verify", "-p"),
            ("explain", "-p"),
            ("export", "-p"),
            ("sbom", "-p"),
            ("lock", "-e"),
            ("why", "-e"),
            ("tree", "-e"),
            ("graph", "-e"),
        ]
    ],
)
def test_environment_and_platform_short_options(command: str, option: str) -> None:
    [cmd] = [c for n, c in _commands() if n == command]
    opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
    assert option in opts


# --- help texts -------------------------------------------------------------------------


def test_help_texts_are_printed_as_written() -> None:
    """Help is plain click text (no rich markup): a [section] shows, an escape would show too."""
    assert app.rich_markup_mode is None
    texts = [(name, command.help or "") for name, command in _commands()]
    texts += [
        (f"{name} {p.name}", getattr(p, "help", None) or "")
        for name, command in _commands()
        for p in command.params
    ]
    for where, text in texts:
        assert "\\[" not in text, where


def test_composition_help_shows_the_project_table() -> None:
    done = _run("check", "--help", COLUMNS="200")
    assert "twinlock.toml's [project] composition" in done.stdout


def test_verbose_logs_what_lock_does(tmp_path: Path) -> None:
    shutil.copytree(REPO / "locks", tmp_path / "locks")
    loud = _run("-v", "lock", "--locks-dir", str(tmp_path / "locks"))
    quiet = _run("lock", "--locks-dir", str(tmp_path / "locks"))
    assert loud.returncode == quiet.returncode == 0
    assert "nothing to solve" in loud.stderr and "nothing to solve" not in quiet.stderr
    assert loud.stdout == quiet.stdout
    assert (
        "--verbose" in _run("--help").stdout and "Log what twinlock does" in _run("--help").stdout
    )


# --- piped text does not wrap -------------------------------------------------------------


def test_piped_diff_keeps_one_row_per_line(tmp_path: Path) -> None:
    """A long name and version+build stay whole, however narrow COLUMNS says the screen is."""
    for side in ("old", "new"):
        shutil.copytree(REPO / "tests/data/diff" / side, tmp_path / side)
        lock = tmp_path / side / "lab.conda-lock.yml"
        lock.write_text(lock.read_text().replace("jupyterlab", "jupyter-firefly-extensions"))
    done = _run("diff", str(tmp_path / "old"), str(tmp_path / "new"), cwd=tmp_path, COLUMNS="40")
    assert done.returncode == 0, done.stderr
    [row] = [line for line in done.stdout.splitlines() if "jupyter-firefly-extensions" in line]
    assert "4.2.5 pyhd8ed1ab_0" in row and "4.3.0 pyhd8ed1ab_0" in row and "minor" in row
    [python] = [line for line in done.stdout.splitlines() if line.startswith("upgraded     python")]
    assert "3.12.5 h2ad013b_0_cpython" in python and "3.12.7 hc5c86c4_0_cpython" in python
    assert all(line == line.rstrip() for line in done.stdout.splitlines())


# --- completion ---------------------------------------------------------------------------

RSP = REPO / "envs" / "rsp.yaml"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        pytest.param("twinlock why --env ", {"lab", "payload"}, id="environment"),
        pytest.param("twinlock install -p linux-", {"linux-64", "linux-aarch64"}, id="platform"),
        pytest.param("twinlock why -e payload libzl", {"libzlib"}, id="package"),
        pytest.param(
            "twinlock tree --composition envs/rsp-pypi.yaml -e payload --invert libzl",
            {"libzlib"},
            id="package-of-composition-option",
        ),
    ],
)
def test_shell_completion(words: str, expected: set[str]) -> None:
    cword = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    done = _run(_TWINLOCK_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=cword)
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) == expected


@pytest.mark.parametrize(
    "words",
    [
        pytest.param("twinlock lock --composition {path} -e ", id="lock-composition"),
        pytest.param("twinlock why --composition {path} -e ", id="why-composition"),
        pytest.param("twinlock why -c {path} -e ", id="why-c"),
    ],
)
def test_completion_reads_the_composition_given(tmp_path: Path, words: str) -> None:
    """(click stops parsing at the option being completed, so a positional COMPOSITION
    after it is not seen: --composition is the spelling completion follows.)"""
    other = tmp_path / "other.yaml"
    other.write_text("name: o\nplatforms: [win-64]\nenvironments: {alpha: {}, beta: {}}\n")
    words = words.format(path=other)
    done = _run(_TWINLOCK_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD="5")
    assert set(done.stdout.split()) == {"alpha", "beta"}, done.stderr


def test_completion_of_a_broken_project_is_empty(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: [\n")
    assert complete.environment_names(tmp_path / "bad.yaml") == []
    assert complete.package_names(tmp_path / "bad.yaml", ["lab"]) == []
    assert complete.package_names(RSP, ["no-such-env"], "libzl") == ["libzlib"]


def test_completion_is_enabled() -> None:
    assert "--install-completion" in CliRunner().invoke(app, ["--help"]).output


def test_completion_imports_no_solver() -> None:
    """TAB must stay fast: neither rattler nor conda-lock is imported to complete a name."""
    code = (
        "import sys; from twinlock.app.complete import package_names; "
        "assert package_names(None, ['payload'], 'libzl') == ['libzlib']; "
        "print(sorted(m for m in ('rattler', 'conda_lock') if m in sys.modules))"
    )
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
