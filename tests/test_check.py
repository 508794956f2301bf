"""Freshness reasons and dependency consistency of locks (pure, no solving)."""

from __future__ import annotations

import dataclasses

import pytest

from twinlock.lock.check import (
    check_freshness,
    cross_environment_findings,
    misalignment_findings,
    unmet_dependencies,
)
from twinlock.model.inputs import SolveInputs
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock
from twinlock.model.platforms import VirtualPackage, virtual_packages_for
from twinlock.spec.parse import parse_composition

CF = "https://conda.anaconda.org/conda-forge"


def pkg(name: str, version: str, build: str = "0", *depends: str) -> LockedPackage:
    return LockedPackage(
        name, version, build, "linux-64", f"{CF}/linux-64/{name}.conda", CF, "0" * 32, None, depends
    )


def platform_lock(*packages: LockedPackage) -> PlatformLock:
    return PlatformLock.create("linux-64", "x", virtual_packages_for("linux-64"), packages)


@pytest.mark.parametrize(
    ("packages", "expected"),
    [
        pytest.param(
            [pkg("numpy", "1.26.4", "py311_0", "python >=3.11,<3.12"), pkg("python", "3.11.9")],
            [],
            id="satisfied",
        ),
        pytest.param(
            [pkg("numpy", "1.26.4", "py311_0", "python >=3.11,<3.12"), pkg("python", "3.12.1")],
            ["numpy 1.26.4 needs 'python >=3.11,<3.12': locked 3.12.1 0"],
            id="wrong-version",
        ),
        pytest.param(
            [pkg("numpy", "1.26.4", "py311_0", "libblas >=3.9")],
            ["numpy 1.26.4 needs 'libblas >=3.9': not in the lock"],
            id="missing",
        ),
        pytest.param(
            [
                pkg("numpy", "1", "0", "python_abi 3.11.* *_cp311"),
                pkg("python_abi", "3.11", "5_cp312"),
            ],
            ["numpy 1 needs 'python_abi 3.11.* *_cp311': locked 3.11 5_cp312"],
            id="wrong-build",
        ),
        pytest.param([pkg("libzlib", "1.3", "0", "__glibc >=2.17")], [], id="virtual-ok"),
        pytest.param(
            [pkg("libzlib", "1.3", "0", "__glibc >=2.34")],
            ["libzlib 1.3 needs '__glibc >=2.34': locked 2.28 0"],
            id="virtual-too-old",
        ),
    ],
)
def test_unmet_dependencies(packages: list[LockedPackage], expected: list[str]) -> None:
    assert unmet_dependencies(platform_lock(*packages)) == expected


COMPOSITION = {
    "name": "demo",
    "channels": ["conda-forge"],
    "platforms": ["linux-64"],
    "environments": {
        "payload": {"prefix": "/opt/payload", "requirements": ["python 3.11.*", "numpy"]}
    },
}


def test_inputs_hash_ignores_requirement_order_but_not_channel_order() -> None:
    base = SolveInputs(
        "e", "linux-64", ("a", "b"), (CF, "x"), None, (VirtualPackage("__unix", "0"),)
    )
    assert base.digest() == dataclasses.replace(base, specs=("b", "a")).digest()
    assert base.digest() != dataclasses.replace(base, channels=("x", CF)).digest()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # the lock was made from these older inputs; the composition has the current ones
        pytest.param({"specs": ("python 3.11.*",)}, "requirement added: numpy", id="added"),
        pytest.param(
            {"specs": ("python 3.11.*", "numpy", "scipy")},
            "requirement removed: scipy",
            id="removed",
        ),
        pytest.param(
            {"snapshot": "2025-01-01T00:00:00Z"},
            "snapshot changed: 2025-01-01T00:00:00Z -> None",
            id="snapshot",
        ),
        pytest.param(
            {"channels": ("https://example.org/chan",)}, "channels changed", id="channels"
        ),
        pytest.param({"virtual_packages": ()}, "virtual packages changed", id="virtual"),
    ],
)
def test_staleness_names_the_changed_input(change: dict[str, object], reason: str) -> None:
    comp = parse_composition(COMPOSITION, source="envs/demo.yaml")
    env = comp.environment("payload")
    now = SolveInputs.for_environment(comp, env, "linux-64")
    old = dataclasses.replace(now, **change)  # type: ignore[arg-type]
    assert any(r.startswith(reason) for r in now.changes_since(old))


def test_missing_lock_is_reported() -> None:
    comp = parse_composition(COMPOSITION, source="envs/demo.yaml")
    findings = check_freshness(comp, {}, {})
    assert [(f.environment, f.kind) for f in findings] == [("payload", "missing")]


def _env_lock(env: str, *packages: LockedPackage) -> EnvironmentLock:
    return EnvironmentLock("demo", env, f"/opt/{env}", (CF,), (), (platform_lock(*packages),))


@pytest.mark.parametrize(
    ("lab_openssl", "expected"),
    [
        pytest.param("3.5.0", [], id="aligned"),
        pytest.param(
            "3.4.1",
            ["openssl is aligned but pinned differently: lab 3.4.1 0, payload 3.5.0 0"],
            id="hand-edited-misalignment",
        ),
    ],
)
def test_misaligned_packages_are_findings(lab_openssl: str, expected: list[str]) -> None:
    comp = parse_composition(
        {
            **COMPOSITION,
            "align": ["openssl"],
            "environments": {
                "lab": {"prefix": "/opt/lab", "requirements": ["python"]},
                "payload": {"prefix": "/opt/payload", "requirements": ["python"]},
            },
        },
        source="envs/demo.yaml",
    )
    locks = {
        "lab": _env_lock("lab", pkg("openssl", lab_openssl)),
        "payload": _env_lock("payload", pkg("openssl", "3.5.0")),
    }
    assert [f.detail for f in misalignment_findings(comp, locks)] == expected


def test_rebuild_style_findings_include_kernels_without_ipykernel() -> None:
    comp = parse_composition(
        {
            **COMPOSITION,
            "environments": {
                "lab": {"prefix": "/opt/lab", "requirements": ["python"]},
                "payload": {
                    "prefix": "/opt/payload",
                    "requirements": ["python"],
                    "kernel": {"name": "p", "display-name": "P", "lab": "lab"},
                },
            },
        },
        source="envs/demo.yaml",
    )
    locks = {
        "lab": _env_lock("lab", pkg("python", "3.12")),
        "payload": _env_lock("payload", pkg("python", "3.11")),
    }
    findings = cross_environment_findings(comp, locks)
    assert [f.kind for f in findings] == ["kernel"]
    assert "ipykernel" in findings[0].detail
