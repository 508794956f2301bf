"""Which twinlock modules a full lock of the bundled example runs, and how often a call climbs.

Not a speed benchmark (``make bench`` does not run it): it measures the layout.
Run it against any checkout of twinlock (the README "Layout" section quotes it)::

    PYTHONPATH=SRC .venv/bin/python bench/layer_walk.py SRC ROOT [--relock]

SRC is the ``src`` directory of the tree to measure, ROOT the checkout holding
``envs/rsp.yaml`` and ``twinlock.toml``. The project is opened first; then
``run_lock(project, full=True)`` (``twinlock.app.lock``, or ``twinlock.workflows``
in trees before the stage packages) locks into a temporary directory under
``sys.setprofile`` (every thread). With ``--relock``, ``run_lock(project)`` relocks
a copy of ROOT's ``locks/`` instead (nothing changed: the no-op path). Counted:

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

The second measure follows the ``project`` argument itself (issue 12: "following the
``project`` argument of ``run_lock`` through the code enters 16 modules and climbs back
up a layer 37 times"). In the same profiled run, a twinlock function call *carries the
project* when one of its frame's locals (arguments, closure variables, ``self``) is the
very Project object handed to ``run_lock`` (identity, ``is``) or holds it: a bound
method of it, or an object, closure, ``functools.partial`` or list/tuple/dict with it
inside, up to three references deep. Counted:

* modules: the twinlock modules whose functions ran carrying the project;
* calls: each call where both the callee and its caller (the nearest twinlock frame up
  the stack, as above) carry the project and lie in different modules, classified
  like the calls above; *up* is a call from a lower layer back up to a higher one.

It is counted twice: for the Project object alone, and for the project *or a value read
off it* (its fields ``config``, ``composition_path``, ``composition`` and ``paths``, by
identity, held the same ways): the data the stages receive instead of the project.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import importlib
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType, FunctionType, MethodType
from typing import Any

_COROUTINE_FLAGS = 0x20 | 0x80 | 0x200  # generator, coroutine, async generator


def _module_of(filename: str, src: str) -> str | None:
    if not filename.startswith(src):
        return None
    rel = Path(filename).relative_to(src).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _new_call(
    frame: FrameType, event: str, src: str, resumable: dict[int, FrameType]
) -> str | None:
    """The twinlock module a new call of *frame* enters (None: not one, or a resumption)."""
    if event != "call":
        return None
    code = frame.f_code
    callee = _module_of(code.co_filename, src)
    if callee is None or code.co_name == "<module>":
        return None
    if code.co_flags & _COROUTINE_FLAGS:
        if resumable.get(id(frame)) is frame:
            return None  # a resumption of a coroutine or generator, not a new call
        resumable[id(frame)] = frame
    return callee


class Walk:
    def __init__(self, src: Path) -> None:
        self.src = str(src) + os.sep
        self.modules: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[tuple[str, str]] = collections.Counter()
        self._resumable: dict[int, FrameType] = {}

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        callee = _new_call(frame, event, self.src, self._resumable)
        if callee is None:
            return
        self.modules[callee] += 1
        caller = frame.f_back
        while caller is not None:
            name = _module_of(caller.f_code.co_filename, self.src)
            if name is not None:
                if name != callee:
                    self.calls[(name, callee)] += 1
                return
            caller = caller.f_back


_SCALARS = (str, bytes, int, float, bool, type(None), Path)
_DEPTH = 3  # references followed from a local to the project (self -> field -> method)
_ITEMS = 16  # items of a list, tuple or dict looked at


class ProjectWalk:
    """Which twinlock functions ran carrying *targets* (the project, or its parts)."""

    def __init__(self, src: Path, targets: list[object]) -> None:
        self.src = str(src) + os.sep
        self.targets = {id(t) for t in targets}
        self._keep = targets  # the ids stay theirs while the walk runs
        self.modules: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[tuple[str, str]] = collections.Counter()
        # The modules entered, in time order (repeats collapsed): returns show up here
        # as the next entry, so a -> b counts the path moving, not only calls.
        self.sequence: list[str] = []
        self._resumable: dict[int, FrameType] = {}

    def holds(self, value: object, depth: int = _DEPTH) -> bool:
        """True when *value* is a target or leads to one within *depth* references."""
        if id(value) in self.targets:
            return True
        if depth == 0 or isinstance(value, (*_SCALARS, type)):
            return False
        return any(self.holds(inner, depth - 1) for inner in _references(value))

    def carries(self, frame: FrameType) -> bool:
        return any(self.holds(value) for value in list(frame.f_locals.values()))

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        callee = _new_call(frame, event, self.src, self._resumable)
        if callee is None:
            return
        if not self.carries(frame):
            return
        self.modules[callee] += 1
        if not self.sequence or self.sequence[-1] != callee:
            self.sequence.append(callee)
        caller = frame.f_back
        while caller is not None:
            name = _module_of(caller.f_code.co_filename, self.src)
            if name is not None:
                if name != callee and self.carries(caller):
                    self.calls[(name, callee)] += 1
                return
            caller = caller.f_back


def _references(value: object) -> list[object]:
    """What *value* refers to that could hold the project (read without running its code)."""
    if isinstance(value, MethodType):
        return [value.__self__]
    if isinstance(value, FunctionType):
        cells = value.__closure__ or ()
        return [c.cell_contents for c in cells if _filled(c)]
    if isinstance(value, functools.partial):
        return [value.func, *value.args, *value.keywords.values()]
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)[:_ITEMS]
    if isinstance(value, dict):
        return list(value.values())[:_ITEMS]
    try:
        fields = dict(object.__getattribute__(value, "__dict__"))
    except (AttributeError, TypeError):
        fields = {}
    if dataclasses.is_dataclass(value) and not fields:  # slots
        fields = {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
    return list(fields.values())


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:  # an empty cell (a variable not yet assigned)
        return False
    return True


def _profile_all(*walks: Any) -> Any:
    def profile(frame: FrameType, event: str, arg: Any) -> None:
        for walk in walks:
            walk.profile(frame, event, arg)

    return profile


def _open_and_lock(root: Path, locks: Path) -> tuple[Any, Any, str]:
    try:
        project_mod = importlib.import_module("twinlock.app.project")
        lock_mod = importlib.import_module("twinlock.app.lock")
    except ModuleNotFoundError:
        project_mod = lock_mod = importlib.import_module("twinlock.workflows")
    project = project_mod.open_project(root / "envs" / "rsp.yaml", locks_dir=locks, cwd=root)
    return project, lock_mod.run_lock, lock_mod.__name__


def _classify(
    graph: Any, calls: collections.Counter[tuple[str, str]]
) -> tuple[collections.Counter[str], dict[str, collections.Counter[tuple[str, str]]]]:
    """Calls by kind (down, up, cycle, across) with the tree's import graph, and their pairs."""
    kinds: collections.Counter[str] = collections.Counter()
    pairs: dict[str, collections.Counter[tuple[str, str]]] = collections.defaultdict(
        collections.Counter
    )
    for (a, b), count in calls.items():
        down = graph.chain_exists(importer=a, imported=b)
        up = graph.chain_exists(importer=b, imported=a)
        kind = "cycle" if down and up else "down" if down else "up" if up else "across"
        kinds[kind] += count
        pairs[kind][(a, b)] += count
    return kinds, pairs


def _print_calls(graph: Any, calls: collections.Counter[tuple[str, str]], limit: int) -> None:
    kinds, pairs = _classify(graph, calls)
    for kind in ("down", "up", "cycle", "across"):
        shown = ", ".join(f"{a}->{b}" for a, b in sorted(pairs[kind])[:limit])
        print(f"  {kind:<6} {kinds[kind]:>6} calls, {len(pairs[kind]):>3} pairs  {shown}")


def _print_project_walk(title: str, graph: Any, walk: ProjectWalk) -> None:
    kinds, pairs = _classify(graph, walk.calls)
    print(f"{title}: {len(walk.modules)} modules, {kinds['up']} calls up a layer")
    print(f"  calls between two such functions in different modules: {sum(walk.calls.values())}")
    _print_calls(graph, walk.calls, limit=40)
    for (a, b), count in sorted(pairs["up"].items()):
        print(f"    up {count:>5}  {a} -> {b}")
    steps = collections.Counter(zip(walk.sequence, walk.sequence[1:], strict=False))
    moved, moved_pairs = _classify(graph, steps)
    print(
        f"  the modules entered in time order: {len(walk.sequence)} entries, "
        f"{len(walk.sequence) - 1} moves; {moved['up']} moves up a layer "
        f"({len(moved_pairs['up'])} pairs: "
        + ", ".join(f"{a}->{b} x{n}" for (a, b), n in sorted(moved_pairs["up"].items()))
        + ")"
    )
    print("  modules: " + ", ".join(sorted(walk.modules)))


def main(src: Path, root: Path, *, relock: bool = False) -> None:
    import grimp

    import twinlock

    assert Path(twinlock.__file__).is_relative_to(src), f"{twinlock.__file__} is not under {src}"
    walk = Walk(src)
    with tempfile.TemporaryDirectory() as tmp:
        if relock:
            shutil.copytree(root / "locks", Path(tmp), dirs_exist_ok=True)
        project, run_lock, entry = _open_and_lock(root, Path(tmp))
        parts = [getattr(project, f.name) for f in dataclasses.fields(project)]
        alone = ProjectWalk(src, [project])
        with_parts = ProjectWalk(src, [project, *parts])
        profile = _profile_all(walk, alone, with_parts)
        sys.setprofile(profile)
        threading.setprofile(profile)
        try:
            report = run_lock(project, full=not relock)
        finally:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]
    graph = grimp.build_graph("twinlock")
    print(f"tree: {src}  run_lock(project{'' if relock else ', full=True'})")
    print("solved: " + ", ".join(sorted({s.action for s in report.result.summaries})))
    # Package __init__ modules are empty: count source modules only.
    files = {m for m in graph.modules if not hasattr(sys.modules.get(m), "__path__")}
    loaded = sorted(m for m in sys.modules if m in files)
    reach = graph.find_upstream_modules(entry) & files
    print(f"modules whose functions ran: {len(walk.modules)} of {len(files)}")
    print(f"modules imported by the end of the lock: {len(loaded)}")
    print(f"modules {entry} imports (directly or through others): {len(reach)}")
    print(f"cross-module calls: {sum(walk.calls.values())} ({len(walk.calls)} distinct pairs)")
    _print_calls(graph, walk.calls, limit=12)
    print("modules: " + ", ".join(sorted(walk.modules)))
    print()
    fields = ", ".join(f.name for f in dataclasses.fields(project))
    _print_project_walk("functions that ran carrying the Project object", graph, alone)
    _print_project_walk(f"... carrying it or one of its fields ({fields})", graph, with_parts)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve(), relock="--relock" in sys.argv)
