"""Alignment: ``align: [...]`` forces one build of a package across environments."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import ProjectFactory
from twinlock import workflows
from twinlock.errors import AlignmentError, CompositionError
from twinlock.inputs import SolveInputs
from twinlock.parsing import parse_composition


def _composition(align: list[str] | None, lab: list[str], payload: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "twins",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "snapshot": "2026-10-01",
        "environments": {
            "lab": {"prefix": "/opt/lab", "requirements": lab},
            "payload": {"prefix": "/opt/payload", "requirements": payload},
        },
    }
    if align is not None:
        data["align"] = align
    return data


LAB = ["python 3.12.*"]
PAYLOAD = ["python 3.11.*"]


@pytest.mark.parametrize(
    ("align", "message"),
    [
        pytest.param("openssl", "expected a list of strings", id="not-a-list"),
        pytest.param(["openssl >=3"], "'openssl >=3' is not a package name", id="spec-not-name"),
        pytest.param(["tzdata", "TZDATA"], "'TZDATA' is listed twice", id="duplicate"),
    ],
)
def test_align_is_validated(align: object, message: str) -> None:
    data = _composition(None, LAB, PAYLOAD) | {"align": align}
    with pytest.raises(CompositionError, match=message):
        parse_composition(data, source="envs/twins.yaml")


def test_align_is_part_of_the_input_hash() -> None:
    plain = parse_composition(_composition(None, LAB, PAYLOAD), source="x.yaml")
    aligned = parse_composition(_composition(["libffi"], LAB, PAYLOAD), source="x.yaml")
    assert aligned.align == ("libffi",)
    env = plain.environment("lab")
    before = SolveInputs.for_environment(plain, env, "linux-64")
    after = SolveInputs.for_environment(aligned, aligned.environment("lab"), "linux-64")
    assert before.digest() != after.digest()
    assert after.changes_since(before) == ["align changed: [] -> ['libffi']"]


def _pins(report: workflows.LockReport, name: str) -> dict[str, tuple[str, str, str]]:
    out = {}
    for lock in report.result.locks:
        pkg = lock.platforms[0].package(name)
        assert pkg is not None
        out[lock.environment] = pkg.key
    return out


@pytest.mark.slow
def test_alignment_forces_one_build_across_pythons(make_project: ProjectFactory) -> None:
    # Unaligned, python 3.12 and 3.11 pull different libffi builds on the snapshot.
    unaligned = workflows.run_lock(make_project(_composition(None, LAB, PAYLOAD)), full=True)
    before = _pins(unaligned, "libffi")
    assert before["lab"] != before["payload"]

    project = make_project(_composition(["libffi"], LAB, PAYLOAD))
    report = workflows.run_lock(project, full=True)
    after = _pins(report, "libffi")
    assert after["lab"] == after["payload"]
    assert after["lab"] in before.values()
    pythons = _pins(report, "python")
    assert pythons["lab"][1].startswith("3.12") and pythons["payload"][1].startswith("3.11")
    # The written locks record the align list and are fresh.
    assert workflows.run_check(project) == []
    assert all(lock.align == ("libffi",) for lock in project.read_locks().values())


@pytest.mark.slow
def test_alignment_clash_names_environments_and_package(make_project: ProjectFactory) -> None:
    project = make_project(
        _composition(["libzlib"], [*LAB, "libzlib 1.3.*"], [*PAYLOAD, "libzlib 1.2.*"])
    )
    with pytest.raises(AlignmentError, match=r"cannot align 'libzlib' on linux-64") as caught:
        workflows.run_lock(project, full=True)
    message = caught.value.message
    assert "lab locks libzlib 1.3" in message and "payload locks libzlib 1.2" in message
    assert "payload cannot take libzlib 1.3" in message
    assert "lab cannot take libzlib 1.2" in message
    assert not project.paths.directory.exists()
