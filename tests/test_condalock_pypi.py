"""conda-lock's pip options in the PyPI layer: hashes, direct references, private indexes,
and the channel an offline failure names.

uv's answers are real (tests/data/condalock/uv, see the README there).
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from twinlock.app.check import run_check
from twinlock.app.lock import run_lock
from twinlock.errors import PypiError
from twinlock.model.composition import Channel, PypiRequirement
from twinlock.model.inputs import SolveInputs
from twinlock.model.pypi_indexes import PypiIndexes
from twinlock.pypi.plan import PypiRequest, build_packages
from twinlock.pypi.uv import index_args
from twinlock.solve.adapter import failed_channels, offline_hint

from .conftest import DATA, REPO, ProjectFactory, mix_composition

UV = DATA / "condalock" / "uv"
FLIT_WHEEL = "7aada352fb0c7f5538c4fafeddf314d3a6a92ee8e2b1de70482329e42de70301"
FLIT_SDIST = "72ad266176c4a3fcfab5f2930d76896059851240570ce9a98733b658cb786eba"
TYPING = "8f92fc8806f9a6b641eaa5318da32b44d401efaac0f6678c9bc448ba3605faa0"


def _build(pylock: str | None = None, **kw: Any) -> dict[str, tuple[str, str, str]]:
    request = PypiRequest("payload", "linux-64", "3.11", ("flit-core", "typing-extensions"), **kw)
    packages = build_packages(
        request, (UV / "pins.txt").read_text(), pylock or (UV / "pylock.toml").read_text()
    )
    return {p.name: (p.version, p.file_name, p.sha256) for p in packages}


@pytest.mark.parametrize(
    ("allowed", "flit"),
    [
        pytest.param({}, ("3.9.0", "flit_core-3.9.0-py3-none-any.whl", FLIT_WHEEL), id="free"),
        pytest.param(
            {"flit-core": frozenset({FLIT_WHEEL})},
            ("3.9.0", "flit_core-3.9.0-py3-none-any.whl", FLIT_WHEEL),
            id="hash-of-the-wheel",
        ),
        pytest.param(
            {"flit-core": frozenset({FLIT_SDIST})},
            ("3.9.0", "flit_core-3.9.0.tar.gz", FLIT_SDIST),
            id="hash-of-the-sdist-only",
        ),
    ],
)
def test_hash_pinned_and_direct_references_are_locked_as_given(
    allowed: dict[str, frozenset[str]], flit: tuple[str, str, str]
) -> None:
    found = _build(allowed_hashes=allowed)
    assert found["flit-core"] == flit
    # the direct reference: its own file and hash, its version read from uv's pylock.toml
    assert found["typing-extensions"] == (
        "4.8.0",
        "typing_extensions-4.8.0-py3-none-any.whl",
        TYPING,
    )


def test_a_hash_no_artifact_has_is_an_error_naming_the_package() -> None:
    with pytest.raises(PypiError, match=r"no file of flit-core==3.9.0 has one of the hashes"):
        _build(allowed_hashes={"flit-core": frozenset({"00" * 32})})


def test_credentials_of_an_index_never_reach_the_lock() -> None:
    text = (UV / "pylock.toml").read_text()
    leaked = text.replace("https://files.pythonhosted.org/", "https://alice:s3cret@files.example/")
    found = _build(pylock=leaked)
    assert "s3cret" not in repr(found)
    flit_url = [
        p.url
        for p in build_packages(
            PypiRequest("p", "linux-64", "3.11", ()), (UV / "pins.txt").read_text(), leaked
        )
        if p.name == "flit-core"
    ]
    assert flit_url[0].startswith("https://files.example/")


def test_requirement_sent_to_uv_has_no_hash_options() -> None:
    req = PypiRequirement(f"flit-core===3.9.0 --hash=sha256:{FLIT_WHEEL}")
    assert (req.requirement, req.hashes, req.name) == (
        "flit-core===3.9.0",
        frozenset({FLIT_WHEEL}),
        "flit-core",
    )


PRIVATE = "https://$PIP_USER:${PIP_PASSWORD}@pypi.example.org/simple"


@pytest.mark.parametrize(
    ("indexes", "args"),
    [
        pytest.param(PypiIndexes(), [], id="pypi-only"),
        pytest.param(
            PypiIndexes((PRIVATE,)),
            ["--extra-index-url", "https://bob:pw@pypi.example.org/simple"],
            id="extra-index",
        ),
        pytest.param(
            PypiIndexes((PRIVATE, "https://mirror.example.org/simple"), allow_pypi=False),
            [
                "--index-url",
                "https://bob:pw@pypi.example.org/simple",
                "--extra-index-url",
                "https://mirror.example.org/simple",
            ],
            id="no-pypi-requests",
        ),
    ],
)
def test_pip_repositories_become_uv_index_options(
    indexes: PypiIndexes, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_USER", "bob")
    monkeypatch.setenv("PIP_PASSWORD", "pw")
    assert index_args(indexes, "payload") == args


def test_missing_credential_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_USER", "bob")
    monkeypatch.delenv("PIP_PASSWORD", raising=False)
    with pytest.raises(PypiError, match=r"needs the environment variable PIP_PASSWORD") as info:
        index_args(PypiIndexes((PRIVATE,)), "payload")
    assert "https://pypi.example.org/simple" in str(info.value)


def test_indexes_enter_the_input_hash_without_credentials() -> None:
    plain = SolveInputs("payload", "linux-64", ("python",), ("c",), None, (), ("six",))
    private = replace(plain, pypi_indexes=PypiIndexes((PRIVATE,)).recorded())
    assert plain.digest() != private.digest()
    assert private.pypi_indexes == (
        "https://pypi.example.org/simple",
        "https://pypi.org/simple",
    )
    assert private.changes_since(plain) == [
        "PyPI indexes changed: [] -> ['https://pypi.example.org/simple', 'https://pypi.org/simple']"
    ]


MAIN = Channel.from_string("pkgs/main")
FORGE = Channel.from_string("conda-forge")


@pytest.mark.parametrize(
    ("text", "mirrors", "named"),
    [
        pytest.param(
            "error sending request for url (https://repo.anaconda.com/pkgs/main/linux-64/"
            "repodata.json)",
            {FORGE.url: "bundled:conda-forge-snapshot"},
            [MAIN],
            id="defaults-failed-not-conda-forge",
        ),
        pytest.param("dns error", {FORGE.url: "/srv/cf"}, [MAIN], id="unmirrored-one"),
        pytest.param("dns error", {}, [FORGE, MAIN], id="all-unmirrored"),
    ],
)
def test_offline_hint_names_the_failing_channel(
    text: str, mirrors: dict[str, str], named: list[Channel]
) -> None:
    assert failed_channels(text, [FORGE, MAIN], mirrors) == named
    hint = offline_hint(named)
    assert all(f"--mirror {c.name}=DIR" in hint for c in named)
    if FORGE not in named:
        assert "conda-forge" not in hint


def test_cli_offline_hint_names_the_channel_not_conda_forge(tmp_path: Path) -> None:
    (tmp_path / "twinlock.toml").write_text(
        '[mirrors]\nconda-forge = "bundled:conda-forge-snapshot"\n'
    )
    missing = (tmp_path / "no-such-channel").as_uri()
    (tmp_path / "c.yaml").write_text(
        f"name: c\nchannels: ['{missing}', conda-forge]\nplatforms: [linux-64]\n"
        "environments:\n  a:\n    prefix: /opt/a\n    requirements: [python]\n"
    )
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "twinlock"), "lock", "c.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    hint = done.stderr.split("hint: ", 1)[1]
    assert f"--mirror {missing}=DIR" in hint
    assert "conda-forge=DIR" not in hint
    assert not (tmp_path / "locks").exists()


@pytest.mark.slow
def test_conda_lock_file_with_private_index_and_hashes_locks_and_checks(
    make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real lock (bundled conda snapshot + uv against PyPI) of a conda-lock environment file:
    pypi.org reached only as a 'private' index named through a variable, a hash-pinned
    requirement that allows only the sdist, and a direct reference with its hash."""
    monkeypatch.setenv("TL_INDEX_HOST", "pypi.org")
    env_file = {
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "category": "main",
        "pip-repositories": ["https://${TL_INDEX_HOST}/simple"],
        "allow-pypi-requests": False,
        "dependencies": [
            "python 3.11.*",
            {
                "pip": [
                    f"flit-core==3.9.0 --hash=sha256:{FLIT_SDIST}",
                    "typing-extensions @ https://files.pythonhosted.org/packages/24/21/"
                    "7d397a4b7934ff4028987914ac1044d3b7d52712f30e2ac7a2ae5bc86dd0/"
                    f"typing_extensions-4.8.0-py3-none-any.whl#sha256={TYPING}",
                ]
            },
        ],
    }
    project = make_project(
        mix_composition(file="env.yml"),
        extra_files={"envs/env.yml": yaml.safe_dump(env_file)},
    )
    run_lock(project)
    lock = project.read_locks()["payload"]
    assert lock.pypi_indexes == ("https://${TL_INDEX_HOST}/simple",)
    plat = lock.platforms[0]
    flit, typing = plat.pypi_package("flit-core"), plat.pypi_package("typing-extensions")
    assert flit is not None and (flit.file_name, flit.sha256) == (
        "flit_core-3.9.0.tar.gz",
        FLIT_SDIST,
    )
    assert typing is not None and (typing.version, typing.sha256) == ("4.8.0", TYPING)
    text = project.paths.conda_lock("payload").read_text()
    assert "pypi.org/simple" not in text.replace("${TL_INDEX_HOST}", "")
    assert run_check(project) == []
