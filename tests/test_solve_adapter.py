"""The rattler adapter's edges: which failures are the user's channel, where repodata is cached."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rattler.exceptions as rx

from tests import condapkg as cp
from twinlock.errors import ChannelError, SolveError
from twinlock.model.composition import Channel
from twinlock.solve.adapter import RattlerSolver, SolveRequest, _classify
from twinlock.solve.channels import local_channel_dir

CONDA_FORGE = Channel(name="conda-forge", url="https://conda.anaconda.org/conda-forge")


def _request(channel: Channel = CONDA_FORGE, specs: tuple[str, ...] = ("zlib",)) -> SolveRequest:
    return SolveRequest("payload", "linux-64", specs, (channel,), ())


class GatewayError(Exception):
    """Not rattler's: only the name matches (matching by name would call it a channel error)."""


@pytest.mark.parametrize(
    ("make", "kind", "match"),
    [
        pytest.param(
            lambda: rx.GatewayError("boom"), ChannelError, "cannot read the channels", id="gateway"
        ),
        pytest.param(
            lambda: rx.FetchRepoDataError("boom"),
            ChannelError,
            "cannot read the channels",
            id="fetch-repodata",
        ),
        pytest.param(
            lambda: rx.InvalidChannelError("boom"),
            ChannelError,
            "cannot read the channels",
            id="invalid-channel",
        ),
        pytest.param(
            lambda: GatewayError("boom"), SolveError, "solving payload on linux-64", id="same-name"
        ),
        pytest.param(
            lambda: ValueError("boom"), SolveError, "solving payload on linux-64", id="other"
        ),
    ],
)
def test_failures_are_classified_by_rattler_exception_type(
    make: Callable[[], Exception], kind: type[Exception], match: str
) -> None:
    error = _classify(make(), _request())
    assert type(error) is kind
    with pytest.raises(kind, match=match):
        raise error


def _broken_channel(tmp_path: Path, repodata: str | None) -> Path:
    """A channel whose linux-64 repodata is *repodata* (None: no channel directory at all)."""
    channel = tmp_path / "broken"
    if repodata is None:
        return channel
    for subdir in ("linux-64", "noarch"):
        (channel / subdir).mkdir(parents=True)
    (channel / "linux-64" / "repodata.json").write_text(repodata)
    (channel / "noarch" / "repodata.json").write_text("{}")
    return channel


@pytest.mark.slow
@pytest.mark.parametrize(
    "repodata",
    [
        pytest.param("{not json", id="corrupt-repodata"),
        pytest.param(None, id="missing-channel-directory"),
    ],
)
def test_a_channel_rattler_cannot_read_is_a_channel_error(
    tmp_path: Path, repodata: str | None
) -> None:
    channel = _broken_channel(tmp_path, repodata)
    solver = RattlerSolver({CONDA_FORGE.url: str(channel)}, Path)
    with pytest.raises(ChannelError, match="cannot read the channels for payload on linux-64"):
        solver.solve_all([_request()])


@pytest.fixture
def served_channel(tmp_path: Path) -> Iterator[str]:
    """A small real channel served over HTTP on localhost (rattler caches remote repodata)."""
    channel = tmp_path / "served"
    cp.build_channel(channel, [cp.simple("zlib", "1.3.1")])

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(channel))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


@pytest.mark.slow
def test_repodata_is_cached_under_twinlock_cache_dir_not_in_home(
    tmp_path: Path, served_channel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("TWINLOCK_CACHE_DIR", str(tmp_path / "cache"))
    channel = Channel(name=served_channel, url=served_channel)
    outcome = RattlerSolver({}, local_channel_dir).solve_all([_request(channel)])[0]
    assert outcome.packages is not None
    assert [p.name for p in outcome.packages] == ["zlib"]
    cached = list((tmp_path / "cache" / "rattler").rglob("*.info.json"))
    assert any(served_channel in p.read_text() for p in cached), cached
    assert not list(home.rglob("*")), "rattler wrote into the home directory"
