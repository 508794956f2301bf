"""The conflict search itself, over a fake solver: no real solves here."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from twinlock.explain.condense import condense, mentions
from twinlock.explain.search import OutOfTime, find_conflicts, quickxplain
from twinlock.solve.adapter import SolveOutcome, SolveRequest

BASE = SolveRequest("env", "linux-64", (), (), ())


class FakeProbe:
    """Fails a spec set when it holds every spec of one of *conflicts*.

    *explain* decides whether the failure message names the clashing specs
    (as the real solver usually does) or says nothing useful.
    """

    def __init__(
        self, conflicts: Sequence[set[str]], *, explain: bool = True, budget: int = 10_000
    ) -> None:
        self.conflicts = [frozenset(c) for c in conflicts]
        self.explain = explain
        self.budget = budget
        self.solves = 0

    def __call__(self, spec_sets: Sequence[tuple[str, ...]]) -> list[SolveOutcome]:
        if self.solves + len(spec_sets) > self.budget:
            raise OutOfTime
        self.solves += len(spec_sets)
        return [self._one(s) for s in spec_sets]

    def _one(self, specs: tuple[str, ...]) -> SolveOutcome:
        for conflict in self.conflicts:
            if conflict <= set(specs):
                text = " and ".join(sorted(conflict)) if self.explain else "no solution"
                return SolveOutcome(BASE, None, f"cannot install {text}", 0.0)
        return SolveOutcome(BASE, (), None, 0.0)


SPECS = [f"p{i}" for i in range(20)]


@pytest.mark.parametrize(
    ("conflicts", "expected"),
    [
        pytest.param([{"p3"}], ("p3",), id="singleton"),
        pytest.param([{"p2", "p17"}], ("p2", "p17"), id="pair-far-apart"),
        pytest.param([{"p1", "p5", "p9"}], ("p1", "p5", "p9"), id="triple-each-pair-solves"),
        # Two conflicts: QuickXplain prefers the one made of earlier specs.
        pytest.param([{"p10", "p11"}, {"p0", "p4"}], ("p0", "p4"), id="prefers-earlier-specs"),
    ],
)
def test_quickxplain_finds_a_minimal_conflict(
    conflicts: list[set[str]], expected: tuple[str, ...]
) -> None:
    probe = FakeProbe(conflicts)
    found = quickxplain(SPECS, lambda s: probe([s])[0].solved)
    assert found == expected
    assert probe.solves < len(SPECS)  # divide and conquer, not one solve per spec


@pytest.mark.parametrize("explain", [True, False], ids=["named", "unnamed"])
@pytest.mark.parametrize(
    ("conflicts", "expected"),
    [
        pytest.param([], [], id="solvable"),
        pytest.param([{"p7"}], [("p7",)], id="one-singleton"),
        pytest.param(
            [{"p0", "p12"}, {"p5", "p6"}], [("p0", "p12"), ("p5", "p6")], id="two-independent"
        ),
        pytest.param(
            # p0 is the Python pin: it is in both conflicts, so each is reported.
            [{"p0", "p3"}, {"p0", "p8"}],
            [("p0", "p3"), ("p0", "p8")],
            id="pin-shared-by-two",
        ),
        pytest.param(
            [{"p1", "p2", "p3"}, {"p4"}], [("p1", "p2", "p3"), ("p4",)], id="triple-and-single"
        ),
    ],
)
def test_find_conflicts_reports_each_conflict(
    conflicts: list[set[str]], expected: list[tuple[str, ...]], explain: bool
) -> None:
    probe = FakeProbe(conflicts, explain=explain)
    result = find_conflicts(SPECS, probe)
    # Which conflict is found first depends on the explanation; each is found once.
    assert sorted(c.specs for c in result.conflicts) == expected
    assert result.complete
    assert result.solvable is (not conflicts)
    assert result.unexplored == ()


OVERLAPPING = [
    pytest.param([{"p0", "p1"}, {"p1", "p2"}], id="chain"),
    pytest.param([{"p0", "p1"}, {"p0", "p2"}, {"p0", "p3"}], id="star"),
    pytest.param([{"p0", "p1", "p2"}, {"p1", "p3"}, {"p2", "p3"}], id="triangle"),
    pytest.param([{"p4"}, {"p0", "p5"}, {"p5", "p6", "p7"}, {"p0", "p7"}], id="mixed"),
    # A conflict made only of members of others: found only by going on from each.
    pytest.param([{"p0", "p1"}, {"p2", "p3"}, {"p1", "p3"}], id="hidden-behind-two"),
]


@pytest.mark.parametrize("explain", [True, False], ids=["named", "unnamed"])
@pytest.mark.parametrize("conflicts", OVERLAPPING)
def test_find_conflicts_finds_every_conflict_in_every_order(
    conflicts: list[set[str]], explain: bool
) -> None:
    names = sorted({s for c in conflicts for s in c} | {"q1", "q2"})
    expected = sorted(sorted(c) for c in conflicts)
    for seed in range(12):
        order = random.Random(seed).sample(names, len(names))
        result = find_conflicts(order, FakeProbe(conflicts, explain=explain))
        assert sorted(sorted(c.specs) for c in result.conflicts) == expected, order
        assert result.complete
        # Each conflict keeps the order it was given in.
        assert all(list(c.specs) == [s for s in order if s in c.specs] for c in result.conflicts)


def test_named_explanation_needs_fewer_solves() -> None:
    conflicts = [{"p0", "p12"}, {"p5", "p6"}, {"p9"}]
    named, unnamed = FakeProbe(conflicts), FakeProbe(conflicts, explain=False)
    find_conflicts(SPECS, named)
    find_conflicts(SPECS, unnamed)
    assert named.solves < unnamed.solves


def test_search_stops_at_the_time_limit_with_what_it_found() -> None:
    probe = FakeProbe([{"p1"}, {"p2", "p3"}, {"p4", "p19"}], budget=6)
    result = find_conflicts(SPECS, probe)
    assert not result.complete
    assert [c.specs for c in result.conflicts] == [("p1",)]
    assert result.unexplored == (("p1",),)


def test_unexplored_lists_every_branch_left() -> None:
    # Enough for the first two conflicts; the branches of the second are left.
    probe = FakeProbe([{"p1"}, {"p2", "p3"}, {"p3", "p4"}], budget=9)
    result = find_conflicts(SPECS, probe)
    assert not result.complete
    assert result.unexplored
    assert all("p1" in removal for removal in result.unexplored)


def test_conflict_message_is_the_solvers_text_for_exactly_that_set() -> None:
    result = find_conflicts(SPECS, FakeProbe([{"p2", "p3"}]))
    assert result.conflicts[0].message == "cannot install p2 and p3"


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        pytest.param("python >=3.12 is needed", "python", True, id="word"),
        pytest.param("python_abi 3.12", "python", False, id="longer-underscore"),
        pytest.param("python-dateutil", "python", False, id="longer-dash"),
        pytest.param("found for pytest-runner >=6.", "pytest-runner", True, id="dashed-name"),
        pytest.param("lsstdesc.coord 1.3", "lsstdesc", False, id="dotted"),
        pytest.param("needs numpy.", "numpy", True, id="end-of-sentence"),
    ],
)
def test_mentions(text: str, name: str, expected: bool) -> None:
    assert mentions(text, name) is expected


EXPLANATION = """\
Cannot solve the request because of: jax >=0.4.31 has no viable options:
├─ jax 0.7.1 would require
│  └─ jaxlib >=0.7.1,<=0.7.1, which cannot be installed:
│     ├─ jaxlib 0.7.1 would require
│     │  └─ __cuda *, for which no candidates were found.
│     └─ jaxlib 0.7.1 would require
│        └─ python >=3.13,<3.14.0a0, for which no candidates were found.
└─ jax 0.6.0 would require
   └─ jaxlib >=0.6.0,<=0.6.0, which cannot be installed:
      └─ jaxlib 0.6.0 would require
         └─ __cuda *, for which no candidates were found.
The following packages are incompatible
└─ jax >=0.4.31 has no viable options:
   └─ jax 0.7.1 would require
      └─ jaxlib >=0.7.1,<=0.7.1, which cannot be installed:
         └─ jaxlib 0.7.1 would require
            └─ python >=3.13,<3.14.0a0, for which no candidates were found.
"""


def test_condense_keeps_paths_to_the_conflict_and_drops_repeats() -> None:
    assert condense(EXPLANATION, ["python", "jax"]) == (
        "jax >=0.4.31 has no viable options:",
        "  jax 0.7.1 would require",
        "    jaxlib >=0.7.1,<=0.7.1, which cannot be installed:",
        "      jaxlib 0.7.1 would require",
        "        python >=3.13,<3.14.0a0, for which no candidates were found.",
    )


def test_condense_keeps_packages_where_two_trees_meet() -> None:
    text = (
        "a >=2 cannot be installed because there are no viable options:\n"
        "└─ a 2.0 would require\n"
        "   └─ mkl >=2023, which can be installed\n"
        "b >=1 cannot be installed because there are no viable options:\n"
        "├─ b 1.0 would require\n"
        "│  └─ __cuda *, for which no candidates were found.\n"
        "└─ b 1.1 would require\n"
        "   └─ mkl <0.a0, which conflicts with any installable versions previously reported\n"
    )
    lines = condense(text, ["a", "b"])
    assert "  b 1.1 would require" in lines
    assert not any("__cuda" in line for line in lines)
    assert sum("mkl" in line for line in lines) == 2


def test_condense_keeps_everything_when_no_path_names_the_conflict() -> None:
    text = "x cannot be installed:\n└─ y 1 would require\n   └─ z, for which no candidates"
    assert condense(text, ["q >=1"]) == (
        "x cannot be installed:",
        "  y 1 would require",
        "    z, for which no candidates",
        "(q >=1: not named in the solver's explanation; it is part of the set because "
        "the rest solves without it)",
    )


def test_condense_names_every_member_even_past_the_limit() -> None:
    many = "".join(
        f"├─ a {i} would require\n│  └─ b {i}, for which no candidates\n" for i in range(40)
    )
    text = (
        f"a >=2 cannot be installed because there are no viable options:\n{many}"
        "└─ a 0 would require\n   └─ numpy <2, for which no candidates were found.\n"
    )
    lines = condense(text, ["a >=2", "b", "numpy 2.*"], limit=10)
    assert "    numpy <2, for which no candidates were found." in lines
    assert "  a 0 would require" in lines
    assert lines[-1].startswith("... ") and lines[-1].endswith(" more lines")


def test_condense_caps_the_length() -> None:
    text = "\n".join(f"line {i}" for i in range(50))
    lines = condense(text, ["line"], limit=10)
    assert lines[-1] == "... 40 more lines"
    assert len(lines) == 11


def test_condense_repeats_a_root_whose_new_lines_follow_another_root() -> None:
    text = (
        "a >=1 cannot be installed:\n"
        "└─ a 1 would require\n"
        "   └─ x, for which no candidates were found.\n"
        "The following packages are incompatible\n"
        "├─ b can be installed with any of the following options:\n"
        "│  └─ b 1\n"
        "└─ a >=1 cannot be installed:\n"
        "   └─ a 2 would require\n"
        "      └─ y, for which no candidates were found.\n"
    )
    assert condense(text, ["a >=1", "b", "x", "y"]) == (
        "a >=1 cannot be installed:",
        "  a 1 would require",
        "    x, for which no candidates were found.",
        "b can be installed with any of the following options:",
        "  b 1",
        "a >=1 cannot be installed:",
        "  a 2 would require",
        "    y, for which no candidates were found.",
    )
