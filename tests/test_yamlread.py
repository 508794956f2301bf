"""The lock reader of twinlock's YAML subset returns exactly what libyaml returns.

Every committed lock, locks written with odd strings, and hand-written YAML
outside the subset (which must reach libyaml unchanged) are read both ways.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import yaml

from tests.test_emit import COMMITTED, REPO, _random_lock
from twinlock.lock.format import render_conda_lock
from twinlock.lock.yamlread import _Fallback, _read, _Reader, load_yaml


def libyaml(text: str) -> object:
    return yaml.load(text, Loader=yaml.CSafeLoader)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(REPO)))
def test_committed_locks_read_as_libyaml_reads_them(path: Path) -> None:
    text = path.read_text()
    assert _read(text) == libyaml(text)  # package entries by pattern, no fallback
    assert _Reader(text).document() == libyaml(text)  # the line reader alone agrees


@pytest.mark.parametrize("seed", range(40))
def test_written_locks_with_odd_strings_read_back_identically(seed: int) -> None:
    text = render_conda_lock(_random_lock(seed))
    try:
        want = libyaml(text)
    except yaml.YAMLError:
        # PyYAML's writer emits some control characters libyaml will not read back
        assert seed % 2 == 1
        with pytest.raises(yaml.YAMLError):
            load_yaml(text)
        return
    assert load_yaml(text) == want
    if seed % 2 == 0:  # printable ASCII: the subset reader handles all of it
        assert _Reader(text).document() == want
        # an entry with a folded value leaves the pattern path; the line reader takes it
        with contextlib.suppress(_Fallback):
            assert _read(text) == want


SUBSET = [
    pytest.param("a: b\nc:\n- 1\n- 'x'' y'\nd: {}\ne: []\n", id="basic"),
    pytest.param("a:\n  b: true\n  c: false\n  d: 0\n", id="bool-int"),
    pytest.param("k: 'long\n  folded text'\n", id="quoted-fold"),
    pytest.param("k: plain\n  folded text\n", id="plain-fold"),
    pytest.param("- a: 1\n  b: 2\n- c\n", id="top-list"),
    pytest.param("# header\n# more\nx: y\n\n", id="header-and-trailing-blank"),
    pytest.param("'q k': v\n", id="quoted-key"),
    pytest.param("k: a:b\n", id="colon-inside"),
]
OUTSIDE = [
    pytest.param('k: "double"\n', id="double-quoted"),
    pytest.param("k: [a, b]\n", id="flow-list"),
    pytest.param("k: {a: b}\n", id="flow-map"),
    pytest.param("k: &a x\nl: *a\n", id="anchor-alias"),
    pytest.param("k: !!str 1\n", id="tag"),
    pytest.param("k: 1.0\n", id="float"),
    pytest.param("k: 0123\n", id="octal"),
    pytest.param("k: yes\n", id="yaml11-bool"),
    pytest.param("k: 2026-10-01\n", id="date"),
    pytest.param("k: ~\n", id="null"),
    pytest.param("k:\n", id="empty-value"),
    pytest.param("k: a # comment\n", id="comment"),
    pytest.param("a: 1\n# inner\nb: 2\n", id="inner-comment"),
    pytest.param("a: 1\na: 2\n", id="duplicate-key"),
    pytest.param("k: |\n  block\n", id="block-scalar"),
    pytest.param("k: 'a\n\n  b'\n", id="blank-line-in-fold"),
    pytest.param("k: 'a \n  b'\n", id="trailing-space-fold"),
    pytest.param("k:\ttab\n", id="tab"),
    pytest.param("k: caf\u00e9\n", id="non-ascii"),
    pytest.param("k: a\u2028b\n", id="unicode-line-separator"),
    pytest.param("---\nk: v\n", id="document-marker"),
    pytest.param("- - a\n", id="nested-list"),
    pytest.param("-\n", id="empty-item"),
    pytest.param("? k\n: v\n", id="explicit-key"),
    pytest.param("1: v\n", id="int-key"),
    pytest.param("k: 'unterminated\n", id="unterminated"),
    pytest.param("a: b\n  c: d\n", id="bad-indent"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("text", SUBSET)
def test_subset_is_read_without_libyaml(text: str) -> None:
    assert _Reader(text).document() == libyaml(text)


@pytest.mark.parametrize("text", OUTSIDE)
def test_everything_else_goes_to_libyaml(text: str) -> None:
    with pytest.raises(_Fallback):
        _Reader(text).document()
    try:
        want: object = libyaml(text)
    except yaml.YAMLError as exc:
        with pytest.raises(type(exc)):
            load_yaml(text)
    else:
        assert load_yaml(text) == want


ENTRY = (
    "version: 1\nmetadata:\n  platforms:\n  - linux-64\npackage:\n"
    "- name: a\n  version: '1.0'\n  manager: conda\n  platform: linux-64\n"
    "  dependencies:\n    b: '>=1'\n    c: 2 *_x\n  url: https://h/a-1.0-0.conda\n"
    "  hash:\n    md5: '0123'\n    sha256: ab\n  build: '0'\n  category: main\n"
    "  optional: false\n"
)


@pytest.mark.parametrize(
    ("text", "by_pattern"),
    [
        pytest.param(ENTRY, True, id="regular"),
        pytest.param(ENTRY.replace("  build: '0'\n", ""), True, id="no-build"),
        pytest.param(ENTRY.replace("    c: 2 *_x\n", "    c: 2\n      *_x\n"), False, id="folded"),
        pytest.param(
            ENTRY.replace(
                "  manager: conda\n  platform: linux-64\n", "  platform: linux-64\n"
            ).replace("  optional: false\n", "  optional: false\n  manager: conda\n"),
            False,
            id="other-order",
        ),
        pytest.param(ENTRY.replace("    md5: '0123'\n    sha256: ab\n", ""), False, id="no-hash"),
        pytest.param(ENTRY.replace("    md5: '0123'", "    md5: 0123"), False, id="octal-md5"),
        pytest.param(ENTRY.replace("    c: 2 *_x", "    b: 2"), False, id="duplicate-dep"),
        pytest.param(ENTRY + "metadata: {}\n", False, id="key-after-list"),
    ],
)
def test_package_entries_by_pattern_or_line_by_line(text: str, by_pattern: bool) -> None:
    want = libyaml(text)
    if by_pattern:
        assert _read(text) == want
    else:
        with pytest.raises(_Fallback):
            _read(text)
    assert load_yaml(text) == want


@pytest.mark.parametrize(
    "text",
    ["1", "0o7", "0x1F", "1_0", "1:20", "1.5", ".inf", "-.NaN", "yes", "Off", "null", "~", "=",
     "<<", "2026-10-01", "2026-10-01T00:00:00Z", "abc", "0123abc", "f" * 32, "9" * 64, "-", "+1"],
)  # fmt: skip
def test_plain_scalars_resolve_as_pyyaml_resolves_them(text: str) -> None:
    from yaml.nodes import ScalarNode
    from yaml.resolver import Resolver

    reader = _Reader("k: v\n")
    assert reader._resolve(text) == Resolver().resolve(ScalarNode, text, (True, False))
