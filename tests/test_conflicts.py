"""Conflict reports: a fake solver for the logic, the real snapshot for the claims."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import DATA, ProjectFactory
from twinlock.app.explain import run_explain
from twinlock.app.lock import run_lock
from twinlock.app.project import Project
from twinlock.cli.main import app
from twinlock.explain.condense import mentions
from twinlock.explain.conflicts import close_names, explain_composition
from twinlock.explain.model import (
    ConflictAnalysis,
    ConflictReport,
    ConflictsError,
    analysis_as_json,
)
from twinlock.explain.render import conflict_text
from twinlock.model.composition import Channel, Composition, Requirement
from twinlock.model.lock import LockedPackage
from twinlock.solve.adapter import PackageIndex, SolveOutcome, SolveRequest
from twinlock.spec.parse import parse_composition

RUBIN_SPECS = DATA / "conflicts" / "rubin-env-9.0.0.rubin-env-nosysroot.linux-64.txt"
LAB = ["python 3.12.*", "jupyterlab >=4,<5", "jupyterhub-singleuser", "ipykernel", "nodejs"]


class FakeSolver:
    """Fails a request holding every spec of a conflict; solutions pin each name at 1.0
    (or *versions*[name])."""

    def __init__(
        self, conflicts: Sequence[set[str]], names: set[str], versions: dict[str, str]
    ) -> None:
        self.conflicts = [frozenset(c) for c in conflicts]
        self.names = frozenset(names)
        self.versions = versions

    def solve_all(self, requests: Sequence[SolveRequest]) -> list[SolveOutcome]:
        return [self._one(r) for r in requests]

    def _one(self, request: SolveRequest) -> SolveOutcome:
        for conflict in self.conflicts:
            if conflict <= set(request.specs):
                return SolveOutcome(request, None, " vs ".join(sorted(conflict)), 0.0)
        names = {Requirement(s).name for s in request.specs}
        if not names <= self.names:
            return SolveOutcome(request, None, "No candidates were found", 0.0)
        packages = tuple(
            LockedPackage(n, self.versions.get(n, "1.0"), "0", "noarch", "u", "c", "m")
            for n in sorted(names)
        )
        return SolveOutcome(request, packages, None, 0.0)

    def package_names(self, channels: Sequence[Channel], platform: str) -> frozenset[str]:
        return self.names


def composition(lab: list[str], payload: list[str]) -> Composition:
    data = {
        "name": "demo",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "environments": {
            "lab": {"prefix": "/opt/lab", "requirements": lab},
            "payload": {"prefix": "/opt/payload", "requirements": payload},
        },
    }
    return parse_composition(data, source="demo.yaml")


FAKE = FakeSolver(
    conflicts=[
        {"python 3.11.*", "newpkg >=2"},
        {"python 3.11.*", "newpkg >1.5"},  # so 1.5 is the newest that fits 3.11
        {"a >=1", "b >=1", "c >=1"},
    ],
    names={"python", "newpkg", "a", "b", "c", "jupyterlab", "numpy"},
    versions={"newpkg": "1.5", "python": "3.12.1"},
)


def fake_reports(payload: list[str], lab: list[str] | None = None) -> tuple[ConflictReport, ...]:
    comp = composition(lab or ["python 3.12.*", "jupyterlab"], payload)
    return explain_composition(comp, FAKE, FAKE).reports


def test_solvable_environments_are_reported_as_such() -> None:
    reports = fake_reports(["python 3.11.*", "numpy"])
    assert [(r.environment, r.solvable) for r in reports] == [("lab", True), ("payload", True)]


@pytest.mark.parametrize(
    ("spec", "suggestion"),
    [
        pytest.param("numpyy >=1", "numpy", id="typo"),
        pytest.param("jupyter-lab", "jupyterlab", id="dash"),
        pytest.param("zzzzzz", None, id="nothing-close"),
    ],
)
def test_absent_names_get_close_matches(spec: str, suggestion: str | None) -> None:
    payload = next(r for r in fake_reports(["python 3.11.*", spec]) if r.environment == "payload")
    assert [a.spec for a in payload.absent] == [spec]
    assert payload.absent[0].suggestions[:1] == ((suggestion,) if suggestion else ())
    assert payload.conflicts == ()


def test_python_pin_clash_hints_the_other_environment_and_the_newest_fit() -> None:
    payload = fake_reports(["python 3.11.*", "numpy", "newpkg >=2"])[1]
    (conflict,) = payload.conflicts
    assert conflict.specs == ("python 3.11.*", "newpkg >=2")
    pin, new = conflict.hints
    assert pin.fits == ()  # the interpreter pin is never suggested elsewhere
    assert [(f.environment, f.fits) for f in new.fits] == [("lab", True)]
    assert new.relaxation is not None
    assert (new.relaxation.version, new.relaxation.newest) == ("1.5", True)


def test_three_way_conflict_and_a_singleton_are_both_reported() -> None:
    payload = fake_reports(["python 3.11.*", "a >=1", "b >=1", "missing-x", "c >=1"])[1]
    assert [a.name for a in payload.absent] == ["missing-x"]
    assert [c.specs for c in payload.conflicts] == [("a >=1", "b >=1", "c >=1")]
    # Each spec of the triple solves with the lab's requirements.
    assert all(f.fits for h in payload.conflicts[0].hints for f in h.fits)


def test_time_limit_stops_the_search_and_says_so() -> None:
    ticks = iter(range(1000))
    comp = composition(
        ["python 3.12.*"], ["python 3.11.*", "newpkg >=2", "a >=1", "b >=1", "c >=1"]
    )
    (payload,) = explain_composition(
        comp, FAKE, FAKE, targets=[("payload", "linux-64")], time_limit=3, clock=lambda: next(ticks)
    ).reports
    assert not payload.complete
    assert len(payload.conflicts) < 2


# The keys of version 1 as first released: later versions of twinlock only add keys.
V1_REPORT = {"environment", "platform", "solvable", "complete", "time_limit", "seconds"}
V1_REPORT |= {"solves", "absent", "conflicts"}
V1_CONFLICT = {"specs", "explanation", "solver_message", "hints"}
V1_HINT = {"spec", "fits", "relaxation"}


def test_json_shape_is_stable() -> None:
    comp = composition(["python 3.12.*", "jupyterlab"], ["python 3.11.*", "newpkg >=2", "numpyy"])
    data = analysis_as_json(explain_composition(comp, FAKE, FAKE))
    assert data["version"] == 1
    assert (data["alignment"], data["alignment_complete"]) == ([], True)
    lab, payload = data["reports"]
    assert lab == {
        "environment": "lab",
        "platform": "linux-64",
        "solvable": True,
        "complete": True,
        "time_limit": 60.0,
        "seconds": 0.0,
        "solves": 0,
        "unexplored": [],
        "absent": [],
        "conflicts": [],
    }
    assert set(payload) >= V1_REPORT
    assert payload["absent"] == [{"spec": "numpyy", "name": "numpyy", "suggestions": ["numpy"]}]
    (conflict,) = payload["conflicts"]
    assert set(conflict) >= V1_CONFLICT
    assert all(set(hint) >= V1_HINT for hint in conflict["hints"])
    assert conflict["hints"] == [
        {
            "spec": "python 3.11.*",
            "fits": [],
            "belongs_in": [],
            "python_pin": True,
            "relaxation": None,
        },
        {
            "spec": "newpkg >=2",
            "fits": [{"environment": "lab", "fits": True}],
            "belongs_in": ["lab"],
            "python_pin": False,
            "relaxation": {"package": "newpkg", "version": "1.5", "newest": True},
        },
    ]


# --- the real snapshot -------------------------------------------------------------------


def real(make_project: ProjectFactory, payload: list[str], lab: list[str] = LAB) -> ConflictReport:
    project = make_project(
        {
            "name": "demo",
            "channels": ["conda-forge"],
            "platforms": ["linux-64"],
            "environments": {
                "lab": {"prefix": "/opt/lab", "requirements": lab},
                "payload": {"prefix": "/opt/payload", "requirements": payload},
            },
        }
    )
    (report,) = run_explain(project, environments=["payload"]).reports
    return report


def assert_minimal(make_project: ProjectFactory, report: ConflictReport) -> None:
    """Independently of the search: each conflict fails, each conflict minus one spec solves."""
    project = make_project(
        {
            "name": "check",
            "channels": ["conda-forge"],
            "platforms": ["linux-64"],
            "environments": {"e": {"prefix": "/e", "requirements": ["python"]}},
        }
    )
    template = SolveRequest.for_environment(
        project.composition, project.composition.environments[0], "linux-64"
    )
    sets = [c.specs for c in report.conflicts]
    sets += [tuple(s for s in c.specs if s != x) for c in report.conflicts for x in c.specs]
    outcomes = project.solver().solve_all([replace(template, specs=s) for s in sets if s])
    wholes, parts = outcomes[: len(report.conflicts)], outcomes[len(report.conflicts) :]
    assert not any(o.solved for o in wholes)
    assert all(o.solved for o in parts)


@pytest.mark.slow
def test_real_absent_name_with_suggestion(make_project: ProjectFactory) -> None:
    report = real(make_project, ["python 3.11.*", "jupyterhub-singleuserr", "numpy"])
    assert [a.name for a in report.absent] == ["jupyterhub-singleuserr"]
    assert "jupyterhub-singleuser" in report.absent[0].suggestions
    assert report.conflicts == ()


@pytest.mark.slow
def test_real_python_pin_clash_belongs_in_the_lab(make_project: ProjectFactory) -> None:
    # fitsio >=1.2.1 exists on this snapshot only for Python >= 3.12.
    report = real(make_project, ["python 3.11.*", "numpy", "fitsio >=1.2.1"])
    (conflict,) = report.conflicts
    assert conflict.specs == ("python 3.11.*", "fitsio >=1.2.1")
    assert any("python >=3.12" in line for line in conflict.explanation)
    assert [(f.environment, f.fits) for f in conflict.hints[1].fits] == [("lab", True)]


@pytest.mark.slow
def test_real_two_independent_conflicts(make_project: ProjectFactory) -> None:
    payload = ["python 3.11.*", "fitsio >=1.2.1", "coverage >=7.3.3", "coveralls >=1.8.0"]
    report = real(make_project, payload)
    assert sorted(c.specs for c in report.conflicts) == [
        ("coverage >=7.3.3", "coveralls >=1.8.0"),
        ("fitsio >=1.2.1", "coveralls >=1.8.0"),  # coveralls >=1.8.0 holds Python below 3.12
        ("python 3.11.*", "fitsio >=1.2.1"),
    ]
    coverage = report.conflicts[[c.specs[0] for c in report.conflicts].index("coverage >=7.3.3")]
    relaxed = coverage.hints[0].relaxation
    assert relaxed is not None and int(relaxed.version.split(".")[0]) < 7


@pytest.mark.slow
def test_real_three_way_conflict_where_each_pair_solves(make_project: ProjectFactory) -> None:
    # Python 3.11 leaves only nomkl builds of numexpr; pytorch >=2.1 (for 3.11) needs mkl.
    payload = ["python 3.11.*", "numexpr >=2.8.7,<3", "pytorch >=2.1.0"]
    report = real(make_project, payload)
    assert [c.specs for c in report.conflicts] == [tuple(payload)]
    assert_minimal(make_project, report)
    assert any("mkl" in line for line in report.conflicts[0].explanation)


@pytest.mark.slow
def test_real_rubin_env_9_lists_every_absent_name_and_says_what_it_did_not_explore(
    make_project: ProjectFactory,
) -> None:
    # Its specs hold 75 overlapping minimal conflicts (about a thousand solves to list them
    # all): within this time limit the search is cut short, and says where.
    specs = [line.split("#")[0].strip() for line in RUBIN_SPECS.read_text().splitlines()]
    project = make_project(demo_data(LAB, [s for s in specs if s]))
    (report,) = run_explain(project, environments=["payload"], time_limit=20).reports
    assert len(report.absent) == 46  # as ../shared/README.md says
    # Breadth first: the specs no build of which exists come first, each alone.
    singles = {c.specs[0] for c in report.conflicts if len(c.specs) == 1}
    assert {"pytest-runner >=6.0.0", "log4cxx 1.2.0.*", "healpy >=1.16.6"} <= singles
    assert len(singles) == 7
    assert len(report.conflicts) > 7
    assert_minimal(make_project, report)
    assert not report.complete and report.unexplored
    assert all(singles <= set(removal) for removal in report.unexplored)
    text = conflict_text(ConflictAnalysis((report,)))
    assert f"{len(report.unexplored)} set(s) of the requested specs not explored" in text
    # The specs every unexplored set lacks (the 7 with no build) are said once.
    assert "    each without pytest-runner >=6.0.0, " in text
    common = set.intersection(*(set(r) for r in report.unexplored))
    first = [s for s in report.unexplored[0] if s not in common or len(report.unexplored) == 1]
    assert f"    without {', '.join(first)}" in text


# --- the command line --------------------------------------------------------------------


def failing_project(make_project: ProjectFactory) -> Project:
    return make_project(
        {
            "name": "demo",
            "channels": ["conda-forge"],
            "platforms": ["linux-64"],
            "environments": {
                "lab": {"prefix": "/opt/lab", "requirements": LAB},
                "payload": {
                    "prefix": "/opt/payload",
                    "requirements": ["python 3.11.*", "fitsio >=1.2.1", "numpyy"],
                },
            },
        }
    )


@pytest.mark.slow
def test_cli_explain_json(make_project: ProjectFactory) -> None:
    project = failing_project(make_project)
    result = CliRunner().invoke(app, ["explain", str(project.composition_path), "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    lab, payload = data["reports"]
    assert lab["solvable"] and not payload["solvable"]
    assert payload["absent"][0]["suggestions"][0] == "numpy"
    assert payload["conflicts"][0]["specs"] == ["python 3.11.*", "fitsio >=1.2.1"]


@pytest.mark.slow
def test_cli_lock_prints_the_report_and_writes_nothing(make_project: ProjectFactory) -> None:
    project = failing_project(make_project)
    result = CliRunner().invoke(app, ["lock", str(project.composition_path)])
    assert result.exit_code == 1
    assert "numpyy (did you mean numpy" in result.stderr
    assert "python 3.11.*  +  fitsio >=1.2.1" in result.stderr
    assert "belongs in lab" in result.stderr
    assert "nothing was written" in result.stderr
    assert not project.paths.directory.exists()


@pytest.mark.slow
def test_run_lock_raises_conflicts_error(make_project: ProjectFactory) -> None:
    with pytest.raises(ConflictsError, match="cannot solve payload on linux-64") as info:
        run_lock(failing_project(make_project))
    assert [r.environment for r in info.value.analysis.reports] == ["payload"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--platform", "linux-65"], "did you mean 'linux-64'", id="platform"),
        pytest.param(["--env", "payloda"], "did you mean 'payload'", id="env"),
    ],
)
def test_cli_explain_rejects_unknown_selections(
    make_project: ProjectFactory, args: list[str], message: str
) -> None:
    project = failing_project(make_project)
    result = CliRunner().invoke(app, ["explain", str(project.composition_path), *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_rubin_spec_list_is_bundled() -> None:
    shared = Path(__file__).resolve().parents[2] / "shared" / "specs" / "rubin-env"
    original = shared / RUBIN_SPECS.name
    if not original.is_file():
        pytest.skip("../shared is not beside this clone")
    assert RUBIN_SPECS.read_text() == original.read_text()


# --- issue 14: every conflict in every order, hints that do not overclaim ----------------

OVERLAPPING = ["python 3.11.*", "scipy 1.11.*", "pandas 2.1.*", "numpy 2.*"]
TRIPLE = ["python 3.11.*", "numpy 2.*", "jax"]


def shuffled(specs: list[str], count: int) -> list[list[str]]:
    """*specs* in the given and reversed order, then *count* seeded shuffles (each distinct)."""
    orders = [specs, specs[::-1]]
    rng = random.Random(14)
    while len(orders) < count + 2:
        order = rng.sample(specs, len(specs))
        if order not in orders:
            orders.append(order)
    return orders


def explain_orders(
    make_project: ProjectFactory, orders: list[list[str]], **options: Any
) -> list[ConflictReport]:
    """The payload's report for each order, all through one solver (one parse of the snapshot)."""
    project = make_project(demo_data(LAB, orders[0]))
    solver = project.solver()
    assert isinstance(solver, PackageIndex)
    return [
        explain_composition(
            parse_composition(demo_data(LAB, order), source="demo.yaml"),
            solver,
            solver,
            targets=[("payload", "linux-64")],
            **options,
        ).reports[0]
        for order in orders
    ]


def demo_data(lab: list[str], payload: list[str]) -> dict[str, Any]:
    return {
        "name": "demo",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "environments": {
            "lab": {"prefix": "/opt/lab", "requirements": lab},
            "payload": {"prefix": "/opt/payload", "requirements": payload},
        },
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        pytest.param(
            OVERLAPPING,
            {frozenset({"scipy 1.11.*", "numpy 2.*"}), frozenset({"pandas 2.1.*", "numpy 2.*"})},
            id="numpy-shared-by-two",
        ),
        pytest.param(TRIPLE, {frozenset(TRIPLE)}, id="triple"),
        pytest.param(
            ["python 3.11.*", "fitsio >=1.2.1", "coverage >=7.3.3", "coveralls >=1.8.0"],
            {
                frozenset({"python 3.11.*", "fitsio >=1.2.1"}),
                frozenset({"coverage >=7.3.3", "coveralls >=1.8.0"}),
                # coveralls >=1.8.0 needs Python <3.12: it clashes with fitsio too.
                frozenset({"coveralls >=1.8.0", "fitsio >=1.2.1"}),
            },
            id="independent-and-overlapping",
        ),
    ],
)
def test_real_conflicts_are_the_same_in_every_order(
    make_project: ProjectFactory, specs: list[str], expected: set[frozenset[str]]
) -> None:
    orders = shuffled(specs, 4)
    for order, report in zip(orders, explain_orders(make_project, orders), strict=True):
        assert {frozenset(c.specs) for c in report.conflicts} == expected, order
        assert report.complete and report.unexplored == (), order


@pytest.mark.slow
def test_real_conflicts_are_minimal_and_the_text_lists_both(make_project: ProjectFactory) -> None:
    report = real(make_project, OVERLAPPING[::-1])
    assert_minimal(make_project, report)
    text = conflict_text(ConflictAnalysis((report,)))
    assert "2 conflict(s)" in text
    assert "numpy 2.*  +  scipy 1.11.*" in text and "numpy 2.*  +  pandas 2.1.*" in text


@pytest.mark.slow
def test_real_triple_hints_inform_and_never_claim_a_move(make_project: ProjectFactory) -> None:
    (report,) = explain_orders(make_project, [TRIPLE])
    (conflict,) = report.conflicts
    pin, numpy, jax = conflict.hints
    # Each of numpy 2.* and jax would solve in the lab, but the conflict is the triple.
    assert [(f.environment, f.fits) for f in numpy.fits] == [("lab", True)]
    assert numpy.belongs_in == () and jax.belongs_in == ()
    # The Python pin is never relaxed (nor moved) unless Python is marked movable.
    assert (pin.python_pin, pin.relaxation, pin.fits) == (True, None, ())
    text = conflict_text(ConflictAnalysis((report,)))
    assert "belongs in" not in text
    assert "numpy 2.*: would solve in lab" in text
    assert "python 3.11.*: the Python pin of payload" in text
    assert "python 3.14" not in text
    # Every member is named in the condensed explanation, numpy too (line 140 of 341).
    for name in ("python", "numpy", "jax"):
        assert any(mentions(line, name) for line in conflict.explanation), name
    # Still condensed: about 30 lines (ancestors written again for context) of 341.
    assert len(conflict.explanation) < len(conflict.solver_message.splitlines()) / 4


@pytest.mark.slow
def test_real_python_pin_is_relaxed_only_when_movable(make_project: ProjectFactory) -> None:
    specs = ["python 3.11.*", "fitsio >=1.2.1"]
    fixed, movable = (
        explain_orders(make_project, [specs])[0],
        explain_orders(make_project, [specs], python_movable=True)[0],
    )
    pin, fitsio = fixed.conflicts[0].hints
    assert (pin.python_pin, pin.relaxation) == (True, None)
    # {the Python pin, fitsio}, and fitsio solves with the lab's requirements: advice.
    assert fitsio.belongs_in == ("lab",)
    assert "fitsio >=1.2.1: belongs in lab, not payload" in conflict_text(
        ConflictAnalysis((fixed,))
    )
    relaxed = movable.conflicts[0].hints[0].relaxation
    assert relaxed is not None and relaxed.package == "python"
    assert tuple(int(x) for x in relaxed.version.split(".")[:2]) >= (3, 12)


@pytest.mark.slow
def test_real_suggestions_skip_names_the_environment_requests(
    make_project: ProjectFactory,
) -> None:
    report = real(make_project, ["python 3.12.*", "jupyterlab", "jupyterhub"])
    (absent,) = report.absent
    assert absent.name == "jupyterhub"
    assert absent.suggestions[0].startswith("jupyterhub-")
    assert "jupyterhub-singleuser" in absent.suggestions
    assert "jupyterlab" not in absent.suggestions


@pytest.mark.parametrize(
    ("name", "candidates", "expected"),
    [
        pytest.param(
            "jupyterhub",
            ["jupyterlab", "jupyterhub-singleuser", "jupyterhub-base", "zzz"],
            ("jupyterhub-base", "jupyterhub-singleuser", "jupyterlab"),
            id="extensions-before-edits",
        ),
        pytest.param(
            "typing_extension",
            ["typing-extensions", "typing_extensions"],
            None,
            id="both-spellings",
        ),
        pytest.param("numpyy", ["numpy", "numba"], ("numpy",), id="typo"),
        pytest.param("py", ["pyyaml", "numpy"], ("pyyaml",), id="short-prefix"),
        pytest.param("zzzzzz", ["numpy"], (), id="nothing-close"),
    ],
)
def test_close_names(name: str, candidates: list[str], expected: tuple[str, ...] | None) -> None:
    found = close_names(name, candidates)
    if expected is None:
        assert set(found) == set(candidates)
    else:
        assert found == expected


def test_report_counts_one_solve_and_reads_one_clock() -> None:
    ticks = iter(range(1000))
    comp = composition(
        ["python 3.12.*"], ["python 3.11.*", "newpkg >=2", "a >=1", "b >=1", "c >=1"]
    )
    (payload,) = explain_composition(
        comp, FAKE, FAKE, targets=[("payload", "linux-64")], time_limit=3, clock=lambda: next(ticks)
    ).reports
    # The stop is reported on the clock the limit is checked on, from the run's start.
    assert not payload.complete and payload.seconds > payload.time_limit
    text = conflict_text(ConflictAnalysis((payload,)))
    assert f"({payload.solves} solves in {payload.seconds:.1f} s)" in text
    assert "search stopped early at the time limit (3 s)" in text
    one = replace(payload, solves=1, complete=True)
    assert "(1 solve in " in conflict_text(ConflictAnalysis((one,)))


@pytest.mark.parametrize(
    ("payload", "absent"),
    [
        pytest.param(["python 3.11.*", "newpkg >=2"], False, id="conflict-only"),
        pytest.param(["python 3.11.*", "numpyy"], True, id="absent-only"),
    ],
)
def test_lock_error_hint_mentions_absent_names_only_when_some(
    payload: list[str], absent: bool
) -> None:
    analysis = explain_composition(composition(["python 3.12.*"], payload), FAKE, FAKE)
    error = ConflictsError([("payload", "linux-64", "x")], analysis)
    assert ("absent names" in error.hint) is absent
    assert ("each conflict's specs" in error.hint) is not absent


@pytest.mark.slow
def test_console_script_explain_movable_python(make_project: ProjectFactory) -> None:
    project = failing_project(make_project)
    script = Path(sys.executable).parent / "twinlock"
    args = [str(script), "explain", str(project.composition_path), "--env", "payload", "--json"]
    fixed = subprocess.run(args, capture_output=True, text=True, check=False, timeout=600)
    movable = subprocess.run(
        [*args, "--movable-python"], capture_output=True, text=True, check=False, timeout=600
    )
    assert (fixed.returncode, movable.returncode) == (1, 1), fixed.stderr + movable.stderr
    hints = [
        json.loads(r.stdout)["reports"][0]["conflicts"][0]["hints"][0] for r in (fixed, movable)
    ]
    assert [(h["python_pin"], h["relaxation"] is None) for h in hints] == [
        (True, True),
        (True, False),
    ]
