"""The helpers every reader of untrusted input shares, tested on their own.

``yamlio.load_yaml`` (alias bombs, recursion, depth, duplicate keys, invalid values),
``fileio.decode_utf8`` (where the first bad byte is) and ``errors.shorten`` with the
bounded problem list. ``tests/test_hostile.py`` runs the same classes through the CLI.
"""

from __future__ import annotations

import pytest


def anchors(levels: int) -> str:
    """``align: [&b0 [10 strings], &b1 [*b0 x 10], ...]``: b<n> expands to 10^(n+1) strings."""
    items = [f"&b0 [{', '.join(['x' * 100] * 10)}]"]
    items += [f"&b{i} [{', '.join([f'*b{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return f"align: [{', '.join(items)}]\n"


def _nested(depth: int) -> object:
    value: list[object] = []
    for _ in range(depth - 1):
        value = [value]
    return value


# --- the helpers that bound what is printed -----------------------------------------------


def test_shorten_bounds_work_and_length_for_any_value() -> None:
    from twinlock.errors import shorten

    bomb: object = ["x" * 100] * 10
    for _ in range(8):
        bomb = [bomb] * 10  # 10^9 strings: a full repr would take gigabytes
    assert len(shorten(bomb)) <= 80
    assert shorten("abc") == "'abc'"
    assert shorten("x" * 10_000, 10) == "'xxxxxxxxxx'… (10000 characters)"
    assert shorten("x" * 10_000, 10, quote=False) == "xxxxxxxxxx… (10000 characters)"


def test_a_problem_list_is_bounded() -> None:
    from twinlock.errors import CompositionError, Problem

    error = CompositionError([Problem("f.yaml", f"k{i}", "bad") for i in range(10_000)])
    assert error.message.count("\n") < 30
    assert error.message.endswith("... and 9975 more")


# --- the loader every composition, environment file and lock goes through ------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a: &x [1, 2]\nb: *x\n", {"a": [1, 2], "b": [1, 2]}, id="small-alias"),
        pytest.param(
            "- &base {k: 1, j: 2}\n- <<: *base\n  k: 3\n",
            [{"k": 1, "j": 2}, {"k": 3, "j": 2}],
            id="merge-key-overrides",
        ),
        pytest.param("snapshot: 2025-02-30\n", {"snapshot": "2025-02-30"}, id="impossible-date"),
        pytest.param("a:\n  k: 1\nb:\n  k: 2\n", {"a": {"k": 1}, "b": {"k": 2}}, id="same-key"),
        pytest.param("k: 1\n'1': 2\n1: 3\n", {"k": 1, "1": 2, 1: 3}, id="int-and-str-keys"),
        pytest.param("", None, id="empty"),
        pytest.param("[" * 64 + "]" * 64, _nested(64), id="64-deep"),
    ],
)
def test_load_yaml_accepts(text: str, expected: object) -> None:
    from twinlock.yamlio import load_yaml

    assert load_yaml(text, "f.yaml") == expected


@pytest.mark.parametrize(
    ("text", "unique_keys", "match"),
    [
        pytest.param(
            "a: 1\nb: 2\na: 3\n",
            True,
            r"\(top level\): duplicate key 'a' \(lines 1 and 3\)",
            id="dup",
        ),
        pytest.param(
            "x: {k: 1, k: 2}\n", True, r"x: duplicate key 'k' \(lines 1 and 1\)", id="dup-flow"
        ),
        pytest.param(
            "- {a: 1}\n- {b: 1, b: 2}\n", True, r"\[1\]: duplicate key 'b'", id="dup-in-list"
        ),
        pytest.param(anchors(5), False, r"line 1: YAML aliases expand", id="bomb-even-in-locks"),
        pytest.param(
            "a: &a [*a]\n", False, r"an alias refers to a value that contains it", id="recursive"
        ),
        pytest.param("[" * 65 + "]" * 65, True, r"nested more than 64 levels", id="65-deep"),
        pytest.param("a: [\n", True, r"line 2: not valid YAML", id="syntax"),
        pytest.param(
            "a: *nowhere\n", True, r"not valid YAML: found undefined alias", id="undefined-alias"
        ),
        pytest.param(
            "a: !!python/object:os.system x\n",
            True,
            r"not valid YAML: could not determine a constructor",
            id="unsafe-tag",
        ),
        pytest.param("a: !!int x\n", True, r"cannot read a value: invalid literal", id="bad-int"),
        pytest.param(
            "--- 1\n--- 2\n",
            True,
            r"not valid YAML: expected a single document",
            id="two-documents",
        ),
    ],
)
def test_load_yaml_refuses(text: str, unique_keys: bool, match: str) -> None:
    from twinlock.errors import InputFileError
    from twinlock.yamlio import load_yaml

    with pytest.raises(InputFileError, match=match) as caught:
        load_yaml(text, "f.yaml", unique_keys=unique_keys)
    assert caught.value.problems[0].source == "f.yaml"


def test_locks_keep_duplicate_keys_to_the_lock_reader() -> None:
    """Locks are read without the duplicate-key walk (it would double the read time)."""
    from twinlock.yamlio import load_yaml

    assert load_yaml("a: 1\na: 2\n", "x.conda-lock.yml", unique_keys=False) == {"a": 2}


@pytest.mark.parametrize(
    ("data", "match"),
    [
        pytest.param(b"\xff", r"byte 0xff at line 1, column 1", id="first-byte"),
        pytest.param(b"ok\nab\xc3(", r"byte 0xc3 at line 2, column 3", id="bad-continuation"),
        pytest.param(
            b"a\n" * 3 + b"\xed\xa0\x80", r"byte 0xed at line 4, column 1", id="surrogate"
        ),
    ],
)
def test_decode_utf8_says_where(data: bytes, match: str) -> None:
    from twinlock.errors import InputFileError
    from twinlock.fileio import decode_utf8

    with pytest.raises(InputFileError, match=match):
        decode_utf8(data, "f.txt")
