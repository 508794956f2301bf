"""The async core's sync face: library calls work with and without a running event loop.

A Jupyter notebook runs its cells inside an event loop, where ``asyncio.run`` refuses to
start; ``twinlock.aio.run`` then runs the coroutine on a worker thread with its own loop.
"""

from __future__ import annotations

import _thread
import asyncio
import contextvars
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.conftest import ProjectFactory, mix_composition
from tests.installfixtures import make_install_project
from twinlock import aio
from twinlock.app import install as deploy
from twinlock.app.explain import run_explain
from twinlock.app.lock import run_lock
from twinlock.app.project import open_project

T = TypeVar("T")

REQUEST: contextvars.ContextVar[str] = contextvars.ContextVar("REQUEST", default="unset")


def in_running_loop(call: Callable[[], T]) -> T:
    """*call* made from inside a running event loop, as a notebook cell makes it."""

    async def cell() -> T:
        asyncio.get_running_loop()  # the point: a loop is running in this thread
        return call()

    return asyncio.run(cell())


def direct(call: Callable[[], T]) -> T:
    return call()


CALLERS = [
    pytest.param(direct, id="no-loop"),
    pytest.param(in_running_loop, id="inside-a-running-loop"),
]


async def where_and_what() -> tuple[int, str]:
    await asyncio.sleep(0)
    return threading.get_ident(), REQUEST.get()


@pytest.mark.parametrize(
    ("caller", "same_thread"),
    [
        pytest.param(direct, True, id="no-loop-runs-here"),
        pytest.param(in_running_loop, False, id="running-loop-uses-a-worker"),
    ],
)
def test_run_returns_the_result_where_it_can(caller: Any, same_thread: bool) -> None:
    REQUEST.set("from the caller")
    thread, seen = caller(lambda: aio.run(where_and_what()))
    assert (thread == threading.get_ident()) is same_thread
    assert seen == "from the caller"  # the worker runs in a copy of the caller's context


@pytest.mark.parametrize("caller", CALLERS)
def test_run_raises_the_coroutines_exception(caller: Any) -> None:
    async def fails() -> None:
        raise KeyError("wanted")

    with pytest.raises(KeyError, match="wanted"):
        caller(lambda: aio.run(fails()))


def test_gather_all_raises_only_after_every_step_finished() -> None:
    finished: list[str] = []

    async def fast_failure() -> str:
        raise ValueError("first")

    async def slow(name: str) -> str:
        await asyncio.sleep(0.05)
        finished.append(name)
        return name

    async def both() -> list[str]:
        return await aio.gather_all([fast_failure(), slow("slow")])

    with pytest.raises(ValueError, match="first"):
        asyncio.run(both())
    assert finished == ["slow"]
    assert asyncio.run(aio.gather_all([slow("a"), slow("b")])) == ["a", "b"]


def test_settle_waits_for_a_foreign_thread_inside_python() -> None:
    # A thread the threading module does not know (as rattler's tokio threads are),
    # blocked inside Python code with the GIL released.
    release, done = _thread.allocate_lock(), []
    release.acquire()

    def foreign() -> None:
        release.acquire(timeout=5)
        time.sleep(0.05)
        done.append(True)

    _thread.start_new_thread(foreign, ())
    deadline = time.monotonic() + 5
    while not aio.foreign_threads_in_python() and time.monotonic() < deadline:
        time.sleep(0.001)
    assert aio.foreign_threads_in_python()
    release.release()
    aio.settle()
    assert done == [True]
    assert not aio.foreign_threads_in_python()


def test_only_aio_starts_event_loops() -> None:
    """Every coroutine goes through aio.run: a bare asyncio.run fails in a notebook and
    skips the wait for rattler's threads that keeps exit codes stable."""
    src = Path(aio.__file__).parent
    offenders = [
        f"{path.relative_to(src)}:{number}"
        for path in sorted(src.rglob("*.py"))
        if path.name != "aio.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "asyncio.run(" in line or "run_until_complete(" in line
    ]
    assert offenders == []


def test_threading_threads_are_not_foreign() -> None:
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, args=(5,))
    worker.start()
    try:
        assert worker.ident not in aio.foreign_threads_in_python()
    finally:
        stop.set()
        worker.join()


# --- the use cases, on real solves -------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("caller", CALLERS)
def test_run_explain(caller: Any, make_project: ProjectFactory) -> None:
    # fitsio >=1.2.1 exists on the bundled snapshot only for Python >= 3.12.
    project = make_project(mix_composition(requirements=["python 3.11.*", "fitsio >=1.2.1"]))
    analysis = caller(lambda: run_explain(project))
    (report,) = analysis.reports
    assert not report.solvable
    assert [c.specs for c in report.conflicts] == [("python 3.11.*", "fitsio >=1.2.1")]


@pytest.mark.slow
def test_run_lock_inside_a_running_loop_writes_what_a_plain_call_writes(
    make_project: ProjectFactory,
) -> None:
    project = make_project(mix_composition(requirements=["python 3.12.*", "fitsio >=1.2.1"]))
    in_loop = in_running_loop(lambda: run_lock(project))
    assert sorted(p.name for p in in_loop.written) == [
        "payload-linux-64.explicit.txt",
        "payload.conda-lock.yml",
    ]
    assert [s.action for s in in_loop.result.summaries] == ["solved"]
    # Solved again from scratch outside any loop: nothing to write, byte for byte the same.
    plain = run_lock(project, full=True)
    assert [s.action for s in plain.result.summaries] == ["solved"]
    assert plain.written == ()


@pytest.mark.slow
def test_pypi_layer_locks_inside_a_running_loop(make_project: ProjectFactory) -> None:
    """uv runs as asyncio subprocesses on the worker's loop (needs PyPI or a warm uv cache)."""
    project = make_project(mix_composition(python="3.11", pypi=["six==1.16.0"]))
    in_running_loop(lambda: run_lock(project))
    plat = project.read_locks()["payload"].platforms[0]
    six = plat.pypi_package("six")
    assert six is not None and six.version == "1.16.0"


@pytest.mark.slow
def test_run_install_inside_a_running_loop(tmp_path: Path) -> None:
    ip = make_install_project(tmp_path)
    project = open_project(ip.composition, cwd=ip.root)
    root = tmp_path / "root"

    def lock_and_install() -> deploy.InstallReport:
        run_lock(project)
        return deploy.run_install(project, root=root, platform="linux-64")

    report = in_running_loop(lock_and_install)
    assert [(r.environment, r.action) for r in report.results] == [
        ("lab", "install"),
        ("payload", "install"),
    ]
    assert (root / "opt/payload/conda-meta").is_dir()
