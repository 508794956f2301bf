"""Alignment clashes in the conflict report: a fake solver for the logic, the snapshot for
the claims, and the command line for what a maintainer reads."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import ProjectFactory
from twinlock.app.lock import run_lock
from twinlock.app.project import Project
from twinlock.cli.main import app
from twinlock.errors import AlignmentError
from twinlock.explain.alignment import explain_clash
from twinlock.explain.conflicts import explain_composition
from twinlock.explain.model import (
    AlignmentClash,
    ConflictAnalysis,
    ConflictsError,
    analysis_as_json,
)
from twinlock.explain.render import conflict_text
from twinlock.explain.search import SolveBudget
from twinlock.model.composition import Channel, Composition, Requirement
from twinlock.model.lock import LockedPackage
from twinlock.solve.adapter import SolveOutcome, SolveRequest
from twinlock.spec.parse import parse_composition


def _pkg(name: str, version: str) -> LockedPackage:
    return LockedPackage(name, version, "h_0", "linux-64", f"u/{name}", "c", "m")


VERSIONS = {"zlib": {"1.2", "1.3"}, "python": {"3.11", "3.12"}}


class ZlibSolver:
    """Each name has versions (``VERSIONS``, else 1.0; build h_0); the newest allowed wins.

    ``name X.*``, a ``name ==X h_0`` pin spec and a hard pin narrow a name;
    ``oldtool`` needs zlib 1.2, and so does ``py311tool`` under ``python 3.11.*``.
    """

    def solve_all(self, requests: Sequence[SolveRequest]) -> list[SolveOutcome]:
        return [self._one(r) for r in requests]

    def package_names(self, channels: Sequence[Channel], platform: str) -> frozenset[str]:
        return frozenset({"python", "zlib", "oldtool", "py311tool", "zz"})

    def _one(self, request: SolveRequest) -> SolveOutcome:
        names = {Requirement(s).name for s in request.specs} | {"zlib"}
        allowed = {n: set(VERSIONS.get(n, {"1.0"})) for n in names}
        for spec in request.specs:
            for name, versions in _allowed_by(spec, request.specs).items():
                allowed[name] &= versions
        for pin in request.pinned:
            allowed[pin.name] = allowed.get(pin.name, {pin.version}) & {pin.version}
        if not all(allowed.values()):
            return SolveOutcome(request, None, "no solution: " + ", ".join(request.specs), 0.0)
        packages = tuple(_pkg(n, max(v)) for n, v in sorted(allowed.items()))
        return SolveOutcome(request, packages, None, 0.0)


def _allowed_by(spec: str, specs: Sequence[str]) -> dict[str, set[str]]:
    if spec == "oldtool" or (spec == "py311tool" and "python 3.11.*" in specs):
        return {"zlib": {"1.2"}}
    name, _, version = spec.partition(" ")
    if version:
        return {name: {version.split()[0].removeprefix("==").removesuffix(".*")}}
    return {}


def twins(lab: list[str], payload: list[str], align: list[str] | None = None) -> Composition:
    data: dict[str, Any] = {
        "name": "twins",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "align": ["zlib"] if align is None else align,
        "environments": {
            "lab": {"prefix": "/opt/lab", "requirements": ["python 3.12.*", *lab]},
            "payload": {"prefix": "/opt/payload", "requirements": ["python 3.11.*", *payload]},
        },
    }
    return parse_composition(data, source="twins.yaml")


def _clash(lab: list[str], payload: list[str]) -> AlignmentClash:
    analysis = explain_composition(twins(lab, payload), ZlibSolver(), ZlibSolver())
    assert all(r.solvable for r in analysis.reports)
    (clash,) = analysis.alignment
    return clash


@pytest.mark.parametrize(
    ("lab", "payload", "refusals", "hint"),
    [
        pytest.param(
            ["zlib 1.3.*"],
            ["zlib 1.2.*"],
            {
                ("payload", "1.3 h_0"): [("zlib ==1.3 h_0", "zlib 1.2.*")],
                ("lab", "1.2 h_0"): [("zlib ==1.2 h_0", "zlib 1.3.*")],
            },
            "relax zlib 1.2.* (payload) or zlib 1.3.* (lab), or drop 'zlib' from 'align'",
            id="direct-requirements",
        ),
        pytest.param(
            ["zlib 1.3.*"],
            ["oldtool"],
            {
                ("payload", "1.3 h_0"): [("zlib ==1.3 h_0", "oldtool")],
                ("lab", "1.2 h_0"): [("zlib ==1.2 h_0", "zlib 1.3.*")],
            },
            "relax oldtool (payload) or zlib 1.3.* (lab)",
            id="through-a-dependency",
        ),
        pytest.param(
            ["zlib 1.3.*"],
            ["py311tool"],
            {
                ("payload", "1.3 h_0"): [("zlib ==1.3 h_0", "python 3.11.*", "py311tool")],
                ("lab", "1.2 h_0"): [("zlib ==1.2 h_0", "zlib 1.3.*")],
            },
            "relax python 3.11.* (payload) or py311tool (payload) or zlib 1.3.* (lab)",
            id="three-way-with-the-python-pin",
        ),
    ],
)
def test_clash_names_each_environments_clashing_requirements(
    lab: list[str],
    payload: list[str],
    refusals: dict[tuple[str, str], list[tuple[str, ...]]],
    hint: str,
) -> None:
    clash = _clash(lab, payload)
    assert (clash.package, clash.platform) == ("zlib", "linux-64")
    assert clash.pins == (("lab", "1.3 h_0"), ("payload", "1.2 h_0"))
    found = {(t.environment, t.candidate): [c.specs for c in t.conflicts] for t in clash.trials}
    assert found == refusals
    assert all(t.accepted is False and t.complete for t in clash.trials)
    assert hint in conflict_text(explain_composition(twins(lab, payload), *[ZlibSolver()] * 2))


def test_every_clash_is_reported_not_only_the_first() -> None:
    comp = twins(["zlib 1.3.*", "zz"], ["zlib 1.2.*", "zz"], align=["zlib", "python"])
    analysis = explain_composition(comp, ZlibSolver(), ZlibSolver())
    assert [c.package for c in analysis.alignment] == ["zlib", "python"]
    assert not analysis.ok
    python = analysis.alignment[1]
    assert "the environments pin different Pythons, or drop 'python'" in conflict_text(analysis)
    assert [t.accepted for t in python.trials] == [False, False]


def test_aligned_environments_leave_nothing_to_report() -> None:
    analysis = explain_composition(twins(["zlib"], ["oldtool"]), ZlibSolver(), ZlibSolver())
    assert analysis.alignment == () and analysis.ok
    assert "align: zlib can take one build in every environment" in conflict_text(analysis)


def test_a_pin_every_environment_accepts_points_at_relocking_together() -> None:
    # As when `lock --env lab` must meet payload's previous pin: lab would take it.
    error = AlignmentError("zlib", "linux-64", {"lab": "1.3 h_0", "payload": "1.2 h_0"}, [])
    comp = twins(["zlib"], ["oldtool"])
    clash = explain_clash(comp, error, SolveBudget(ZlibSolver(), 60, lambda: 0.0))
    accepted = {(t.environment, t.candidate): t.accepted for t in clash.trials}
    assert accepted == {("payload", "1.3 h_0"): False, ("lab", "1.2 h_0"): True}
    text = conflict_text(ConflictAnalysis((), (clash,)))
    assert "lab accepts zlib 1.2 h_0 with its own requirements" in text
    assert "lock the environments together (without --env)" in text


def test_time_limit_marks_trials_unknown_and_incomplete() -> None:
    error = AlignmentError("zlib", "linux-64", {"lab": "1.3 h_0", "payload": "1.2 h_0"}, [])
    ticks = itertools.count()
    budget = SolveBudget(ZlibSolver(), 0, lambda: float(next(ticks)))
    clash = explain_clash(twins(["zlib 1.3.*"], ["zlib 1.2.*"]), error, budget)
    # The first solve always runs (and fails); after it the budget is spent.
    assert [(t.accepted, t.complete) for t in clash.trials] == [(False, False), (None, False)]
    assert not clash.complete


def test_json_carries_the_clash() -> None:
    analysis = explain_composition(twins(["zlib 1.3.*"], ["oldtool"]), *[ZlibSolver()] * 2)
    data = analysis_as_json(analysis)
    assert data["aligned"] == ["zlib"]
    (clash,) = data["alignment"]
    assert clash["environments"] == ["lab", "payload"]
    assert clash["pins"] == {"lab": "1.3 h_0", "payload": "1.2 h_0"}
    assert clash["complete"] is True
    payload = clash["trials"][0]
    assert (payload["environment"], payload["candidate"], payload["accepted"]) == (
        "payload",
        "1.3 h_0",
        False,
    )
    assert payload["conflicts"][0]["specs"] == ["zlib ==1.3 h_0", "oldtool"]


# --- the real snapshot -------------------------------------------------------------------


def _real(
    make_project: ProjectFactory, lab: list[str], payload: list[str], align: list[str]
) -> Project:
    return make_project(
        {
            "name": "twins",
            "channels": ["conda-forge"],
            "platforms": ["linux-64"],
            "snapshot": "2026-10-01",
            "align": align,
            "environments": {
                "lab": {"prefix": "/opt/lab", "requirements": ["python 3.12.*", *lab]},
                "payload": {"prefix": "/opt/payload", "requirements": ["python 3.11.*", *payload]},
            },
        }
    )


@pytest.mark.slow
def test_real_lock_reports_the_clash_through_the_conflict_report(
    make_project: ProjectFactory,
) -> None:
    project = _real(make_project, ["libzlib 1.3.*"], ["libzlib 1.2.*"], ["libzlib"])
    with pytest.raises(
        ConflictsError, match="cannot align libzlib on linux-64 across lab and payload"
    ):
        run_lock(project, full=True)
    result = CliRunner().invoke(app, ["lock", str(project.composition_path)])
    assert result.exit_code == 1
    report = result.stderr
    assert "align libzlib on linux-64: no single build fits lab and payload" in report
    assert "payload refuses libzlib 1.3." in report and "lab refuses libzlib 1.2." in report
    assert "relax libzlib 1.2.* (payload) or libzlib 1.3.* (lab)" in report
    assert "nothing was written" in report
    assert not project.paths.directory.exists()


@pytest.mark.slow
def test_real_explain_finds_both_clashes_and_the_python_tie(make_project: ProjectFactory) -> None:
    project = _real(
        make_project,
        ["numpy", "libzlib 1.3.*"],
        ["numpy", "libzlib 1.2.*"],
        ["libzlib", "numpy", "ca-certificates"],
    )
    result = CliRunner().invoke(app, ["explain", str(project.composition_path), "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert [r["solvable"] for r in data["reports"]] == [True, True]
    libzlib, numpy = data["alignment"]
    assert (libzlib["package"], numpy["package"]) == ("libzlib", "numpy")
    # numpy builds are per Python ABI: each environment refuses the other's build
    # because of its own interpreter pin.
    pins = numpy["pins"]
    assert pins["lab"].split()[1].startswith("py312") and pins["payload"].split()[1].startswith(
        "py311"
    )
    refusing = {t["environment"]: t["conflicts"][0]["specs"][1] for t in numpy["trials"]}
    assert refusing == {"payload": "python 3.11.*", "lab": "python 3.12.*"}
    text = CliRunner().invoke(app, ["explain", str(project.composition_path)]).stdout
    assert "numpy builds are tied to each environment's Python" in text


def test_alignment_is_not_claimed_when_nothing_was_compared() -> None:
    comp = twins(["zlib"], ["oldtool"])
    analysis = explain_composition(comp, ZlibSolver(), ZlibSolver(), targets=[("lab", "linux-64")])
    assert analysis.aligned == () and "align:" not in conflict_text(analysis)
