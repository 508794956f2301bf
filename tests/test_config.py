"""twinlock.toml mirrors (directories, bundled snapshots, URLs) and conda's channel_alias."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinlock.errors import ConfigError
from twinlock.model.composition import Channel
from twinlock.spec.config import alias_mirrors, parse_config
from twinlock.spec.load import condarc_channel_alias

CF = "https://conda.anaconda.org/conda-forge"


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        pytest.param("bundled:conda-forge-snapshot", "bundled:conda-forge-snapshot", id="bundled"),
        pytest.param("https://mirror.example.org/cf/", "https://mirror.example.org/cf", id="url"),
        pytest.param("file:///srv/cf", "file:///srv/cf", id="file-url"),
        pytest.param("mirrors/cf", "/proj/mirrors/cf", id="directory"),
    ],
)
def test_mirror_locations(location: str, expected: str) -> None:
    config = parse_config({"mirrors": {"conda-forge": location}}, root=Path("/proj"), source="t")
    assert dict(config.mirrors) == {CF: expected}


@pytest.mark.parametrize(
    ("location", "message"),
    [
        pytest.param("https://", "has no host", id="no-host"),
        pytest.param("ftp://mirror.example.org/cf", "ftp:// is not a channel URL", id="scheme"),
        pytest.param("", "expected a directory path", id="empty"),
    ],
)
def test_bad_mirror_locations(location: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"mirrors": {"conda-forge": location}}, root=Path("/proj"), source="t")


def test_channel_alias_reads_named_channels_only() -> None:
    channels = [Channel.from_string("conda-forge"), Channel.from_string("https://x.org/own")]
    assert alias_mirrors(channels, "https://alias.example.org/") == {
        CF: "https://alias.example.org/conda-forge"
    }
    assert alias_mirrors(channels, "https://conda.anaconda.org") == {}


@pytest.mark.parametrize(
    ("text", "alias"),
    [
        pytest.param(
            "channel_alias: https://alias.example.org\n", "https://alias.example.org", id="set"
        ),
        pytest.param("channels: [conda-forge]\n", None, id="unset"),
        pytest.param("channel_alias: [1, 2]\n", None, id="not-a-string"),
        pytest.param("channel_alias: [unclosed\n", None, id="bad-yaml"),
        pytest.param(None, None, id="no-file"),
    ],
)
def test_condarc_channel_alias(tmp_path: Path, text: str | None, alias: str | None) -> None:
    condarc = tmp_path / ".condarc"
    if text is not None:
        condarc.write_text(text)
    assert condarc_channel_alias({"CONDARC": str(condarc)}) == alias
