"""How long the conflict report of the full rubin-env 9.0.0 list takes, and how many solves.

The payload is the real ``rubin-env-nosysroot`` 9.0.0 run requirements (Python 3.11;
46 names absent from the snapshot, 7 specs no build of which exists, and many
overlapping conflicts: specs that hold Python at 3.11 against specs that need 3.12 or
newer), beside the RSP lab. Every minimal conflict is searched for, within the default
time limit.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import yaml

from twinlock.app.explain import run_explain
from twinlock.app.project import Project, open_project

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "tests" / "data" / "conflicts" / "rubin-env-9.0.0.rubin-env-nosysroot.linux-64.txt"
LAB = ["python 3.12.*", "jupyterlab >=4,<5", "jupyterhub-singleuser", "ipykernel", "nodejs"]
TARGET_SECONDS = 10.0


def _project(root: Path) -> Project:
    specs = [line.split("#")[0].strip() for line in SPECS.read_text().splitlines()]
    composition = {
        "name": "rubin9",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "environments": {
            "lab": {"prefix": "/opt/lab", "requirements": LAB},
            "payload": {"prefix": "/opt/payload", "requirements": [s for s in specs if s]},
        },
    }
    (root / "envs").mkdir(parents=True)
    (root / "twinlock.toml").write_text('[mirrors]\nconda-forge = "bundled:conda-forge-snapshot"\n')
    path = root / "envs" / "rubin9.yaml"
    path.write_text(yaml.safe_dump(composition, sort_keys=False))
    return open_project(path, cwd=root)


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        project = _project(Path(tmp))
        run_explain(project, environments=["lab"])  # unpack the snapshot once
        start = time.perf_counter()
        (report,) = run_explain(project, environments=["payload"]).reports
        seconds = time.perf_counter() - start
    sizes = sorted(len(c.specs) for c in report.conflicts)
    return [
        (
            "explain rubin-env 9.0.0 payload (linux-64)",
            f"{seconds:.1f} s (target < {TARGET_SECONDS:g} s)",
        ),
        ("  solves needed", str(report.solves)),
        ("  absent names / conflicts", f"{len(report.absent)} / {len(report.conflicts)}"),
        ("  conflict sizes", " ".join(str(n) for n in sizes)),
        (
            "  search complete",
            "yes" if report.complete else f"no (time limit; {len(report.unexplored)} unexplored)",
        ),
    ]


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<58} {value}")
