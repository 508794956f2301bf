"""Piped ``twinlock diff`` text is drawn without rich: byte for byte what rich draws.

:func:`twinlock.audit.difftext.draw_plain` must either return exactly what
:func:`~twinlock.audit.difftext.draw` returns on an unwrapped console without
colour, or decline (None) so that rich draws it. Compared on real lock diffs,
on text rich would transform (markup, tabs, wide characters, control codes),
and on seeded random tables.
"""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest

from twinlock.audit import diffrender
from twinlock.audit.diff import diff_lock_sets
from twinlock.audit.difftext import (
    COLUMNS,
    UNWRAPPED_WIDTH,
    Block,
    Line,
    Row,
    Table,
    draw,
    draw_plain,
)
from twinlock.audit.sources import read_lock_set

REPO = Path(__file__).resolve().parents[1]
DIFF = Path("tests/data/diff")


def _rich(blocks: list[Block]) -> str:
    return draw(blocks, color=False, width=UNWRAPPED_WIDTH)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(DIFF / "old", DIFF / "new", id="fixture"),
        pytest.param(DIFF / "new", DIFF / "old", id="fixture-reversed"),
        pytest.param(Path("locks/rsp"), Path("locks/rsp-pypi"), id="bundled-conda-to-pypi"),
        pytest.param(Path("locks/rsp-pypi"), Path("locks/rsp"), id="bundled-pypi-to-conda"),
        pytest.param(Path("locks/rsp"), DIFF / "new", id="bundled-to-fixture"),
        pytest.param(Path("locks/rsp"), Path("locks/rsp"), id="unchanged"),
    ],
)
def test_real_diffs_are_drawn_plainly_as_rich_draws_them(
    monkeypatch: pytest.MonkeyPatch, old: Path, new: Path
) -> None:
    monkeypatch.chdir(REPO)
    diff = diff_lock_sets(read_lock_set(old), read_lock_set(new))
    blocks = diffrender.text_blocks(diff)
    plain = draw_plain(blocks)
    assert plain is not None, "real lock diffs must not need rich when piped"
    assert plain == _rich(blocks)
    assert diffrender.render_text(diff, width=None) == plain


def _table(cell: str) -> Table:
    return Table((Row(("upgraded", cell, "1.0 h0_0", "2.0 h0_0", "root", "major")),))


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        pytest.param("numpy", True, id="name"),
        pytest.param("md5 a798e91e6046… -> cfc5c0a512da…", True, id="ellipsis"),
        pytest.param("  two  spaces  inside ", True, id="spaces"),
        pytest.param("a]b (x) {y} <z> \\ back", True, id="punctuation"),
        pytest.param("", True, id="empty"),
        pytest.param("[bold]x[/bold]", False, id="markup"),
        pytest.param("\\[not markup]", False, id="escaped-markup"),
        pytest.param("a\tb", False, id="tab"),
        pytest.param("line\nbreak", False, id="newline"),
        pytest.param("bell\x07 cr\r", False, id="control"),
        pytest.param("\x1b[31mred", False, id="escape"),
        pytest.param("漢字 wide", False, id="wide"),
        pytest.param("café", False, id="latin"),
        pytest.param("e\u0301 combining", False, id="combining"),
        pytest.param(":smile: emoji code", True, id="emoji-code"),
        pytest.param("x" * UNWRAPPED_WIDTH, False, id="too-long-to-stay-unwrapped"),
    ],
)
@pytest.mark.parametrize("where", ["line", "markup-line", "cell"])
def test_plain_drawing_declines_what_rich_would_transform(
    text: str, plain: bool, where: str
) -> None:
    blocks: list[Block] = [
        Line("twinlock diff: a -> b"),
        _table(text) if where == "cell" else Line(text, "bold", markup=where == "markup-line"),
    ]
    drawn = draw_plain(blocks)
    # Brackets are markup only in cells and markup lines; elsewhere they are plain text.
    expect_plain = plain or (where == "line" and text.startswith(("[", "\\[")))
    assert (drawn is not None) == expect_plain
    if drawn is not None:
        assert drawn == _rich(blocks)


def _word(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + "._-+*=!/:;,()" + " " * 4 + "…"
    return "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 3, 8, 20, 45])))


@pytest.mark.parametrize("seed", range(20))
def test_random_tables_are_drawn_plainly_as_rich_draws_them(seed: int) -> None:
    rng = random.Random(seed)
    blocks: list[Block] = []
    for _ in range(rng.randint(1, 4)):
        blocks.append(Line(_word(rng), rng.choice([None, "bold", "red"])))
        blocks.append(Line())
        rows = [
            Row(tuple(_word(rng) for _ in COLUMNS), rng.choice([None, "green"]))
            for _ in range(rng.randint(1, 12))
        ]
        blocks.append(Table(tuple(rows)))
    plain = draw_plain(blocks)
    assert plain is not None
    assert plain == _rich(blocks)
