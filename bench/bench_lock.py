"""Lock speed on the bundled example (envs/rsp.yaml): twinlock vs a bare rattler.solve.

Every figure is the best of a few runs in a fresh process, so imports and
repodata loading are counted the same way on both sides:

* full lock: ``twinlock lock`` into an empty directory;
* floor: a script that only calls ``rattler.solve`` for the same four
  environment x platform requests, concurrently, on one gateway;
* no-op relock: ``twinlock lock`` right after, every input unchanged;
* ``twinlock --help`` start-up.

The in-process lines time the same work inside one warm interpreter.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TWINLOCK = [sys.executable, "-m", "twinlock.cli"]
RUNS = 3

BARE_SOLVE = textwrap.dedent(
    """
    import asyncio, datetime as dt, sys
    import rattler, yaml
    from rattler import BuildString, GenericVirtualPackage, PackageName, Version
    from twinlock.fileio import bundled_channel

    channel = rattler.Channel(str(bundled_channel("conda-forge-snapshot")))
    lab = ["python 3.12.*", "jupyterlab >=4,<5", "jupyterhub-singleuser", "ipykernel", "nodejs"]
    payload = yaml.safe_load(open(sys.argv[1]))["dependencies"]
    arch = {"linux-64": "x86_64", "linux-aarch64": "aarch64", "osx-arm64": "m1"}

    def vps(platform):
        pairs = [("__unix", "0", "0"), ("__archspec", "1", arch[platform])]
        if platform.startswith("linux"):
            pairs += [("__linux", "4.18", "0"), ("__glibc", "2.28", "0")]
        else:
            pairs += [("__osx", "11.0", "0")]
        return [
            GenericVirtualPackage(PackageName(n), Version(v), BuildString(b))
            for n, v, b in pairs
        ]

    async def main():
        gateway = rattler.Gateway()
        cut = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
        jobs = [(lab, p) for p in arch] + [(payload, "linux-64")]
        done = await asyncio.gather(*(
            rattler.solve([channel], specs, gateway=gateway, platforms=[p, "noarch"],
                          virtual_packages=vps(p), exclude_newer=cut,
                          timestamp_policy="allow-missing")
            for specs, p in jobs))
        print([len(r) for r in done])

    if __name__ == "__main__":
        asyncio.run(main())
    """
)


def _best(action: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def _fresh(project: Any) -> Any:
    """The project with an empty locks directory: a first, full lock."""
    return dataclasses.replace(project, paths=type(project.paths)(Path(tempfile.mkdtemp())))


def _run(args: list[str]) -> None:
    subprocess.run(args, cwd=REPO, check=True, capture_output=True)


def _in_process(locks_dir: Path, script: Path, payload_file: str) -> tuple[float, float, float]:
    import asyncio

    from twinlock.app.lock import run_lock
    from twinlock.app.project import open_project

    argv, sys.argv = sys.argv, ["bare", payload_file]
    try:
        namespace: dict[str, object] = {"__name__": "bare"}
        exec(compile(script.read_text(), str(script), "exec"), namespace)
    finally:
        sys.argv = argv
    bare_main = namespace["main"]
    assert callable(bare_main)
    bare = _best(lambda: asyncio.run(bare_main()))
    project = open_project(REPO / "envs" / "rsp.yaml", locks_dir=locks_dir, cwd=REPO)
    full = _best(lambda: run_lock(_fresh(project)))
    noop = _best(lambda: run_lock(project))
    return bare, full, noop


def run() -> list[tuple[str, str]]:
    payload_file = str(REPO / "envs" / "rsp-payload.environment.yml")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bare_solve.py"
        script.write_text(BARE_SOLVE)
        locks = str(Path(tmp) / "locks")
        _run([*TWINLOCK, "lock", "envs/rsp.yaml", "--locks-dir", locks])  # warm the cache
        bare = _best(lambda: _run([sys.executable, str(script), payload_file]))
        full = _best(
            lambda: _run([*TWINLOCK, "lock", "envs/rsp.yaml", "--locks-dir", tempfile.mkdtemp()])
        )
        noop = _best(lambda: _run([*TWINLOCK, "lock", "envs/rsp.yaml", "--locks-dir", locks]))
        help_time = _best(lambda: _run([*TWINLOCK, "--help"]))
        bare_in, full_in, noop_in = _in_process(Path(tmp) / "in-process", script, payload_file)
    return [
        ("bare rattler.solve script, 4 solves (floor)", f"{bare:.2f} s"),
        ("twinlock lock into an empty directory (CLI)", f"{full:.2f} s"),
        ("  ratio to the floor (target <= 1.3x)", f"{full / bare:.2f}x"),
        ("no-op relock (CLI)", f"{noop:.2f} s"),
        ("  full / no-op (target >= 5x)", f"{full / noop:.1f}x"),
        ("twinlock --help start-up (target < 0.3 s)", f"{help_time:.3f} s"),
        ("in-process bare rattler.solve (warm interpreter)", f"{bare_in:.2f} s"),
        ("in-process full lock (warm interpreter)", f"{full_in:.2f} s"),
        ("  ratio to the in-process floor (target <= 1.3x)", f"{full_in / bare_in:.2f}x"),
        ("in-process no-op relock", f"{noop_in * 1000:.1f} ms"),
        ("  in-process full / no-op", f"{full_in / noop_in:.0f}x"),
    ]
