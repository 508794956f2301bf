"""Composition parsing: valid inputs become frozen values, invalid ones clear errors."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from twinlock.errors import CompositionError
from twinlock.model.composition import Channel, Requirement
from twinlock.model.platforms import KNOWN_PLATFORMS, PLATFORMS, VirtualPackage
from twinlock.pypi.plan import supported_platform
from twinlock.spec.environment_yml import parse_environment_file
from twinlock.spec.parse import parse_composition


def composition(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "rsp",
        "channels": ["conda-forge"],
        "platforms": ["linux-64", "osx-arm64"],
        "environments": {
            "lab": {"prefix": "/opt/lab", "requirements": ["python 3.12.*", "jupyterlab >=4"]},
            "payload": {
                "prefix": "/opt/payload",
                "platforms": ["linux-64"],
                "file": "payload.yml",
            },
        },
    }
    base.update(overrides)
    return base


PAYLOAD_FILE = {"channels": ["conda-forge", "nodefaults"], "dependencies": ["python 3.11.*"]}


def parse(data: object, files: dict[str, object] | None = None) -> Any:
    return parse_composition(
        data,
        source="envs/rsp.yaml",
        files={"payload.yml": PAYLOAD_FILE} if files is None else files,
    )


def test_valid_composition_is_parsed_into_values() -> None:
    comp = parse(composition(snapshot=dt.date(2026, 9, 1)))
    lab, payload = comp.environments
    assert comp.name == "rsp"
    assert comp.channels == (Channel("conda-forge", "https://conda.anaconda.org/conda-forge"),)
    assert lab.platforms == ("linux-64", "osx-arm64")
    assert payload.platforms == ("linux-64",)
    assert payload.specs == ("python 3.11.*",)
    assert payload.sources == ("payload.yml",)
    assert comp.snapshot == dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    assert comp.snapshot_text() == "2026-09-01T00:00:00Z"


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        pytest.param("numpy>=1.26", Requirement("numpy>=1.26"), id="plain"),
        pytest.param("  numpy   >=1.26 ", Requirement("numpy >=1.26"), id="whitespace-folded"),
        pytest.param(
            {"spec": "astropy >=6", "requested-by": "pipelines", "reason": "units"},
            Requirement("astropy >=6", "pipelines", "units"),
            id="with-provenance",
        ),
        pytest.param(
            "conda-forge::numpy 1.26.*", Requirement("conda-forge::numpy 1.26.*"), id="channel"
        ),
    ],
)
def test_requirement_forms(requirement: object, expected: Requirement) -> None:
    comp = parse(
        composition(environments={"lab": {"prefix": "/opt/lab", "requirements": [requirement]}})
    )
    assert comp.environments[0].requirements == (expected,)


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        pytest.param("numpy >=1", "numpy", id="space"),
        pytest.param("NumPy>=1", "numpy", id="case-and-operator"),
        pytest.param("conda-forge::astropy", "astropy", id="channel"),
        pytest.param("libblas * *openblas", "libblas", id="build"),
        pytest.param("foo[version='>=1']", "foo", id="bracket"),
    ],
)
def test_requirement_name(spec: str, name: str) -> None:
    assert Requirement(spec).name == name


@pytest.mark.parametrize(
    ("system", "platform", "expected"),
    [
        pytest.param(
            None,
            "linux-64",
            {"__unix=0=0", "__linux=4.18=0", "__glibc=2.28=0", "__archspec=1=x86_64"},
            id="linux-defaults",
        ),
        pytest.param(
            {"libc": "2.34", "linux": "5.15"},
            "linux-aarch64",
            {"__unix=0=0", "__linux=5.15=0", "__glibc=2.34=0", "__archspec=1=aarch64"},
            id="linux-overridden",
        ),
        pytest.param(
            None, "osx-arm64", {"__unix=0=0", "__osx=11.0=0", "__archspec=1=m1"}, id="osx-defaults"
        ),
        pytest.param(
            {"osx-arm64": {"macos": "13.0"}, "cuda": "12.4"},
            "osx-arm64",
            {"__unix=0=0", "__osx=13.0=0", "__archspec=1=m1", "__cuda=12.4=0"},
            id="per-platform-and-cuda",
        ),
    ],
)
def test_virtual_packages(system: object, platform: str, expected: set[str]) -> None:
    data = composition() if system is None else composition(**{"system-requirements": system})
    comp = parse(data)
    assert {str(v) for v in comp.virtual_packages(platform)} == expected
    assert VirtualPackage.parse("__glibc=2.28=0") == VirtualPackage("__glibc", "2.28", "0")


@pytest.mark.parametrize(
    ("data", "files", "message"),
    [
        pytest.param([], None, r"expected a mapping", id="not-a-mapping"),
        pytest.param(
            composition(chanels=["conda-forge"]),
            None,
            r"unknown key 'chanels' \(did you mean 'channels'\?\)",
            id="unknown-top-key",
        ),
        pytest.param(
            composition(platforms=["linux-46"]),
            None,
            r"platforms\[0\]: unknown platform 'linux-46' \(did you mean 'linux-64'",
            id="unknown-platform",
        ),
        pytest.param(
            composition(
                environments={"lab": {"prefix": "/opt/lab", "requirements": ["numpy >=>1"]}}
            ),
            None,
            r"environments.lab.requirements\[0\]: invalid match spec 'numpy >=>1'",
            id="invalid-spec",
        ),
        pytest.param(
            composition(environments={"lab": {"prefix": "/opt/lab", "requirements": [">=1"]}}),
            None,
            r"invalid match spec '>=1': missing package name",
            id="nameless-spec",
        ),
        pytest.param(
            composition(),
            {},
            r"environments.payload.file: cannot read 'payload.yml'",
            id="missing-file",
        ),
        pytest.param(
            composition(
                environments={
                    "a": {"prefix": "/opt/lab", "requirements": ["python"]},
                    "b": {"prefix": "/opt/lab", "requirements": ["python"]},
                }
            ),
            None,
            r"'a' \(/opt/lab\) and 'b' \(/opt/lab\) share the prefix",
            id="duplicate-prefix",
        ),
        pytest.param(
            composition(
                environments={
                    "a": {"prefix": "/opt", "requirements": ["python"]},
                    "b": {"prefix": "/opt/payload", "requirements": ["python"]},
                }
            ),
            None,
            r"'a' \(/opt\) and 'b' \(/opt/payload\) have nested prefixes",
            id="nested-prefix",
        ),
        pytest.param(
            composition(environments={"lab": {"prefix": "opt/lab", "requirements": ["python"]}}),
            None,
            r"environments.lab.prefix: 'opt/lab' is not an absolute",
            id="relative-prefix",
        ),
        pytest.param(
            composition(environments={"lab": {"prefix": "/opt/lab"}}),
            None,
            r"give exactly one of 'requirements'",
            id="no-requirements",
        ),
        pytest.param(
            composition(
                environments={
                    "lab": {"prefix": "/opt/lab", "requirements": ["x"], "platforms": ["win-64"]}
                }
            ),
            None,
            r"'win-64' is not among the composition's platforms",
            id="platform-not-narrowing",
        ),
        pytest.param(
            composition(snapshot="last tuesday"), None, r"snapshot: cannot read", id="bad-snapshot"
        ),
        pytest.param(
            composition(**{"system-requirements": {"glibc": "2.28"}}),
            None,
            r"unknown key 'glibc'",
            id="bad-system-requirement",
        ),
        pytest.param(
            composition(),
            {"payload.yml": {"dependencies": ["python", {"pip": ["git+https://x.org/y"]}]}},
            r"envs/payload.yml: dependencies\[1\].pip\[0\]: cannot lock PyPI entry "
            r"'git\+https://x.org/y': a git reference has no hash to lock",
            id="pip-section-bad-entry",
        ),
        pytest.param(
            composition(name="my project"), None, r"name: missing or invalid name", id="bad-name"
        ),
        pytest.param(
            composition(channels=["conda forge"]),
            None,
            r"channels\[0\]: 'conda forge' is neither",
            id="bad-channel",
        ),
        pytest.param(
            composition(),
            {"payload.yml": {"channels": "conda-forge", "dependencies": ["python"]}},
            r"envs/payload.yml: channels: expected a list of strings, got str",
            id="env-file-channels-not-a-list",
        ),
        pytest.param(
            composition(**{"system-requirements": {"libc": 2}}),
            None,
            r"system-requirements.libc: '2' is not a version",
            id="libc-without-minor",
        ),
        pytest.param(
            composition(**{"system-requirements": {"linux-64": {"cuda": "12.x"}}}),
            None,
            r"system-requirements.linux-64.cuda: '12.x' is not a version",
            id="cuda-not-a-version",
        ),
    ],
)
def test_invalid_compositions(data: object, files: dict[str, object] | None, message: str) -> None:
    with pytest.raises(CompositionError, match=message):
        parse(data, files)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param(
            "linux_64", r"unknown platform 'linux_64' \(did you mean 'linux-64'", id="typo"
        ),
        pytest.param(
            "osx-arm46", r"unknown platform 'osx-arm46' \(did you mean 'osx-arm64'", id="digits"
        ),
        # Near no platform twinlock targets: the suggestion comes from rattler's list.
        pytest.param(
            "freebsd64",
            r"unknown platform 'freebsd64' \(did you mean 'freebsd-64'",
            id="rattler-near-miss",
        ),
        pytest.param(
            "linux-s390x",
            r"'linux-s390x' is a conda platform twinlock cannot target",
            id="conda-not-targeted",
        ),
        pytest.param("noarch", r"'noarch' is a conda platform twinlock cannot target", id="noarch"),
        pytest.param("amiga-68k", r"unknown platform 'amiga-68k'$", id="nothing-near"),
    ],
)
def test_platform_names_are_checked_against_rattlers_list(name: str, message: str) -> None:
    with pytest.raises(CompositionError) as info:
        parse(composition(platforms=["linux-64", name]))
    (problem,) = info.value.problems
    assert problem.key == "platforms[1]"
    assert re.search(message, problem.message), problem.message
    assert problem.hint.startswith("known platforms: linux-64, linux-aarch64")


def test_every_platform_twinlock_targets_is_a_conda_platform() -> None:
    import rattler

    assert set(KNOWN_PLATFORMS) <= {str(p) for p in rattler.Subdir.all()}
    # The PyPI layer locks wherever uv has a target, and the wheel tags need the architecture.
    assert all((p.uv_target is None) == (p.wheel_arch is None) for p in PLATFORMS.values())
    assert [p for p in KNOWN_PLATFORMS if supported_platform(p)] == [
        "linux-64",
        "linux-aarch64",
        "osx-64",
        "osx-arm64",
        "win-64",
    ]


def test_every_problem_is_collected_with_its_fix() -> None:
    bad = composition(
        platforms=["linux-46"],
        snapshot="soon",
        environments={"lab": {"prefix": "lab", "requirements": ["numpy >=>1"], "kernal": {}}},
    )
    with pytest.raises(CompositionError) as info:
        parse(bad)
    err = info.value
    keys = [p.key for p in err.problems]
    assert keys == [
        "platforms[0]",
        "snapshot",
        "environments.lab.kernal",
        "environments.lab.prefix",
        "environments.lab.requirements[0]",
    ]
    assert "5 problems in the composition" in err.message
    assert "fix: known platforms:" in err.message
    assert all(p.hint for p in err.problems)


def test_environment_file_channels_are_honoured() -> None:
    reqs, channels = parse_environment_file(
        {"channels": ["conda-forge/label/rc", "nodefaults"], "dependencies": ["numpy"]},
        source="env.yml",
    )
    assert reqs == (Requirement("numpy"),)
    assert channels == (
        Channel("conda-forge/label/rc", "https://conda.anaconda.org/conda-forge/label/rc"),
    )
