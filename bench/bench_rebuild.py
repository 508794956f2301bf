"""Speed of maintenance rebuilds and tag handling on the bundled example.

Targets: tag parsing is instant next to a registry listing (< 20 us per tag);
a dry-run rebuild of locks/rsp that refreshes the lab (3 platforms solved
offline) stays interactive (< 10 s); importing the 2020 @EXPLICIT file
(284 pins) against the snapshot < 3 s.
"""

from __future__ import annotations

import time
from pathlib import Path

from twinlock.app import rebuild as maintenance
from twinlock.app.project import open_project
from twinlock.images.rebuild import RebuildOptions
from twinlock.images.tags import parse_tag, sort_tags
from twinlock.solve.adapter import RattlerSolver
from twinlock.solve.channels import local_channel_dir

ROOT = Path(__file__).resolve().parents[1]
TAGS = [
    f"r{m}_{n}_{p}_rsp{b}"
    for m in range(20, 30)
    for n in range(10)
    for p in range(5)
    for b in range(4)
]


def _seconds(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


def run() -> list[tuple[str, str]]:
    per_tag = _seconds(lambda: sort_tags(parse_tag(t) for t in TAGS)) / len(TAGS)
    project = open_project(ROOT / "envs" / "rsp.yaml", cwd=ROOT)
    refresh = _seconds(
        lambda: maintenance.run_rebuild(
            project,
            sources=[str(project.paths.directory)],
            options=RebuildOptions(refresh=("lab",)),
            dry_run=True,
        )
    )
    explicit = (
        ROOT / "tests" / "data" / "rebuild" / "lsst-scipipe_conda_env.conda-linux-64.explicit.txt"
    )
    history = maintenance.load_history(project, [f"payload={explicit}"])
    finder = RattlerSolver(project.config.mirrors, local_channel_dir)
    imported = _seconds(
        lambda: maintenance.import_environment(
            project,
            "payload",
            history.imports["payload"],
            finder,
        )
    )
    return [
        (f"parse+sort {len(TAGS)} tags, per tag (target < 20 us)", f"{per_tag * 1e6:.1f} us"),
        ("rebuild --refresh lab --dry-run, locks/rsp (target < 10 s)", f"{refresh:.2f} s"),
        ("import 2020 scipipe @EXPLICIT, 284 pins (target < 3 s)", f"{imported:.2f} s"),
    ]
