"""Lock planning with a fake solver: reuse, minimal updates, pins kept, failures."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import replace

import pytest

from twinlock.errors import TwinlockError, UnsolvableError
from twinlock.lock.plan import lock_composition, package_changes
from twinlock.model.composition import Composition
from twinlock.model.inputs import SolveInputs
from twinlock.model.lock import EnvironmentLock, LockedPackage
from twinlock.solve.adapter import SolveOutcome, SolveRequest
from twinlock.spec.parse import parse_composition

CF = "https://conda.anaconda.org/conda-forge"


def package(name: str, version: str) -> LockedPackage:
    return LockedPackage(
        name, version, "0", "noarch", f"{CF}/noarch/{name}-{version}-0.conda", CF, "0" * 32
    )


class FakeSolver:
    """Solves every request to the newest 'catalogue' version unless a pin is preferred."""

    def __init__(self, catalogue: dict[str, str], unsolvable: frozenset[str] = frozenset()) -> None:
        self.catalogue = catalogue
        self.unsolvable = unsolvable
        self.requests: list[SolveRequest] = []

    def solve_all(self, requests: Sequence[SolveRequest]) -> list[SolveOutcome]:
        self.requests += requests
        return [self._solve(r) for r in requests]

    def _solve(self, request: SolveRequest) -> SolveOutcome:
        if request.environment in self.unsolvable:
            return SolveOutcome(request, None, "nothing provides foo", 0.01)
        preferred = {p.name: p for p in request.locked}
        names = [spec.split()[0] for spec in request.specs]
        packages = tuple(
            preferred.get(name) or package(name, self.catalogue.get(name, "1.0")) for name in names
        )
        return SolveOutcome(request, packages, None, 0.01)


def make_composition(**changes: object) -> Composition:
    data: dict[str, object] = {
        "name": "demo",
        "channels": ["conda-forge"],
        "platforms": ["linux-64", "osx-arm64"],
        "environments": {
            "lab": {"prefix": "/opt/lab", "requirements": ["python 3.12.*", "jupyterlab"]},
            "payload": {
                "prefix": "/opt/payload",
                "platforms": ["linux-64"],
                "requirements": ["python 3.11.*", "numpy", "astropy"],
            },
        },
    }
    data.update(changes)
    return parse_composition(data, source="envs/demo.yaml")


SOURCES = {"lab": ("envs/demo.yaml",), "payload": ("envs/demo.yaml",)}


def first_lock(comp: Composition, catalogue: dict[str, str]) -> dict[str, EnvironmentLock]:
    result = lock_composition(comp, {}, FakeSolver(catalogue), sources=SOURCES)
    return {lock.environment: lock for lock in result.locks}


def test_first_lock_solves_every_environment_x_platform() -> None:
    solver = FakeSolver({"numpy": "1.26"})
    result = lock_composition(make_composition(), {}, solver, sources=SOURCES)
    assert [(s.environment, s.platform, s.action) for s in result.summaries] == [
        ("lab", "linux-64", "solved"),
        ("lab", "osx-arm64", "solved"),
        ("payload", "linux-64", "solved"),
    ]
    payload = result.locks[1].platform("linux-64")
    assert payload is not None
    assert (
        payload.input_hash
        == SolveInputs.for_environment(
            make_composition(), make_composition().environment("payload"), "linux-64"
        ).digest()
    )


def test_unchanged_inputs_are_reused_without_solving() -> None:
    comp = make_composition()
    previous = first_lock(comp, {"numpy": "1.26"})
    solver = FakeSolver({"numpy": "2.0"})
    result = lock_composition(comp, previous, solver, sources=SOURCES)
    assert solver.requests == []
    assert {s.action for s in result.summaries} == {"reused"}
    assert {lock.environment: lock for lock in result.locks} == previous


def test_update_moves_only_the_named_package() -> None:
    comp = make_composition()
    previous = first_lock(comp, {"numpy": "1.26", "astropy": "6.0"})
    solver = FakeSolver({"numpy": "2.0", "astropy": "7.0"})
    result = lock_composition(
        comp, previous, solver, sources=SOURCES, environments=["payload"], update=["numpy"]
    )
    # the solve keeping the other pins, then one without preferences: did a pin hold numpy?
    request, probe = solver.requests
    assert {p.name for p in request.locked} == {"python", "astropy"}
    assert probe == replace(request, locked=())
    (summary,) = result.summaries
    assert [(c.name, c.old, c.new) for c in summary.changes] == [("numpy", "1.26 0", "2.0 0")]
    assert result.held_back == ()  # numpy reached the newest version anyway


def test_editing_requirements_keeps_previous_pins() -> None:
    previous = first_lock(make_composition(), {"numpy": "1.26"})
    edited = make_composition(
        environments={
            "lab": {"prefix": "/opt/lab", "requirements": ["python 3.12.*", "jupyterlab"]},
            "payload": {
                "prefix": "/opt/payload",
                "platforms": ["linux-64"],
                "requirements": ["python 3.11.*", "numpy", "astropy", "scipy"],
            },
        }
    )
    solver = FakeSolver({"numpy": "2.0"})
    result = lock_composition(edited, previous, solver, sources=SOURCES)
    (request,) = solver.requests
    assert request.environment == "payload"
    assert {p.name: p.version for p in request.locked}["numpy"] == "1.26"
    changes = next(s for s in result.summaries if s.environment == "payload").changes
    assert [c.name for c in changes] == ["scipy"]


def test_snapshot_change_solves_afresh() -> None:
    previous = first_lock(make_composition(), {"numpy": "1.26"})
    solver = FakeSolver({"numpy": "2.0"})
    lock_composition(make_composition(snapshot="2026-10-01"), previous, solver, sources=SOURCES)
    assert len(solver.requests) == 3
    assert all(r.locked == () for r in solver.requests)


def test_full_ignores_previous_locks() -> None:
    comp = make_composition()
    previous = first_lock(comp, {"numpy": "1.26"})
    solver = FakeSolver({"numpy": "2.0"})
    lock_composition(comp, previous, solver, sources=SOURCES, full=True)
    assert len(solver.requests) == 3 and all(r.locked == () for r in solver.requests)


def test_unsolvable_names_environment_and_platform() -> None:
    solver = FakeSolver({}, unsolvable=frozenset({"payload"}))
    with pytest.raises(UnsolvableError, match="cannot solve payload on linux-64") as info:
        lock_composition(make_composition(), {}, solver, sources=SOURCES)
    assert info.value.exit_code == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param(
            "numpi", r"--update numpi: no such package .* \(did you mean 'numpy'\?\)", id="typo"
        ),
        pytest.param(
            "pandas", r"--update pandas: no such package in the locks of payload", id="absent"
        ),
    ],
)
def test_update_of_unknown_package_is_an_error(name: str, message: str) -> None:
    comp = make_composition()
    previous = first_lock(comp, {})
    with pytest.raises(TwinlockError, match=message):
        lock_composition(
            comp, previous, FakeSolver({}), sources=SOURCES, environments=["payload"], update=[name]
        )


def test_package_changes_lists_added_removed_and_moved() -> None:
    comp = make_composition()
    old = first_lock(comp, {"numpy": "1.26"})["payload"].platforms[0]
    new = dataclasses.replace(
        old,
        packages=tuple(
            sorted(
                [p for p in old.packages if p.name != "astropy"]
                + [package("scipy", "1.14")]
                + [package("numpy", "2.0")]
            )
        ),
    )
    new = dataclasses.replace(
        new,
        packages=tuple(p for p in new.packages if not (p.name == "numpy" and p.version == "1.26")),
    )
    changes = {(c.name, c.old, c.new) for c in package_changes(old, new)}
    assert changes == {
        ("astropy", "1.0 0", None),
        ("scipy", None, "1.14 0"),
        ("numpy", "1.26 0", "2.0 0"),
    }
