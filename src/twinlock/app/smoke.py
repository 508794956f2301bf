"""Prove installed environments work (``twinlock test``), as a library call."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from twinlock.app.project import Project
from twinlock.app.targets import current_platform
from twinlock.errors import LockFileError
from twinlock.install.plan import root_path
from twinlock.install.smoke import SmokeCheck, plan_checks, run_check

JSON_VERSION = 1


@dataclass(frozen=True)
class SmokeReport:
    checks: tuple[SmokeCheck, ...]
    untested: tuple[str, ...]  # selected environments whose lock records no tests

    @property
    def failed(self) -> tuple[SmokeCheck, ...]:
        return tuple(c for c in self.checks if c.ok is False)

    def as_json(self) -> dict[str, object]:
        return {
            "version": JSON_VERSION,
            "ok": not self.failed,
            "checks": [
                {
                    "environment": c.environment,
                    "kind": c.kind,
                    "subject": c.subject,
                    "status": {True: "passed", False: "failed", None: "skipped"}[c.ok],
                    "seconds": round(c.seconds, 3),
                    "output": c.output,
                }
                for c in self.checks
            ],
            "untested": list(self.untested),
        }


def run_smoke_tests(
    project: Project,
    *,
    root: Path,
    environments: Sequence[str] = (),
    platform: str | None = None,
) -> SmokeReport:
    """Run the tests each selected environment's lock records against its installed prefix."""
    locks = project.read_locks()
    checks: list[SmokeCheck] = []
    untested = []
    for env in project.composition.select(list(environments)):
        lock = locks.get(env.name)
        if lock is None:
            raise LockFileError(f"no lock for environment '{env.name}'", "run twinlock lock")
        if lock.platform(platform or current_platform()) is None or not lock.tests:
            untested.append(env.name)
            continue
        prefix = root_path(root, env.prefix)
        lab = project.composition.environment(env.kernel.lab) if env.kernel else None
        planned = plan_checks(
            env,
            lock.tests,
            prefix,
            lab_prefix=root_path(root, lab.prefix) if lab else None,
            kernels_at_real_paths=root.resolve() == Path("/"),
        )
        checks += [run_check(c, prefix, os.environ) for c in planned]
    return SmokeReport(tuple(checks), tuple(untested))
