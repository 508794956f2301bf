"""RSP image tags: parsing (valid and invalid), sort order, composing rebuild tags."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from twinlock.cli.main import app
from twinlock.images.tags import Category, TagError, compose_tag, parse_tag, sort_tags

C = Category


@pytest.mark.parametrize(
    ("tag", "category", "display"),
    [
        pytest.param("r29_2_0", C.RELEASE, "Release r29.2.0", id="release"),
        pytest.param("r9_0_12", C.RELEASE, "Release r9.0.12", id="release-short-major"),
        pytest.param("r170", C.RELEASE, "Release r17.0.0", id="release-obsolete"),
        pytest.param("r29_2_0_rc1", C.CANDIDATE, "Release Candidate r29.2.0-rc1", id="candidate"),
        pytest.param(
            "r29_2_0_rsp3", C.RELEASE, "Release r29.2.0 (RSP Build 3)", id="release-rsp-build"
        ),
        pytest.param(
            "r29_2_0_rc2_rsp1",
            C.CANDIDATE,
            "Release Candidate r29.2.0-rc2 (RSP Build 1)",
            id="candidate-rsp-build",
        ),
        pytest.param(
            "r29_2_0_c0041.001",
            C.RELEASE,
            "Release r29.2.0 (SAL Cycle 0041, Build 001)",
            id="release-cycle",
        ),
        pytest.param(
            "r29_2_0_rsp2_c0041.001_20260101",
            C.RELEASE,
            "Release r29.2.0 (RSP Build 2) (SAL Cycle 0041, Build 001) [20260101]",
            id="release-all-suffixes",
        ),
        pytest.param("r29_2_0-amd64", C.RELEASE, "Release r29.2.0 (amd64)", id="release-arch"),
        pytest.param("w_2025_07", C.WEEKLY, "Weekly 2025_07", id="weekly"),
        pytest.param("w_2020_53", C.WEEKLY, "Weekly 2020_53", id="weekly-week-53"),
        pytest.param(
            "w_2025_07_rsp1-arm64",
            C.WEEKLY,
            "Weekly 2025_07 (RSP Build 1) (arm64)",
            id="weekly-rsp",
        ),
        pytest.param("d_2024_02_29", C.DAILY, "Daily 2024_02_29", id="daily-leap-day"),
        pytest.param(
            "d_2025_02_14_extra", C.DAILY, "Daily 2025_02_14 [extra]", id="daily-free-text"
        ),
        pytest.param(
            "exp_w_2025_07_nosudo",
            C.EXPERIMENTAL,
            "Experimental Weekly 2025_07 [nosudo]",
            id="experimental-of-weekly",
        ),
        pytest.param("exp_random", C.EXPERIMENTAL, "Experimental random", id="experimental-free"),
        pytest.param(
            "recommended_c0029", C.UNKNOWN, "recommended (SAL Cycle 0029)", id="cycle-only"
        ),
        pytest.param("latest", C.UNKNOWN, "latest", id="unknown"),
        pytest.param("reference", C.UNKNOWN, "reference", id="unknown-starts-with-r"),
    ],
)
def test_valid_tags(tag: str, category: Category, display: str) -> None:
    parsed = parse_tag(tag)
    assert (parsed.category, parsed.display_name) == (category, display)


def test_declared_alias_is_an_alias() -> None:
    assert parse_tag("recommended", aliases=["recommended"]).category is C.ALIAS
    assert parse_tag("recommended").category is C.UNKNOWN


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        pytest.param("r29_2", "release but the patch is missing", id="release-no-patch"),
        pytest.param("r29_x_0", "the minor 'x' is not a number", id="release-minor-nan"),
        pytest.param("r29_2_0_rcX", "malformed release candidate number", id="bad-rc"),
        pytest.param("r29_2_0_rsp", "malformed RSP build number", id="bad-rsp"),
        pytest.param("r29_2_0_c41", "malformed SAL cycle", id="bad-cycle"),
        pytest.param("w_2024_60", "week 60 does not exist in 2024", id="week-out-of-range"),
        pytest.param("w_2025_00", "week 00 does not exist", id="week-zero"),
        pytest.param("w_25_07", "the year '25' must have 4 digits", id="weekly-short-year"),
        pytest.param("w_2025", "weekly but the week is missing", id="weekly-no-week"),
        pytest.param("w_2025_7", "the week '7' must have 2 digits", id="weekly-one-digit-week"),
        pytest.param("d_2025_02_30", "is not a day", id="daily-bad-day"),
        pytest.param("d_2025_13_01", "is not a day", id="daily-bad-month"),
        pytest.param("d_2025_02", "daily but the day is missing", id="daily-no-day"),
        pytest.param("", "not a valid image tag", id="empty"),
        pytest.param("-amd64", "not a valid image tag", id="starts-with-dash"),
        pytest.param("r29 2 0", "not a valid image tag", id="spaces"),
    ],
)
def test_invalid_tags_name_the_wrong_part(tag: str, message: str) -> None:
    with pytest.raises(TagError, match=message):
        parse_tag(tag)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        pytest.param(
            ["r28_0_0", "r29_2_0", "r29_10_0", "r29_2_1"],
            ["r29_10_0", "r29_2_1", "r29_2_0", "r28_0_0"],
            id="releases-numeric-not-lexical",
        ),
        pytest.param(
            ["r29_2_0", "r29_2_0_rsp10", "r29_2_0_rsp2", "r29_2_1", "r29_2_0_rsp1"],
            ["r29_2_1", "r29_2_0_rsp10", "r29_2_0_rsp2", "r29_2_0_rsp1", "r29_2_0"],
            id="rsp-build-after-plain-before-next-patch",
        ),
        pytest.param(
            ["w_2024_52", "w_2025_01", "w_2025_10"],
            ["w_2025_10", "w_2025_01", "w_2024_52"],
            id="weeklies",
        ),
        pytest.param(
            ["exp_x", "d_2025_01_02", "w_2025_01", "r1_0_0_rc1", "r1_0_0", "zz", "latest"],
            ["latest", "r1_0_0", "w_2025_01", "d_2025_01_02", "r1_0_0_rc1", "exp_x", "zz"],
            id="categories-in-menu-order",
        ),
        pytest.param(
            ["r29_2_0_c0041.001", "r29_2_0_c0041.002", "r29_2_0_c0040.009"],
            ["r29_2_0_c0041.002", "r29_2_0_c0041.001", "r29_2_0_c0040.009"],
            id="cycles",
        ),
    ],
)
def test_sort_newest_first_within_category(tags: list[str], expected: list[str]) -> None:
    assert [t.tag for t in sort_tags(parse_tag(x, aliases=["latest"]) for x in tags)] == expected


@pytest.mark.parametrize(
    ("payload", "kwargs", "expected"),
    [
        pytest.param("r29_2_0", {}, "r29_2_0_rsp1", id="first-rebuild"),
        pytest.param(
            "r29_2_0", {"existing": ["r29_2_0", "r29_2_0_rsp1"]}, "r29_2_0_rsp2", id="next-free"
        ),
        pytest.param("r29_2_0", {"build": 7}, "r29_2_0_rsp7", id="explicit-build"),
        pytest.param(
            "r29_2_0",
            {"built_at": dt.datetime(2026, 11, 2, 10, 30, tzinfo=dt.UTC)},
            "r29_2_0_rsp202611021030",
            id="build-time",
        ),
        pytest.param("w_2025_07", {"arch": "arm64"}, "w_2025_07_rsp1-arm64", id="weekly-arch"),
        pytest.param("r29_2_0_c0041.001", {}, "r29_2_0_rsp1_c0041.001", id="cycle-kept-after-rsp"),
    ],
)
def test_compose(payload: str, kwargs: dict[str, object], expected: str) -> None:
    composed = compose_tag(payload, **kwargs)  # type: ignore[arg-type]
    assert composed.tag == expected
    existing = [parse_tag(t) for t in kwargs.get("existing", [payload])]  # type: ignore[union-attr]
    assert all(composed.sort_key() > e.sort_key() for e in existing)


@pytest.mark.parametrize(
    ("payload", "kwargs", "message"),
    [
        pytest.param(
            "r29_2_0",
            {"build": 2, "existing": ["r29_2_0_rsp2"]},
            "would not sort after",
            id="reuse",
        ),
        pytest.param(
            "r29_2_0",
            {"build": 1, "existing": ["r29_2_0_rsp3"]},
            "would not sort after",
            id="older",
        ),
        pytest.param("latest", {}, "has no version to rebuild", id="unknown"),
        pytest.param("r29_2_0", {"arch": "s390x"}, "unknown architecture", id="bad-arch"),
        pytest.param("r29_2", {}, "patch is missing", id="invalid-payload-tag"),
    ],
)
def test_compose_refuses(payload: str, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TagError, match=message):
        compose_tag(payload, **kwargs)  # type: ignore[arg-type]


def test_cli_invalid_tag_exits_2_with_the_reason() -> None:
    result = CliRunner().invoke(app, ["tag", "parse", "w_2024_60"])
    assert result.exit_code == 2
    assert "week 60 does not exist in 2024" in result.output


def test_cli_sort_and_compose() -> None:
    runner = CliRunner()
    sorted_out = runner.invoke(app, ["tag", "sort", "r29_2_0", "r29_2_0_rsp1"])
    assert sorted_out.exit_code == 0
    assert sorted_out.output.index("r29_2_0_rsp1") < sorted_out.output.index("r29_2_0 ")
    composed = runner.invoke(app, ["tag", "compose", "r29_2_0", "--existing", "r29_2_0_rsp1"])
    assert composed.output.strip() == "r29_2_0_rsp2"
