"""Channel records looked up by exact file, remembered across processes for local channels.

A remembered answer is used only while the channel directory's repodata files
are the same (name, size, modification time); remote channels are always asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

import pytest

from tests import condapkg as cp
from twinlock.app.project import open_project
from twinlock.model.composition import Channel
from twinlock.model.lock import LockedPackage
from twinlock.solve import adapter
from twinlock.solve.adapter import RattlerSolver
from twinlock.solve.channels import channel_source, local_channel_dir
from twinlock.solve.records import (
    Lookup,
    PackageRef,
    RememberedFirst,
    memo_path,
    open_memos,
    read_memo,
)

REPO = Path(__file__).resolve().parents[1]
CANONICAL = "https://example.invalid/channel"
CHANNEL = Channel(name="example", url=CANONICAL)


@pytest.fixture
def local(tmp_path: Path) -> Path:
    channel = tmp_path / "channel"
    cp.build_channel(channel, [cp.simple("alpha"), cp.simple("beta", "2.0")])
    return channel


def _solver(channel: Path) -> RattlerSolver:
    return RattlerSolver({CANONICAL: str(channel)}, local_channel_dir)


def _refs(*names: str) -> list[PackageRef]:
    return [PackageRef(CHANNEL, "linux-64", name) for name in names]


class _Asked:
    """Counts the refs the solver had to ask rattler for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.refs: list[PackageRef] = []
        real = RattlerSolver.find_packages_async

        async def spy(
            solver: RattlerSolver, refs: Sequence[PackageRef]
        ) -> dict[PackageRef, LockedPackage]:
            self.refs += refs
            return await real(solver, refs)

        monkeypatch.setattr(RattlerSolver, "find_packages_async", spy)


FILES = ("alpha-1.0-0.conda", "beta-2.0-0.conda", "gamma-1.0-0.conda")


def test_records_are_remembered_for_the_next_process(
    local: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _Asked(monkeypatch)
    with _solver(local) as solver:
        first = solver.find_packages(_refs(*FILES))
    assert sorted(r.file_name for r in first) == list(FILES[:2])  # gamma: not in the channel
    assert first[_refs(FILES[0])[0]].url == f"{CANONICAL}/linux-64/{FILES[0]}"
    assert len(asked.refs) == 3
    with _solver(local) as solver:  # a new solver, as a new process would build
        again = solver.find_packages(_refs(*FILES))
    assert again == first
    assert len(asked.refs) == 3  # nothing asked again, the absent file included


def test_a_changed_channel_is_asked_again(local: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _Asked(monkeypatch)
    with _solver(local) as solver:
        assert len(solver.find_packages(_refs(*FILES))) == 2
    cp.build_channel(local, [cp.simple("gamma")])  # re-indexed: repodata.json rewritten
    with _solver(local) as solver:
        found = solver.find_packages(_refs(*FILES))
    assert sorted(r.file_name for r in found) == list(FILES)
    assert len(asked.refs) == 6


def test_remote_channels_are_not_remembered() -> None:
    with RattlerSolver({}, local_channel_dir) as solver:  # no mirror: read from the URL
        assert open_memos(_refs(*FILES), solver._source) == {}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("not json", id="garbage"),
        pytest.param('{"format": "other", "records": {}}', id="other-format"),
        pytest.param(
            '{"format": "twinlock-records 1", "records": {"linux-64/alpha-1.0-0.conda": 7}}',
            id="bad-entry",
        ),
        pytest.param(
            '{"format": "twinlock-records 1", "records": {"linux-64/alpha-1.0-0.conda": '
            '{"name": "alpha", "depends": "x"}}}',
            id="bad-fields",
        ),
    ],
)
def test_a_damaged_memo_is_ignored(local: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = memo_path(CANONICAL, local, ["linux-64"])
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    asked = _Asked(monkeypatch)
    with _solver(local) as solver:
        found = solver.find_packages(_refs(FILES[0]))
    assert [r.name for r in found.values()] == ["alpha"]
    assert len(asked.refs) == 1
    assert set(read_memo(path)) == {f"linux-64/{FILES[0]}"}  # rewritten whole


def test_a_file_no_exact_spec_matches_is_asked_by_name(
    local: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adapter, "exact_specs", lambda refs: [])
    with _solver(local) as solver:
        found = solver.find_packages(_refs(*FILES))
    assert sorted(r.file_name for r in found) == list(FILES[:2])


@pytest.mark.slow
def test_exact_specs_find_what_names_find_for_every_committed_pin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = open_project(REPO / "envs" / "rsp.yaml", cwd=REPO)
    refs = sorted(
        {
            PackageRef(Channel(p.channel, p.channel), p.subdir, p.file_name)
            for lock in project.read_locks().values()
            for plat in lock.platforms
            for p in plat.packages
        },
        key=lambda r: (r.subdir, r.file_name),
    )
    with project.solver() as solver:
        exact = adapter.aio.run(solver.find_packages_async(refs))
        monkeypatch.setattr(adapter, "exact_specs", lambda refs: [])
        by_name = adapter.aio.run(solver.find_packages_async(refs))
    assert len(exact) == len(refs) > 700
    assert exact == by_name


def test_remembered_records_answer_without_building_a_finder(local: Path) -> None:
    with _solver(local) as solver:
        solver.find_packages(_refs(*FILES))  # remembers alpha, beta, and gamma's absence
    built: list[RattlerSolver] = []

    def ask() -> Lookup:
        built.append(_solver(local))
        return built[-1].find_packages_uncached

    finder = RememberedFirst(partial(channel_source, {CANONICAL: str(local)}), ask)
    assert sorted(r.file_name for r in finder.find_packages(_refs(*FILES))) == list(FILES[:2])
    assert not built
    try:
        assert finder.find_packages(_refs("delta-1.0-0.conda")) == {}
        assert len(built) == 1  # an unknown file: the channel is asked
    finally:
        for solver in built:
            solver.close()
