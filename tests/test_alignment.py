"""Alignment: ``align: [...]`` forces one build of a package across environments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from tests.conftest import ProjectFactory
from twinlock.app.check import run_check
from twinlock.app.lock import run_lock
from twinlock.app.lockreport import LockReport
from twinlock.errors import AlignmentError, CompositionError
from twinlock.lock.alignment import align_locks, misaligned
from twinlock.model.inputs import SolveInputs
from twinlock.model.lock import LockedPackage, PlatformLock
from twinlock.solve.adapter import SolveOutcome, SolveRequest
from twinlock.spec.parse import parse_composition


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


def _pins(report: LockReport, name: str) -> dict[str, tuple[str, str, str]]:
    out = {}
    for lock in report.result.locks:
        pkg = lock.platforms[0].package(name)
        assert pkg is not None
        out[lock.environment] = pkg.key
    return out


@pytest.mark.slow
def test_alignment_forces_one_build_across_pythons(make_project: ProjectFactory) -> None:
    # Unaligned, python 3.12 and 3.11 pull different libffi builds on the snapshot.
    unaligned = run_lock(make_project(_composition(None, LAB, PAYLOAD)), full=True)
    before = _pins(unaligned, "libffi")
    assert before["lab"] != before["payload"]

    project = make_project(_composition(["libffi"], LAB, PAYLOAD))
    report = run_lock(project, full=True)
    after = _pins(report, "libffi")
    assert after["lab"] == after["payload"]
    assert after["lab"] in before.values()
    pythons = _pins(report, "python")
    assert pythons["lab"][1].startswith("3.12") and pythons["payload"][1].startswith("3.11")
    # The written locks record the align list and are fresh.
    assert run_check(project) == []
    assert all(lock.align == ("libffi",) for lock in project.read_locks().values())


class _PinningSolver:
    """Fake solver: the request's packages with its hard pins substituted."""

    def __init__(self, refuse: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.refuse = refuse  # (environment, version) pairs that fail
        self.calls: list[tuple[str, str]] = []

    def solve_all(self, requests: Sequence[SolveRequest]) -> list[SolveOutcome]:
        out = []
        for r in requests:
            pins = {p.name: p for p in r.pinned}
            self.calls += [(r.environment, p.version) for p in r.pinned]
            if any((r.environment, p.version) in self.refuse for p in r.pinned):
                out.append(SolveOutcome(r, None, "refused", 0.0))
                continue
            packages = tuple(pins.get(p.name, p) for p in r.locked)
            out.append(SolveOutcome(r, packages, None, 0.01))
        return out


def _pkg(name: str, version: str, build: str = "h_0") -> LockedPackage:
    url = f"https://conda.anaconda.org/conda-forge/linux-64/{name}-{version}-{build}.conda"
    channel = "https://conda.anaconda.org/conda-forge"
    return LockedPackage(name, version, build, "linux-64", url, channel, "0" * 32)


def _plat(*packages: LockedPackage) -> PlatformLock:
    return PlatformLock.create("linux-64", "hash", (), packages)


def _request(env: str, platform: str) -> SolveRequest:
    return SolveRequest(env, platform, ("x",), (), ())


@pytest.mark.parametrize(
    ("fixed", "refuse", "expected"),
    [
        pytest.param(False, set(), "3.6.3", id="newest-held-pin-wins"),
        pytest.param(False, {("payload", "3.6.3")}, "3.5.0", id="falls-back-to-older"),
        pytest.param(True, set(), "3.5.0", id="fixed-env-decides"),
    ],
)
def test_align_locks_candidate_choice(
    fixed: bool, refuse: set[tuple[str, str]], expected: str
) -> None:
    lab = _plat(_pkg("openssl", "3.6.3"), _pkg("tzdata", "2026c"))
    payload = _plat(_pkg("openssl", "3.5.0"), _pkg("tzdata", "2026c"))
    locks = {("lab", "linux-64"): lab}
    frozen = {("payload", "linux-64"): payload}
    if not fixed:
        locks |= frozen
        frozen = {}
    solver = _PinningSolver(frozenset(refuse))
    aligned = align_locks(["openssl", "tzdata"], locks, _request, solver, fixed=frozen)
    final = {key: lock.package("openssl") for key, lock in (aligned.locks | frozen).items()}
    assert {pkg.version for pkg in final.values() if pkg} == {expected}
    # The agreeing aligned package is hard-pinned too, so settling openssl cannot move it.
    assert "2026c" in {version for _, version in solver.calls}
    assert misaligned(["openssl", "tzdata"], aligned.locks | frozen) == []


def test_align_locks_raises_naming_package_environments_and_refusals() -> None:
    # Explained through the conflict report by workflows (tests/test_alignment_report.py).
    locks = {
        ("lab", "linux-64"): _plat(_pkg("openssl", "3.6.3")),
        ("payload", "linux-64"): _plat(_pkg("openssl", "3.5.0")),
    }
    solver = _PinningSolver(frozenset({("payload", "3.6.3"), ("lab", "3.5.0")}))
    with pytest.raises(AlignmentError, match=r"cannot align 'openssl' on linux-64") as caught:
        align_locks(["openssl"], locks, _request, solver)
    error = caught.value
    assert error.pins == {"lab": "3.6.3 h_0", "payload": "3.5.0 h_0"}
    assert "payload cannot take openssl 3.6.3 h_0" in error.message
    assert "lab cannot take openssl 3.5.0 h_0" in error.message
