"""Layered environments in a composition: how a layer is completed, and every bad form."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from tests.conftest import REPO
from twinlock.errors import CompositionError
from twinlock.lock.assemble import expected_shell
from twinlock.lock.check import check_freshness
from twinlock.lock.format import parse_conda_lock
from twinlock.model.composition import Channel, Composition, Requirement
from twinlock.model.inputs import explicit_pins_digest, pins_digest
from twinlock.spec.parse import parse_composition


def layered(**layer: Any) -> dict[str, Any]:
    """lab + payload (a kernel) + a layer 'extras' with *layer*'s keys."""
    return {
        "name": "rsp",
        "channels": ["conda-forge"],
        "platforms": ["linux-64", "osx-arm64"],
        "environments": {
            "lab": {"prefix": "/opt/lab", "requirements": ["python 3.12.*", "jupyterlab"]},
            "payload": {
                "prefix": "/opt/payload",
                "platforms": ["linux-64"],
                "requirements": [
                    "python 3.11.*",
                    {"spec": "numpy 1.26.*", "requested-by": "pipelines"},
                ],
                "kernel": {"name": "lsst", "display-name": "LSST", "lab": "lab"},
            },
            "extras": {"extends": "payload", "requirements": ["healpy"], **layer},
        },
    }


def parse(data: dict[str, Any]) -> Composition:
    return parse_composition(data, source="envs/rsp.yaml")


def test_a_layer_is_completed_from_its_base() -> None:
    comp = parse(layered(prefix="/opt/extras"))
    extras = comp.environment("extras")
    assert extras.extends == "payload" and not extras.same_prefix
    assert extras.platforms == ("linux-64",)  # the base's, not the composition's
    assert extras.channels == (Channel.from_string("conda-forge"),)
    assert extras.specs == ("python 3.11.*", "numpy 1.26.*", "healpy")
    assert extras.additions == (Requirement("healpy"),)
    # provenance of the base's requirements travels with them
    assert extras.requirements[1].requested_by == "pipelines"
    assert comp.base_of(extras) == comp.environment("payload")
    assert comp.layers_of("payload") == (extras,)


def test_prefix_same_takes_the_base_prefix() -> None:
    comp = parse(layered(prefix="same"))
    extras = comp.environment("extras")
    assert extras.same_prefix and extras.prefix == "/opt/payload"


def test_a_layer_on_a_layer_sees_its_base_complete() -> None:
    data = layered(prefix="same")
    data["environments"]["more"] = {
        "extends": "extras",
        "prefix": "/opt/more",
        "requirements": ["tqdm"],
    }
    comp = parse(data)
    assert comp.environment("more").specs == ("python 3.11.*", "numpy 1.26.*", "healpy", "tqdm")
    assert [e.name for e in comp.layers_of("payload")] == ["extras", "more"]


def _two_same(data: dict[str, Any]) -> dict[str, Any]:
    data["environments"]["more"] = {"extends": "payload", "prefix": "same", "requirements": ["x"]}
    return data


def _cycle(data: dict[str, Any]) -> dict[str, Any]:
    data["environments"]["payload"]["extends"] = "extras"
    return data


def _pypi_only_base(data: dict[str, Any]) -> dict[str, Any]:
    data["environments"]["payload"] = {
        "prefix": "/opt/payload",
        "python": "3.12",
        "pypi": ["rich"],
    }
    return data


def _same(data: dict[str, Any]) -> dict[str, Any]:
    return data


@pytest.mark.parametrize(
    ("layer", "change", "message"),
    [
        pytest.param(
            {"extends": "paylod", "prefix": "/opt/x"},
            _same,
            r"extras\.extends: no environment named 'paylod' \(did you mean 'payload'\?\)",
            id="unknown-base-near-miss",
        ),
        pytest.param(
            {"prefix": "/opt/x"},
            _cycle,
            r"layers form a cycle: (extras -> payload -> extras|payload -> extras -> payload)",
            id="cycle",
        ),
        pytest.param(
            {"extends": "extras", "prefix": "/opt/x"},
            _same,
            r"layers form a cycle: extras -> extras",
            id="extends-itself",
        ),
        pytest.param(
            {"prefix": "/opt/x", "platforms": ["linux-64", "osx-arm64"]},
            _same,
            r"extras\.platforms: osx-arm64 not among the platforms of its base 'payload'",
            id="platform-beyond-base",
        ),
        pytest.param(
            {"prefix": "/opt/x", "channels": ["bioconda"]},
            _same,
            r"extras\.channels: lacks conda-forge, where the pins of its base 'payload' come from",
            id="channels-lack-base",
        ),
        pytest.param(
            {"extends": None, "prefix": "same"},
            _same,
            r"extras\.prefix: 'prefix: same' needs a base",
            id="same-without-extends",
        ),
        pytest.param(
            {"extends": 3, "prefix": "/opt/x"},
            _same,
            r"extras\.extends: expected an environment name, got int",
            id="extends-not-a-name",
        ),
        pytest.param(
            {"prefix": "same"},
            _two_same,
            r"'extras' and 'more' both stack on 'payload' in its prefix",
            id="two-same-prefix-layers",
        ),
        pytest.param(
            {"prefix": "same", "pypi": ["rich"]},
            _same,
            r"extras\.pypi: 'extras' shares the prefix of 'payload'",
            id="same-prefix-pypi",
        ),
        pytest.param(
            {"prefix": "same", "kernel": {"name": "x", "display-name": "X", "lab": "lab"}},
            _same,
            r"extras\.kernel: 'extras' shares the prefix of 'payload', whose kernel",
            id="second-kernel-for-one-prefix",
        ),
        pytest.param(
            {"prefix": "/opt/x"},
            _pypi_only_base,
            r"'payload' is PyPI-only \(python:\): a layer holds conda pins",
            id="pypi-only-base",
        ),
        pytest.param(
            {"prefix": "/opt/payload/extras"},
            _same,
            r"'payload' \(/opt/payload\) and 'extras' \(/opt/payload/extras\) have nested",
            id="own-prefix-still-separate",
        ),
    ],
)
def test_bad_layers_are_rejected(layer: dict[str, Any], change: Any, message: str) -> None:
    data = change(layered(**layer))
    if data["environments"]["extras"].get("extends") is None:
        data["environments"]["extras"].pop("extends")
    with pytest.raises(CompositionError, match=message) as caught:
        parse(data)
    assert all(p.hint for p in caught.value.problems)


def test_an_invalid_base_is_reported_once_not_as_missing() -> None:
    data = layered(prefix="/opt/extras")
    data["environments"]["payload"] = ["python 3.11.*"]  # a list, not a mapping
    with pytest.raises(CompositionError) as caught:
        parse(data)
    assert [p.key for p in caught.value.problems] == ["environments.payload"]


def test_every_layer_problem_is_reported_at_once() -> None:
    data = layered(prefix="same", platforms=["osx-arm64"], pypi=["rich"])
    with pytest.raises(CompositionError) as caught:
        parse(data)
    text = str(caught.value)
    assert re.search(r"2 problems", text), text
    assert "osx-arm64 not among the platforms" in text and "extras.pypi" in text


def test_a_mistyped_same_prefix_hints_at_layers() -> None:
    with pytest.raises(CompositionError) as caught:
        parse(layered(prefix="SAME"))
    (problem,) = caught.value.problems
    assert problem.key == "environments.extras.prefix"
    assert "'same' in a layer with extends" in problem.hint


def test_check_reports_a_layer_whose_base_has_no_lock() -> None:
    comp = parse(layered(prefix="/opt/extras"))
    shell = expected_shell(comp, comp.environment("extras"), ())
    findings = check_freshness(comp, {"extras": shell}, {})
    assert [(f.environment, f.kind, f.detail) for f in findings if f.environment != "lab"] == [
        ("payload", "missing", "no lock file; run twinlock lock"),
        ("extras", "stale", "its base 'payload' has no lock"),
    ]


def test_the_base_pin_digest_is_the_digest_of_its_explicit_lines() -> None:
    lock = parse_conda_lock(
        (REPO / "locks" / "rsp" / "payload.conda-lock.yml").read_text(), source="payload"
    )
    plat = lock.platform("linux-64")
    assert plat is not None
    text = (REPO / "locks" / "rsp" / "payload-linux-64.explicit.txt").read_text()
    body = text.partition("@EXPLICIT\n")[2].splitlines()
    assert pins_digest(plat) == explicit_pins_digest(body)
    # one moved pin changes it
    moved = replace(plat, packages=plat.packages[1:])
    assert pins_digest(moved) != pins_digest(plat)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        pytest.param("/opt/extras", ("astropy-healpix>=1", "rich"), id="own-prefix-inherits"),
        pytest.param("same", (), id="same-prefix-leaves-it-to-the-base"),
    ],
)
def test_the_base_pypi_layer_in_a_layer(prefix: str, expected: tuple[str, ...]) -> None:
    data = layered(prefix=prefix)
    data["environments"]["payload"]["pypi"] = ["astropy-healpix>=1"]
    if prefix != "same":
        data["environments"]["extras"]["pypi"] = ["rich"]
    extras = parse(data).environment("extras")
    assert extras.pypi_specs == expected
