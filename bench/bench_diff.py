"""Speed of ``twinlock diff`` (and ``sbom``) on ~500-package locks, in-process.

The old side is the bundled example's payload lock (523 packages); the new
side is a copy with a realistic churn: every 4th package upgraded, every 9th
rebuilt, 10 removed, 10 added and one hash alarm.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

from twinlock.audit import diffrender
from twinlock.audit.diff import diff_lock_sets
from twinlock.audit.diffmodel import LocksDiff, LockSet
from twinlock.audit.sbom import render_sbom
from twinlock.lock.store import read_lock_file
from twinlock.model.lock import EnvironmentLock, LockedPackage

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = ROOT / "locks" / "rsp" / "payload.conda-lock.yml"
TARGET_S = 0.2


def _churned(i: int, pkg: LockedPackage) -> LockedPackage:
    if i % 4 == 0:
        return replace(pkg, version=pkg.version + ".1", md5="0" * 32)
    if i % 9 == 0:
        return replace(pkg, build=pkg.build + "x", md5="1" * 32)
    if i == 5:  # same name-version-build, another hash: the alarm
        return replace(pkg, md5="f" * 32)
    return pkg


def _churn(lock: EnvironmentLock) -> EnvironmentLock:
    plat = lock.platforms[0]
    packages = [_churned(i, pkg) for i, pkg in enumerate(plat.packages[10:])]
    packages += [replace(p, name=f"new-{p.name}") for p in plat.packages[:10]]
    return lock.with_platforms([replace(plat, packages=tuple(sorted(packages)))])


def _best(func: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def run() -> list[tuple[str, str]]:
    start = time.perf_counter()
    old = read_lock_file(PAYLOAD)
    parse = time.perf_counter() - start
    new = _churn(old)
    sides = LockSet.create("old", [old]), LockSet.create("new", [new])
    result: LocksDiff = diff_lock_sets(*sides)
    core = _best(lambda: diff_lock_sets(*sides))
    count = len(old.platforms[0].packages)
    changes = sum(1 for env in result.environments for _ in env.changes())
    renderers: dict[str, Callable[[LocksDiff], str]] = {
        "text": diffrender.render_text,
        "markdown": diffrender.render_markdown,
        "json": diffrender.render_json,
    }
    renders = {name: _best(partial(render, result)) for name, render in renderers.items()}
    start = time.perf_counter()
    render_sbom("rsp", [old], timestamp=dt.datetime.now(dt.UTC))
    sbom = time.perf_counter() - start
    return [
        (f"parse one {count}-package lock", f"{parse * 1000:.0f} ms"),
        (
            f"diff {count} vs {len(new.platforms[0].packages)} packages ({changes} changes)",
            f"{core * 1000:.1f} ms (target < {TARGET_S * 1000:.0f} ms)",
        ),
        *((f"render {name}", f"{secs * 1000:.1f} ms") for name, secs in renders.items()),
        (
            "end to end: parse both + diff + slowest render",
            f"{(2 * parse + core + max(renders.values())) * 1000:.0f} ms",
        ),
        (f"sbom of the {count}-package lock (cyclonedx-json)", f"{sbom:.2f} s (no target)"),
    ]


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<58} {value}")
