"""The regular-YAML reader: libyaml's answer on all it accepts, and twinlock's locks accepted.

:func:`read_regular_yaml` may decline any text (libyaml then reads it); it must
never return data libyaml would not, nor raise. Each test compares the two
readers, types included (``True`` is not ``"true"``), on committed locks, on
locks of random odd strings, on every odd string the writer tests use, on
hand-written edge cases, and on thousands of seeded damages of a real lock.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.test_emit import ODD, _random_lock
from twinlock.errors import LockFileError
from twinlock.lock.emit import dump_conda_lock
from twinlock.lock.fastread import read_regular_yaml
from twinlock.lock.format import render_conda_lock
from twinlock.lock.yamldata import load_lock_data, load_yaml_data

REPO = Path(__file__).resolve().parents[1]
COMMITTED = sorted((REPO / "locks").glob("*/*.conda-lock.yml"))
OTHER_YAML = sorted((REPO / "tests" / "data").rglob("*.y*ml"))
_ERROR = object()


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (True == 1 would hide a wrong type)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(
            same(ka, kb) and same(a[ka], b[kb]) for ka, kb in zip(a, b, strict=True)
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def libyaml(text: str) -> Any:
    try:
        return load_yaml_data(text, source="t")
    except LockFileError:
        return _ERROR


def assert_agrees(text: str) -> bool:
    """The fast reader declines *text* or returns libyaml's data; True when it accepted."""
    fast = read_regular_yaml(text)
    if fast is None:
        return False
    slow = libyaml(text)
    assert slow is not _ERROR, f"accepted what libyaml refuses:\n{text[:2000]}"
    assert same(fast, slow), f"read differently:\n{text[:2000]}"
    return True


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_committed_lock_is_read_fast_and_the_same(path: Path) -> None:
    assert assert_agrees(path.read_text())


@pytest.mark.parametrize("path", OTHER_YAML, ids=lambda p: str(p.relative_to(REPO / "tests")))
def test_other_yaml_files_agree_or_are_declined(path: Path) -> None:
    assert_agrees(path.read_text(encoding="utf-8", errors="replace"))


@pytest.mark.parametrize("seed", range(60))
def test_random_locks_agree(seed: int) -> None:
    assert_agrees(render_conda_lock(_random_lock(seed)))


@pytest.mark.parametrize("value", ODD, ids=repr)
@pytest.mark.parametrize("column", [0, 1, 40, 75, 79, 80])
def test_every_odd_string_agrees_as_key_and_value(value: str, column: int) -> None:
    data: dict[str, Any] = {"k" * column or "k": value, "list": [value], "nested": {"a": value}}
    if value:
        data[value] = "v"
    assert_agrees(dump_conda_lock(data))


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        pytest.param("a: b\n", True, id="one-entry"),
        pytest.param("# head\n# more\na: b\n", True, id="header-comments"),
        pytest.param("a: b # c\n", False, id="trailing-comment"),
        pytest.param("a: b\n# mid\nc: d\n", False, id="comment-inside"),
        pytest.param("a: b\n\nc: d\n", False, id="blank-line"),
        pytest.param("a: b \n", False, id="trailing-space"),
        pytest.param("a:\n- x\n- y\nb: c\n", True, id="indentless-list"),
        pytest.param("a:\n  - x\n  - y\n", True, id="indented-list"),
        pytest.param("a:\n- k: v\n  l: w\n- k: u\n", True, id="list-of-maps"),
        pytest.param("a: {}\nb: []\n", True, id="empty-flow"),
        pytest.param("a: {x: y}\n", False, id="flow-map"),
        pytest.param("a: [x]\n", False, id="flow-list"),
        pytest.param("a: 'it''s'\n", True, id="quote-escape"),
        pytest.param("a: 'long\n  text'\n", True, id="quoted-fold"),
        pytest.param("a: 'long''\n  ''text'\n", True, id="quoted-fold-escapes"),
        pytest.param("a: plain\n  folded\n", True, id="plain-fold"),
        pytest.param("a: plain\n   folded\n", False, id="plain-fold-odd-indent"),
        pytest.param("a: plain\n  - folded\n", False, id="plain-fold-dash"),
        pytest.param("a: plain\n  b: c\n", False, id="plain-fold-key"),
        pytest.param("a: true\nb: 'true'\nc: ~\nd: null\ne: NO\n", True, id="words"),
        pytest.param("yes: 1\n", True, id="bool-key"),
        pytest.param("<<: x\n", False, id="merge-key"),
        pytest.param("a: =\n", False, id="value-word"),
        pytest.param("a: &x b\nc: *x\n", False, id="anchor-alias"),
        pytest.param("a: !!str b\n", False, id="tag"),
        pytest.param('a: "b"\n', False, id="double-quoted"),
        pytest.param("a: |\n  b\n", False, id="literal-block"),
        pytest.param("a:\tb\n", False, id="tab"),
        pytest.param("a: b\r\n", False, id="carriage-return"),
        pytest.param("a: é\n", False, id="non-ascii"),
        pytest.param("a:\n", False, id="empty-value"),
        pytest.param("a: b\na: c\n", True, id="duplicate-key"),
        pytest.param("a: b\n  c\n", True, id="fold-at-root"),
        pytest.param("a: b\n c\n", False, id="fold-at-root-one-space"),
        pytest.param("- a\n", False, id="root-list"),
        pytest.param("---\na: b\n", False, id="document-marker"),
        pytest.param("a: b\n...\n", False, id="document-end"),
        pytest.param("a:b: c\n", False, id="colon-in-key"),
        pytest.param("'a: b': c\n", True, id="quoted-key"),
        pytest.param("'a\n  b': c\n", False, id="multiline-key"),
        pytest.param("a: 'unclosed\n", False, id="unclosed-quote"),
        pytest.param("a: 'x' y\n", False, id="after-quote"),
        pytest.param("a:\n  b: c\n d: e\n", False, id="bad-dedent"),
        pytest.param("k" * 200 + ": v\n", False, id="long-key"),
        pytest.param("", False, id="empty"),
        pytest.param("# only\n", False, id="only-comments"),
    ],
)
def test_edge_cases(text: str, accepted: bool) -> None:
    assert assert_agrees(text) is accepted


def test_block_nesting_deeper_than_the_stack_is_declined_not_a_crash() -> None:
    text = "".join("  " * i + "a:\n" for i in range(3000)) + "  " * 3000 + "a: b\n"
    assert read_regular_yaml(text) is None
    with pytest.raises(LockFileError, match=r"nested too deeply|not readable"):
        load_lock_data(text, source="t")


_INSERTS = "'\"#:-&*!|>{}[], \t\n?%@`~=<x0é"


def _damage(lines: list[str], rng: random.Random) -> str:
    """One random damage of the text: a character or a line changed, moved or dropped."""
    lines = list(lines)
    index = rng.randrange(len(lines))
    line = lines[index]
    at = rng.randint(0, len(line))
    kind = rng.randrange(8)
    if kind == 0:
        lines[index] = line[:at] + rng.choice(_INSERTS) + line[at:]
    elif kind == 1:
        lines[index] = line[:at] + line[at + 1 :]
    elif kind == 2:
        lines[index] = line[:at] + rng.choice(_INSERTS) + line[at + 1 :]
    elif kind == 3:
        del lines[index]
    elif kind == 4:
        lines.insert(index, line)
    elif kind == 5:
        lines[index] = " " * rng.randint(1, 3) + line
    elif kind == 6:
        lines[index] = line[rng.randint(1, 3) :] if line.startswith(" ") else line
    else:
        other = rng.randrange(len(lines))
        lines[index], lines[other] = lines[other], lines[index]
    return "\n".join(lines) + "\n"


def _sample(path: Path, first: bool) -> list[str]:
    """The metadata of a lock and twelve of its entries (the first, or the last: PyPI's)."""
    lines = path.read_text().split("\n")
    entries = [i for i, line in enumerate(lines) if line.startswith("- name: ")]
    if first:
        return lines[: entries[12]]
    return lines[: entries[0]] + lines[entries[-12] :][:-1]


@pytest.mark.parametrize(
    ("path", "first"),
    [
        pytest.param(REPO / "locks" / "rsp" / "lab.conda-lock.yml", True, id="conda"),
        pytest.param(REPO / "locks" / "rsp-pypi" / "lab.conda-lock.yml", False, id="pypi"),
    ],
)
def test_seeded_damages_of_a_real_lock_agree_or_are_declined(path: Path, first: bool) -> None:
    head = _sample(path, first)
    assert assert_agrees("\n".join(head) + "\n")
    rng = random.Random(20261128)
    accepted = sum(assert_agrees(_damage(head, rng)) for _ in range(3000))
    assert accepted > 300  # many damages stay valid YAML: the comparison was exercised
