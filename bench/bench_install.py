"""Install the two-environment test composition from a warm cache (``make bench``).

The composition of tests/installfixtures.py, with 40 filler packages of 20
files each added to the payload, is locked against a home-built channel and
installed twice into fresh roots: the first run fills the package cache, the
second is the figure that matters for an image rebuild (every archive is
still hash- and member-checked, then linked by rattler into a staged prefix).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the repository root: bench reuses tests/ fixtures

FILLERS = 40
TARGET_SECONDS = 2.0
TARGET_FILES_PER_S = 1000.0


def run() -> list[tuple[str, str]]:
    from tests.installfixtures import COMPOSITION, make_install_project, packages

    from twinlock.app import install as deploy
    from twinlock.app.lock import run_lock
    from twinlock.app.project import open_project
    from twinlock.app.verify import run_verify

    saved = os.environ.get("TWINLOCK_CACHE_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        # A private cache: "cold" must really be cold, and the user's cache stays untouched.
        os.environ["TWINLOCK_CACHE_DIR"] = str(base / "cache")
        composition = json.loads(json.dumps(COMPOSITION))
        payload = composition["environments"]["payload"]
        payload["requirements"] += [f"filler{i}" for i in range(FILLERS)]
        ip = make_install_project(base, specs=packages(FILLERS), composition=composition)
        project = open_project(ip.composition, cwd=ip.root)
        run_lock(project)
        start = time.perf_counter()
        deploy.run_install(project, root=base / "cold", platform="linux-64")
        cold = time.perf_counter() - start
        start = time.perf_counter()
        report = deploy.run_install(project, root=base / "warm", platform="linux-64")
        warm = time.perf_counter() - start
        start = time.perf_counter()
        drift = run_verify(project, root=base / "warm", platform="linux-64", deep=True)
        verify = time.perf_counter() - start
    if saved is None:
        os.environ.pop("TWINLOCK_CACHE_DIR", None)
    else:
        os.environ["TWINLOCK_CACHE_DIR"] = saved
    packages_n = sum(r.packages for r in report.results)
    files_n = sum(r.files for r in report.results)
    return [
        ("packages / files installed (lab + payload)", f"{packages_n} / {files_n}"),
        ("install, cold package cache", f"{cold:.2f} s"),
        (
            "install, warm cache (verify + link + kernel)",
            f"{warm:.2f} s (target < {TARGET_SECONDS} s)",
        ),
        (
            "files/s, warm cache",
            f"{files_n / warm:.0f} files/s (target > {TARGET_FILES_PER_S:.0f})",
        ),
        ("verify --deep", f"{verify:.2f} s, {len(drift)} difference(s)"),
    ]


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<58} {value}")
