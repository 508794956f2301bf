"""The bundled snapshot is located once: a size+mtime index instead of re-hashing 5 MB."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from twinlock.errors import ChannelError
from twinlock.solve import channels

NAME = "conda-forge-snapshot"


def _no_unpack(*_: object) -> Path:
    raise AssertionError("the archive was read and hashed again")


def test_a_second_process_finds_the_tree_through_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWINLOCK_CACHE_DIR", str(tmp_path))
    first = channels.bundled_channel(NAME)
    assert (first / "noarch" / "repodata.json").is_file()
    assert list((tmp_path / "channels").glob(f".{NAME}-*.index"))
    channels._LOCATED.clear()  # as a new process would start
    monkeypatch.setattr(channels, "_unpack", _no_unpack)
    assert channels.bundled_channel(NAME) == first


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda tree, index: shutil.rmtree(tree.parent), id="tree-removed"),
        pytest.param(lambda tree, index: index.write_text("../elsewhere\n"), id="index-bogus"),
        pytest.param(lambda tree, index: index.write_text(""), id="index-empty"),
    ],
)
def test_a_stale_or_bogus_index_leads_to_a_fresh_unpack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: object
) -> None:
    monkeypatch.setenv("TWINLOCK_CACHE_DIR", str(tmp_path))
    tree = channels.bundled_channel(NAME)
    (index,) = (tmp_path / "channels").glob(f".{NAME}-*.index")
    assert callable(damage)
    damage(tree, index)
    channels._LOCATED.clear()
    again = channels.bundled_channel(NAME)
    assert again == tree
    assert (again / "noarch" / "repodata.json").is_file()


def test_an_unknown_bundled_channel_is_a_channel_error() -> None:
    with pytest.raises(ChannelError, match="no bundled channel named 'nope'"):
        channels.bundled_channel("nope")
