"""conda-lock's environment.yml dialect, read from real files conda-lock users keep.

The files under tests/data/condalock/ come from public repositories (see its README).
One table per concern: extension keys and merged files, pip entry forms, the
``defaults`` channel, virtual-packages.yml.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from twinlock.errors import CompositionError, ConfigError, Problems
from twinlock.model.composition import Channel, Composition, Environment
from twinlock.model.pypi_indexes import PypiIndexes
from twinlock.spec.condalock import parse_virtual_packages
from twinlock.spec.config import parse_config
from twinlock.spec.parse import parse_composition
from twinlock.spec.requirements import parse_channels, parse_requirements_txt

from .conftest import DATA

CONDALOCK = DATA / "condalock"
SHARED_SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs"
ALL_PLATFORMS = ["linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64"]


def compose(*refs: str, top: list[str] | None = None, **env: Any) -> Composition:
    """A composition whose 'payload' is made of the real files *refs* (under condalock/)."""
    data = {
        "name": "c",
        "channels": ["conda-forge"],
        "platforms": top or ALL_PLATFORMS,
        "environments": {
            "payload": {"prefix": "/opt/payload", "file": list(refs) if len(refs) > 1 else refs[0]}
            | env
        },
    }
    files = {ref: yaml.safe_load((CONDALOCK / ref).read_text()) for ref in refs}
    return parse_composition(data, source="envs/c.yaml", files=files)


def payload(*refs: str, **kw: Any) -> Environment:
    return compose(*refs, **kw).environment("payload")


def reason_of(env: Environment, name: str) -> str | None:
    return next(r.reason for r in (*env.requirements, *env.pypi) if r.name == name)


ACCEPTED: list[Any] = [
    pytest.param(
        ("lock-spec/base-env.yml",),
        {},
        lambda env: env.platforms == ("linux-64",),
        id="platforms-narrows-the-environment",
    ),
    pytest.param(
        ("multiple-categories/main.yml", "multiple-categories/dev.yml"),
        {},
        lambda env: (
            reason_of(env, "python") is None
            and reason_of(env, "pandas") == "conda-lock category 'dev'"
            and env.specs == ("python =3.10", "pandas =2.0", "astropy =5.0")
        ),
        id="category-kept-as-provenance",
    ),
    pytest.param(
        ("multiple-categories/dev.yml", "multiple-categories/test.yml"),
        {},
        lambda env: reason_of(env, "pyspark") == "conda-lock category 'test'",
        id="category-test",
    ),
    pytest.param(
        ("pip-repositories/environment.yaml",),
        {},
        lambda env: (
            env.pypi_indexes
            == PypiIndexes(("http://$PIP_USER:$PIP_PASSWORD@private-pypi.org/api/pypi/simple",))
            and env.pypi_indexes.recorded()
            == ("http://private-pypi.org/api/pypi/simple", "https://pypi.org/simple")
        ),
        id="pip-repositories-credentials-never-recorded",
    ),
    pytest.param(
        ("local-pip-repository/environment.yaml",),
        {},
        lambda env: (
            env.pypi_indexes.urls == ("file://$PYPI_FILE_URL/",)
            and env.pypi_specs == ("fake-private-package==1.0.0", "six")
        ),
        id="pip-repositories-file-url",
    ),
    pytest.param(
        ("lock-spec/base-env.yml", "lock-spec/ml-stuff.yml"),
        {},
        lambda env: (
            [c.name for c in env.channels] == ["pytorch", "conda-forge"]
            and env.specs == ("python =3.7", "pytorch")
            and env.sources == ("lock-spec/base-env.yml", "lock-spec/ml-stuff.yml")
        ),
        id="two-files-merge-channels-by-common-tail",
    ),
    pytest.param(
        ("multiple-categories/main.yml", "lock-spec/base-env.yml"),
        {},
        lambda env: env.specs == ("python =3.7",),
        id="later-file-replaces-a-package-spec",
    ),
    pytest.param(
        ("aih-eda-modeling/aih_sl_tutorial.yml",),
        {},
        lambda env: (
            [c.url for c in env.channels]
            == [
                "https://conda.anaconda.org/conda-forge",
                "https://repo.anaconda.com/pkgs/main",
                "https://repo.anaconda.com/pkgs/r",
            ]
            and env.platforms == ("osx-arm64",)
        ),
        id="defaults-is-repo-anaconda-main-and-r",
    ),
    pytest.param(
        ("lock-spec/base-env.yml",),
        {"platforms": ["linux-64"]},
        lambda env: env.platforms == ("linux-64",),
        id="environment-platforms-within-the-file's",
    ),
]


@pytest.mark.parametrize(("refs", "env", "check"), ACCEPTED)
def test_conda_lock_files_are_read_as_conda_lock_reads_them(
    refs: tuple[str, ...], env: dict[str, Any], check: Callable[[Environment], bool]
) -> None:
    assert check(payload(*refs, **env))


REFUSED: list[Any] = [
    pytest.param(
        ("allow-pypi-requests/env.no-pypi-requests.yml",),
        ["linux-64"],
        r"allow-pypi-requests: pypi.org is not allowed and no pip-repositories are given",
        id="allow-pypi-requests-false-without-repositories",
    ),
    pytest.param(
        ("env-filter-platform/environment.yml",),
        ["linux-64", "osx-arm64"],
        r"payload.file: the environment file's platforms name osx-64, which the "
        r"composition's platforms \(linux-64, osx-arm64\) do not",
        id="file-platform-outside-the-composition",
    ),
    pytest.param(
        ("lock-spec/ml-stuff.yml", "aih-eda-modeling/aih_sl_tutorial.yml"),
        ALL_PLATFORMS,
        r"channel lists cannot be merged \(lock-spec/ml-stuff.yml: \[pytorch, conda-forge\]; "
        r"aih-eda-modeling/aih_sl_tutorial.yml: \[conda-forge, pkgs/main, pkgs/r\]\)",
        id="channels-without-common-tail",
    ),
    pytest.param(
        ("pip-hash-checking/environment.yml",),
        ALL_PLATFORMS,
        r"'flit-core === 3.9.0 --hash=sha256:1234': only --hash=sha256:<64 hex digits>",
        id="pip-hash-malformed",
    ),
    pytest.param(
        ("git/environment.yml",),
        ALL_PLATFORMS,
        r"cannot lock PyPI entry 'git\+https://github.com/pydantic/pydantic': "
        r"a git reference has no hash to lock",
        id="pip-git",
    ),
    pytest.param(
        ("local-pip/environment.yml",),
        ALL_PLATFORMS,
        r"cannot lock PyPI entry '-e .': editable installs cannot be locked",
        id="pip-editable",
    ),
    pytest.param(
        ("pip-full-url/environment.yml",),
        ALL_PLATFORMS,
        r"^[^\n]*pip\[0\]: cannot lock PyPI entry 'requests @ https://github.com/[^']*': "
        r"a direct reference without a hash cannot be verified",
        id="pip-direct-reference-without-hash",
    ),
]


@pytest.mark.parametrize(("refs", "platforms", "message"), REFUSED)
def test_what_cannot_be_locked_is_refused_by_name(
    refs: tuple[str, ...], platforms: list[str], message: str
) -> None:
    with pytest.raises(CompositionError, match=message) as info:
        compose(*refs, top=platforms)
    assert "unknown key" not in str(info.value)
    assert info.value.hint


def test_environment_platforms_outside_the_file_are_refused() -> None:
    both = ["linux-64", "osx-arm64"]
    with pytest.raises(CompositionError, match=r"payload.platforms: osx-arm64 is not among"):
        compose("lock-spec/base-env.yml", top=both, platforms=both)


def _env_files() -> list[Path]:
    files = sorted(p for p in CONDALOCK.rglob("*.y*ml") if "virtual-packages" not in p.parts)
    return files + sorted((SHARED_SPECS / "repo2docker").glob("*.yml"))


@pytest.mark.parametrize("path", _env_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_conda_lock_file_ends_in_unknown_key(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    comp = {
        "name": "c",
        "channels": ["conda-forge"],
        "platforms": ALL_PLATFORMS,
        "environments": {"payload": {"prefix": "/opt/payload", "file": path.name}},
    }
    try:
        parse_composition(comp, source="envs/c.yaml", files={path.name: data})
    except CompositionError as exc:
        assert "unknown key" not in str(exc)


PIP_FORMS: list[Any] = [
    pytest.param(
        "flit-core === 3.9.0 --hash=sha256:" + "7a" * 32,
        ("flit-core === 3.9.0", {"7a" * 32}),
        id="hash-pinned",
    ),
    pytest.param(
        "flit-core==3.9.0 --hash=sha256:" + "7a" * 32 + " --hash=sha256:" + "72" * 32,
        ("flit-core==3.9.0", {"7a" * 32, "72" * 32}),
        id="hash-pinned-two-hashes",
    ),
    pytest.param(
        "typing-extensions @ https://files.pythonhosted.org/t/typing_extensions-4.8.0-py3-none-"
        "any.whl#sha256=" + "8f" * 32,
        (None, {"8f" * 32}),
        id="direct-reference-with-hash",
    ),
    pytest.param("-e .", "editable installs cannot be locked", id="editable"),
    pytest.param("--editable=./pkg", "editable installs cannot be locked", id="editable-long"),
    pytest.param("./pkg", "a local path cannot be locked", id="relative-path"),
    pytest.param("/src/pkg", "a local path cannot be locked", id="absolute-path"),
    pytest.param("pkg @ file:///src/pkg-1.0.whl", "a local path cannot be locked", id="file-url"),
    pytest.param("git+https://github.com/x/y", "a git reference has no hash", id="git-bare"),
    pytest.param("y @ git+https://github.com/x/y@v1", "a git reference has no hash", id="git-ref"),
    pytest.param("y @ hg+https://hg.example.org/y", "a git reference has no hash", id="hg"),
    pytest.param(
        "y @ https://example.org/y-1.0.tar.gz", "direct reference without a hash", id="url-no-hash"
    ),
    pytest.param("numpy --index-url https://x", "only --hash=sha256", id="other-option"),
    pytest.param("https://example.org/y-1.0.whl", "a bare URL", id="bare-url"),
]


@pytest.mark.parametrize(("entry", "expected"), PIP_FORMS)
def test_pip_entry_forms(entry: str, expected: Any) -> None:
    doc = {"channels": ["conda-forge"], "dependencies": ["python", {"pip": [entry]}]}
    files = {"env.yml": doc}
    data = {
        "name": "c",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "environments": {"payload": {"prefix": "/opt/payload", "file": "env.yml"}},
    }
    if isinstance(expected, str):
        with pytest.raises(CompositionError, match=expected):
            parse_composition(data, source="envs/c.yaml", files=files)
        return
    (req,) = parse_composition(data, source="envs/c.yaml", files=files).environments[0].pypi
    requirement, hashes = expected
    assert req.requirement == (requirement or req.spec)
    assert req.hashes == hashes


def test_requirements_txt_editable_line_is_refused_by_name() -> None:
    problems = Problems("envs/req.txt")
    parse_requirements_txt("numpy\n-e .\n", "line", problems)
    assert [(p.key, p.message) for p in problems.items] == [
        (
            "line:2",
            "'-e .': editable installs cannot be locked (they install a working tree, "
            "not an artifact)",
        )
    ]


DEFAULTS: list[Any] = [
    pytest.param(
        ["defaults"],
        ["https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r"],
        id="defaults",
    ),
    pytest.param(
        ["conda-forge", "defaults"],
        [
            "https://conda.anaconda.org/conda-forge",
            "https://repo.anaconda.com/pkgs/main",
            "https://repo.anaconda.com/pkgs/r",
        ],
        id="conda-forge-then-defaults",
    ),
    pytest.param(
        ["defaults", "pkgs/main"],
        ["https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r"],
        id="defaults-and-its-member",
    ),
    pytest.param(["pkgs/r"], ["https://repo.anaconda.com/pkgs/r"], id="pkgs-r-by-name"),
]


@pytest.mark.parametrize(("names", "urls"), DEFAULTS)
def test_defaults_resolves_to_condas_default_channels(names: list[str], urls: list[str]) -> None:
    problems = Problems("envs/c.yaml")
    channels = parse_channels(names, "channels", problems) or ()
    assert not problems.items
    assert [c.url for c in channels] == urls


def test_defaults_is_not_one_mirror() -> None:
    with pytest.raises(ValueError, match="name pkgs/main and pkgs/r instead"):
        Channel.from_string("defaults")
    with pytest.raises(ConfigError, match=r"mirror 'defaults'.*name pkgs/main and pkgs/r"):
        parse_config({"mirrors": {"defaults": "/srv/x"}}, root=Path("/tmp"), source="t.toml")


VIRTUAL: list[Any] = [
    pytest.param("glibc-2.17.yml", {"linux-64": {"libc": "2.17"}}, id="glibc"),
    pytest.param("cuda-old-glibc.yaml", {"linux-64": {"libc": "2.14"}}, id="unquoted-glibc"),
    pytest.param("archspec.yaml", {"linux-64": {"archspec": "x86_64_v2"}}, id="archspec"),
    pytest.param(
        "default-virtual-packages.yaml",
        {
            "linux-64": {"linux": "5.10", "archspec": "x86_64", "libc": "2.28", "cuda": "11.4"},
            "osx-arm64": {"archspec": "arm64", "macos": "11.0"},
            "win-64": {"archspec": "x86_64", "cuda": "11.4"},
        },
        id="conda-lock-defaults",
    ),
]


@pytest.mark.parametrize(("name", "expected"), VIRTUAL)
def test_virtual_packages_files_become_system_requirements(
    name: str, expected: dict[str, dict[str, str]]
) -> None:
    problems = Problems(name)
    found = parse_virtual_packages(
        yaml.safe_load((CONDALOCK / "virtual-packages" / name).read_text()), problems
    )
    assert not problems.items
    assert {p: found[p] for p in expected} == expected


def test_bad_virtual_packages_are_all_reported() -> None:
    problems = Problems("vp.yml")
    data = {
        "subdirs": {"linux-46": {}, "linux-64": {"packages": {"__glibcc": "2.28", "__unix": 1}}}
    }
    parse_virtual_packages(data, problems)
    assert [p.message for p in problems.items] == [
        "unknown platform 'linux-46' (did you mean 'linux-64'?)",
        "unknown virtual package '__glibcc' (did you mean '__glibc'?)",
        "__unix is always 0",
    ]


@pytest.mark.parametrize(
    ("url", "name"),
    [
        pytest.param("https://conda.anaconda.org/conda-forge", "conda-forge", id="conda-forge"),
        pytest.param("https://repo.anaconda.com/pkgs/main/", "pkgs/main", id="pkgs-main"),
        pytest.param("file:///srv/chan", "file:///srv/chan", id="other-url"),
    ],
)
def test_install_hints_name_a_locked_channel_as_a_mirror_key(url: str, name: str) -> None:
    channel = Channel.from_url(url)
    assert channel.name == name
    assert Channel.from_string(name).url == channel.url


def test_a_hash_pinned_requirements_file_is_read_with_its_continuations() -> None:
    """uv's own --generate-hashes output: one requirement over three lines, '# via' comments."""
    problems = Problems("pins.txt")
    reqs = parse_requirements_txt((CONDALOCK / "uv" / "pins.txt").read_text(), "line", problems)
    assert not problems.items
    assert [(r.name, r.requirement.split(" @ ")[0], len(r.hashes)) for r in reqs] == [
        ("flit-core", "flit-core==3.9.0", 2),
        ("typing-extensions", "typing-extensions", 1),
    ]


@pytest.mark.parametrize(
    ("doc", "messages"),
    [
        pytest.param(
            {
                "category": 3,
                "allow-pypi-requests": "no",
                "pip-repositories": ["ftp://u:hunter2@host/simple"],
                "platforms": ["linux-46"],
                "dependencies": ["python"],
            },
            [
                "platforms[0]: unknown platform 'linux-46' (did you mean 'linux-64'?)",
                "category: expected a name, got int",
                "pip-repositories[0]: 'ftp://u:***@host/simple' is not an index URL",
                "allow-pypi-requests: expected true or false, got str",
            ],
            id="every-bad-value-at-once-password-hidden",
        ),
        pytest.param(
            {"platforms": "linux-64", "dependencies": ["python"]},
            ["platforms: expected a list of strings, got str"],
            id="platforms-not-a-list",
        ),
    ],
)
def test_bad_conda_lock_values_are_all_reported(doc: dict[str, Any], messages: list[str]) -> None:
    data = {
        "name": "c",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "environments": {"payload": {"prefix": "/opt/payload", "file": "env.yml"}},
    }
    with pytest.raises(CompositionError) as info:
        parse_composition(data, source="envs/c.yaml", files={"env.yml": doc})
    found = [f"{p.key}: {p.message}" for p in info.value.problems]
    assert found == messages
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("file", "message"),
    [
        pytest.param([], r"payload.file: expected a file name or a list of them", id="empty-list"),
        pytest.param(["a.yml", "a.yml"], r"'a.yml' is listed twice", id="twice"),
        pytest.param(["a.yml", 3], r"expected a file name or a list of them, got list", id="int"),
    ],
)
def test_bad_file_lists_are_refused(file: object, message: str) -> None:
    data = {
        "name": "c",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "environments": {"payload": {"prefix": "/opt/payload", "file": file}},
    }
    with pytest.raises(CompositionError, match=message):
        parse_composition(data, source="envs/c.yaml", files={"a.yml": {"dependencies": ["python"]}})


def test_channel_alias_does_not_move_the_default_channels() -> None:
    from twinlock.spec.config import alias_mirrors

    channels = [Channel.from_string("conda-forge"), *Channel.defaults()]
    assert alias_mirrors(channels, "https://mirror.example.org/conda") == {
        "https://conda.anaconda.org/conda-forge": "https://mirror.example.org/conda/conda-forge"
    }
