"""Run twinlock's async core from sync code: in a script or inside a running event loop.

The adapters that talk to py-rattler (solving, installing) are coroutines; their sync
faces call :func:`run`. It runs the coroutine with :func:`asyncio.run` when this thread has
no running event loop, and on a worker thread with its own loop when it has one (a Jupyter
notebook, an async application), where ``asyncio.run`` would refuse.

:func:`run` returns only after py-rattler's threads have left the interpreter. A py-rattler
coroutine completes on one of rattler's tokio threads, which hands the result to the loop
with ``loop.call_soon_threadsafe`` while attached to the interpreter; that call releases the
GIL to write the loop's wake-up byte. The loop may then finish, and the program exit, before
the tokio thread takes the GIL back: if the interpreter is finalizing by then, CPython ends
the thread and pyo3's guard aborts the whole process (``Fatal Python error:
PyGILState_Release``, exit 134 or 139, after a complete run).
"""

from __future__ import annotations

import contextvars
import sys
import threading
import time
from collections.abc import Awaitable, Coroutine, Sequence
from typing import Any, TypeVar

# asyncio (~20 ms of imports) and concurrent.futures are imported where a coroutine runs:
# ``check`` and ``diff`` import the solver adapter (for its types) but never solve.

T = TypeVar("T")

# How long run() waits for foreign threads to leave the interpreter. They need microseconds;
# the bound only keeps an unrelated native thread (a C extension's) from stalling a call.
SETTLE_LIMIT = 5.0


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run *coro* to completion and return its result (or raise its exception)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run_here(coro)
    # This thread's loop is busy running our caller: give the coroutine a loop of its own.
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="twinlock-aio") as worker:
        return worker.submit(context.run, _run_here, coro).result()


async def gather_all(steps: Sequence[Awaitable[T]]) -> list[T]:
    """Every result in order, or the first exception once *all* steps have finished.

    Plain ``gather`` raises at the first failure and leaves the other steps running; the
    loop then cancels them, and rattler's threads deliver those cancellations after
    :func:`run` has returned, maybe while the program exits.
    """
    import asyncio

    results: list[T] = []
    for item in await asyncio.gather(*steps, return_exceptions=True):
        if isinstance(item, BaseException):
            raise item
        results.append(item)
    return results


def _run_here(coro: Coroutine[Any, Any, T]) -> T:
    import asyncio

    before = foreign_threads_in_python()
    try:
        return asyncio.run(coro)
    finally:
        settle(before)


def foreign_threads_in_python() -> frozenset[int]:
    """Threads the threading module did not start that are inside Python code right now.

    Such a thread (one of rattler's tokio threads, delivering a result) can only be seen
    while it has released the GIL in the middle of a Python call, which leaves its frame in
    place: while it holds the GIL the caller is not running, and once its last frame has
    returned it keeps the GIL until it detaches from the interpreter.
    """
    ours = {t.ident for t in threading.enumerate() if not isinstance(t, threading._DummyThread)}
    return frozenset(sys._current_frames()) - ours


def settle(before: frozenset[int] = frozenset()) -> None:
    """Wait until no foreign thread (other than those in *before*) is inside Python code.

    Sleeping releases the GIL, so a waiting thread can finish its call and detach.
    """
    deadline = time.monotonic() + SETTLE_LIMIT
    while foreign_threads_in_python() - before and time.monotonic() < deadline:
        time.sleep(0.001)
