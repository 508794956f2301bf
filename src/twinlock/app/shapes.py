"""The documented ``--json`` shapes of ``lock``, ``check``, ``verify`` and ``tag parse/sort``.

Each document starts with ``"format": "twinlock-<command>/<N>"``; N changes only
if a field is removed or changes meaning (fields may be added). Lists keep the
order the text output uses. ``null`` marks an absent value.

``twinlock-lock/1``::

    {"format": "twinlock-lock/1",
     "platforms": [{"environment": str, "platform": str,
                    "action": "solved" | "reused",
                    "packages": int, "pypi": int, "seconds": float,
                    "changes": [{"name": str, "old": str | null, "new": str | null}]}],
     "written": [path], "removed": [path], "warnings": [str]}

  Printed only when the lock succeeds: a lock that fails writes nothing, prints its
  error (and conflict report) on stderr and exits 2; ``explain --json`` has the report.

``twinlock-check/1``::

    {"format": "twinlock-check/1", "ok": bool, "checked": int,
     "findings": [{"environment": str, "platform": str | null,
                   "kind": str, "detail": str}]}

``twinlock-verify/1``::

    {"format": "twinlock-verify/1", "ok": bool, "checked": int, "deep": bool,
     "drift": [{"environment": str, "kind": str, "detail": str}]}

``twinlock-tags/1`` (``tag parse`` in argument order, ``tag sort`` sorted)::

    {"format": "twinlock-tags/1",
     "tags": [{"tag": str, "category": str, "display_name": str,
               "version": [major, minor, patch, rc] | null, "rsp_build": int | null,
               "cycle": [cycle, build] | null, "rest": str | null, "arch": str | null}]}

Paths are relative to the working directory when they lie under it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twinlock.fileio import relative_path

if TYPE_CHECKING:
    # Types only: tag parsing must not pay for the lock machinery.
    from twinlock.app.lockreport import LockReport
    from twinlock.images.tags import ImageTag
    from twinlock.install.plan import Drift
    from twinlock.lock.check import Finding

LOCK_FORMAT = "twinlock-lock/1"
CHECK_FORMAT = "twinlock-check/1"
VERIFY_FORMAT = "twinlock-verify/1"
TAGS_FORMAT = "twinlock-tags/1"


def dumps(document: dict[str, Any]) -> str:
    """The one JSON rendering every shape uses: sorted keys would hide 'format' at the top."""
    return json.dumps(document, indent=2, ensure_ascii=False)


def lock_document(report: LockReport, cwd: Path) -> dict[str, Any]:
    return {
        "format": LOCK_FORMAT,
        "platforms": [
            {
                "environment": s.environment,
                "platform": s.platform,
                "action": s.action,
                "packages": s.packages,
                "pypi": s.pypi,
                "seconds": round(s.seconds, 3),
                "changes": [{"name": c.name, "old": c.old, "new": c.new} for c in s.changes],
            }
            for s in report.result.summaries
        ],
        "written": [relative(p, cwd) for p in report.written],
        "removed": [relative(p, cwd) for p in report.removed],
        "warnings": list(report.warnings),
    }


def check_document(findings: Sequence[Finding], checked: int) -> dict[str, Any]:
    return {
        "format": CHECK_FORMAT,
        "ok": not findings,
        "checked": checked,
        "findings": [
            {
                "environment": f.environment,
                "platform": f.platform,
                "kind": f.kind,
                "detail": f.detail,
            }
            for f in findings
        ],
    }


def verify_document(drift: Sequence[Drift], checked: int, *, deep: bool) -> dict[str, Any]:
    return {
        "format": VERIFY_FORMAT,
        "ok": not drift,
        "checked": checked,
        "deep": deep,
        "drift": [
            {"environment": d.environment, "kind": d.kind, "detail": d.detail} for d in drift
        ],
    }


def tags_document(tags: Sequence[ImageTag]) -> dict[str, Any]:
    return {
        "format": TAGS_FORMAT,
        "tags": [
            {
                "tag": t.tag,
                "category": t.category.value,
                "display_name": t.display_name,
                "version": list(t.version) if t.version is not None else None,
                "rsp_build": t.rsp_build,
                "cycle": list(t.cycle) if t.cycle is not None else None,
                "rest": t.rest,
                "arch": t.arch,
            }
            for t in tags
        ],
    }


def relative(path: Path, cwd: Path) -> str:
    """*path* relative to *cwd* when it is inside it (the CLI's paths, for display)."""
    return relative_path(path, cwd)
