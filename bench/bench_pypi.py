"""PyPI layer speed: resolving the nublado lab with uv, installing a small layer from uv's cache.

* lock the bundled PyPI lab (envs/rsp-pypi.yaml, 255 packages) from scratch with
  a warm uv cache (uv still revalidates the index over the network);
* no-op relock of the same (every input unchanged: metadata only, no uv run);
* install a small PyPI-only environment (jupyter_client) into a fresh venv from
  uv's cache, and a rerun (sync, nothing to do).

Needs network access to PyPI for the resolution figures; each figure is the
best of a few runs in a fresh process.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TWINLOCK = [sys.executable, "-m", "twinlock"]
RUNS = 3

INSTALL = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from twinlock.app import install as deploy
    from twinlock.app.lock import run_lock
    from twinlock.app.project import open_project
    project = open_project(Path(sys.argv[1]))
    run_lock(project)
    for label in ("fresh venv", "rerun"):
        start = time.perf_counter()
        report = deploy.run_install(project, root=Path("/"), platform="linux-64")
        layer = report.pypi[0]
        print(label, time.perf_counter() - start, layer.packages, layer.offline)
    """
)


def _best(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=REPO)
        times.append(time.perf_counter() - start)
    return min(times)


def _install_rows(tmp: Path) -> list[tuple[str, str]]:
    (tmp / "envs").mkdir()
    (tmp / "twinlock.toml").write_text("")
    (tmp / "envs" / "small.yaml").write_text(
        "name: small\nchannels: [conda-forge]\nplatforms: [linux-64]\nenvironments:\n"
        f"  tool:\n    prefix: {tmp}/opt/tool\n    python: '3.11'\n    pypi: [jupyter_client]\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", INSTALL, str(tmp / "envs" / "small.yaml")],
        check=True,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in done.stdout.splitlines():
        label, seconds, packages, offline = line.rsplit(" ", 3)
        source = "uv cache" if offline == "True" else "network"
        rows.append(
            (
                f"install PyPI-only env, {label} ({packages} packages, {source})",
                f"{float(seconds):.2f} s   (target < 3 s)",
            )
        )
    return rows


def run() -> list[tuple[str, str]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        locks = Path(tmp) / "locks"
        lock = [*TWINLOCK, "lock", "envs/rsp-pypi.yaml", "--env", "lab", "--locks-dir", str(locks)]
        fresh = _best([*lock, "--full"])  # --full: previous locks ignored, uv runs
        label = "lock nublado PyPI lab from scratch (255 pkgs, warm uv cache)"
        rows.append((label, f"{fresh:.2f} s   (target < 15 s)"))
        noop = _best(lock)
        rows.append(("no-op relock of the PyPI lab", f"{noop:.2f} s   (target < 1 s)"))
    with tempfile.TemporaryDirectory() as tmp:
        rows += _install_rows(Path(tmp))
    return rows


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<62} {value}")
