"""Plain-text renderings of command results (the CLI prints these)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from twinlock.check import Finding
from twinlock.errors import TwinlockError
from twinlock.locking import PlatformSummary
from twinlock.workflows import LockReport


def summary_line(s: PlatformSummary) -> str:
    count = f"{s.packages} packages" + (f" + {s.pypi} PyPI" if s.pypi else "")
    if s.action == "reused":
        return f"{s.environment} {s.platform}: {count}, reused (inputs unchanged)"
    return f"{s.environment} {s.platform}: {count}, solved in {s.seconds:.2f} s"


def lock_report(report: LockReport, cwd: Path) -> str:
    lines = []
    for s in report.result.summaries:
        lines.append(summary_line(s))
        lines += [
            f"    {c.name}: {c.old or '(absent)'} -> {c.new or '(removed)'}" for c in s.changes
        ]
    lines += [f"warning: {w}" for w in report.warnings]
    for path in report.written:
        lines.append(f"wrote {_rel(path, cwd)}")
    for path in report.removed:
        lines.append(f"removed {_rel(path, cwd)} (no longer in the composition)")
    if not report.written and not report.removed:
        lines.append("locks unchanged")
    return "\n".join(lines)


def check_report(findings: Sequence[Finding], checked: int) -> str:
    if not findings:
        return f"all {checked} environment x platform locks are fresh and consistent"
    lines = [f"{len(findings)} problem(s):"]
    for f in findings:
        where = f"{f.environment} {f.platform}" if f.platform else f.environment
        lines.append(f"  {f.kind:<12} {where}: {f.detail}")
    return "\n".join(lines)


def error(exc: TwinlockError) -> str:
    text = f"error: {exc.message}"
    if exc.hint:
        text += "\n" + "\n".join(f"hint: {line}" for line in exc.hint.splitlines())
    return text


def _rel(path: Path, cwd: Path) -> str:
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path)
