"""Which twinlock modules a full lock of the bundled example runs, and how often a call climbs.

Not a speed benchmark (``make bench`` does not run it): it measures the layout.
Run it against any checkout of twinlock (the README "Layout" section quotes it)::

    PYTHONPATH=SRC .venv/bin/python bench/layer_walk.py SRC ROOT

SRC is the ``src`` directory of the tree to measure, ROOT the checkout holding
``envs/rsp.yaml`` and ``twinlock.toml``. The project is opened first; then
``run_lock(project, full=True)`` (``twinlock.app.lock``, or ``twinlock.workflows``
in trees before the stage packages) locks into a temporary directory under
``sys.setprofile`` (every thread). Counted:

* modules: twinlock source files with a function that ran (module bodies not counted),
  the twinlock modules imported once the lock is done, and the modules the entry
  module imports directly or through others (its static reach);
* calls: each call from a function of twinlock module A into one of module B != A
  (the caller is the nearest twinlock frame up the stack; a resumed coroutine or
  generator is counted once). Classified with that tree's own import graph (grimp,
  every import statement): *down* when A imports B (directly or through others) and
  B never reaches A, *up* (climbing back up a layer) when B imports A and A never
  reaches B, *cycle* when each reaches the other, *across* when neither does
  (a callback handed over by a third module).
"""

from __future__ import annotations

import collections
import importlib
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import Any

_COROUTINE_FLAGS = 0x20 | 0x80 | 0x200  # generator, coroutine, async generator


def _module_of(filename: str, src: str) -> str | None:
    if not filename.startswith(src):
        return None
    rel = Path(filename).relative_to(src).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


class Walk:
    def __init__(self, src: Path) -> None:
        self.src = str(src) + os.sep
        self.modules: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[tuple[str, str]] = collections.Counter()
        self._resumable: dict[int, FrameType] = {}

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        callee = _module_of(code.co_filename, self.src)
        if callee is None or code.co_name == "<module>":
            return
        if code.co_flags & _COROUTINE_FLAGS:
            if self._resumable.get(id(frame)) is frame:
                return  # a resumption, not a new call
            self._resumable[id(frame)] = frame
        self.modules[callee] += 1
        caller = frame.f_back
        while caller is not None:
            name = _module_of(caller.f_code.co_filename, self.src)
            if name is not None:
                if name != callee:
                    self.calls[(name, callee)] += 1
                return
            caller = caller.f_back


def _open_and_lock(root: Path, locks: Path) -> tuple[Any, Any, str]:
    try:
        project_mod = importlib.import_module("twinlock.app.project")
        lock_mod = importlib.import_module("twinlock.app.lock")
    except ModuleNotFoundError:
        project_mod = lock_mod = importlib.import_module("twinlock.workflows")
    project = project_mod.open_project(root / "envs" / "rsp.yaml", locks_dir=locks, cwd=root)
    return project, lock_mod.run_lock, lock_mod.__name__


def main(src: Path, root: Path) -> None:
    import grimp

    import twinlock

    assert Path(twinlock.__file__).is_relative_to(src), f"{twinlock.__file__} is not under {src}"
    walk = Walk(src)
    with tempfile.TemporaryDirectory() as tmp:
        project, run_lock, entry = _open_and_lock(root, Path(tmp))
        sys.setprofile(walk.profile)
        threading.setprofile(walk.profile)
        try:
            run_lock(project, full=True)
        finally:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]
    graph = grimp.build_graph("twinlock")
    kinds: collections.Counter[str] = collections.Counter()
    pairs: dict[str, set[tuple[str, str]]] = collections.defaultdict(set)
    for (a, b), count in walk.calls.items():
        down = graph.chain_exists(importer=a, imported=b)
        up = graph.chain_exists(importer=b, imported=a)
        kind = "cycle" if down and up else "down" if down else "up" if up else "across"
        kinds[kind] += count
        pairs[kind].add((a, b))
    print(f"tree: {src}")
    # Package __init__ modules are empty: count source modules only.
    files = {m for m in graph.modules if not hasattr(sys.modules.get(m), "__path__")}
    loaded = sorted(m for m in sys.modules if m in files)
    reach = graph.find_upstream_modules(entry) & files
    print(f"modules whose functions ran: {len(walk.modules)} of {len(files)}")
    print(f"modules imported by the end of the lock: {len(loaded)}")
    print(f"modules {entry} imports (directly or through others): {len(reach)}")
    print(f"cross-module calls: {sum(walk.calls.values())} ({len(walk.calls)} distinct pairs)")
    for kind in ("down", "up", "cycle", "across"):
        shown = ", ".join(f"{a}->{b}" for a, b in sorted(pairs[kind])[:12])
        print(f"  {kind:<6} {kinds[kind]:>6} calls, {len(pairs[kind]):>3} pairs  {shown}")
    print("modules: " + ", ".join(sorted(walk.modules)))


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
