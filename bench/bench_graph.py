"""Graph build + ``why`` on the bundled payload lock, in-process (target < 0.3 s)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from twinlock.graph.model import DependencyGraph
from twinlock.lock.store import read_lock_file

LOCK = Path(__file__).resolve().parents[1] / "locks" / "rsp" / "payload.conda-lock.yml"
TARGET = 0.3


def _best(func: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def run() -> list[tuple[str, str]]:
    start = time.perf_counter()
    import networkx  # noqa: F401  (first import counted once, below)

    import_s = time.perf_counter() - start
    lock = read_lock_file(LOCK)
    parse_s = _best(lambda: read_lock_file(LOCK), repeat=3)
    build_s = _best(lambda: DependencyGraph.from_lock(lock))
    graph = DependencyGraph.from_lock(lock)

    def build_and_why() -> None:
        fresh = DependencyGraph.from_lock(lock)
        fresh.paths_to("libzlib", limit=10)
        fresh.root_count("libzlib")

    total_s = _best(build_and_why)
    all_paths_s = _best(lambda: graph.paths_to("libzlib", limit=100), repeat=3)
    size = f"{len(graph.graph)} packages, {graph.graph.number_of_edges()} edges"
    return [
        ("payload graph", size),
        ("import networkx (once per process)", f"{import_s:.3f} s"),
        ("parse payload lock (not part of the target)", f"{parse_s:.3f} s"),
        ("graph build", f"{build_s:.3f} s"),
        (
            f"build + why payload libzlib (target < {TARGET} s)",
            f"{total_s:.3f} s {'OK' if total_s < TARGET else 'MISS'}",
        ),
        ("why payload libzlib --limit 100", f"{all_paths_s:.3f} s"),
    ]
