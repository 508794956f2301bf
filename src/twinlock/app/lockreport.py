"""What ``twinlock lock`` reports: the result, the files written and removed, the warnings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from twinlock.lock.plan import LockResult


@dataclass(frozen=True)
class LockReport:
    """What a lock did; *rerun* (when asked for) is what the same lock run again would report.

    *rerun* is None when a rerun would not be a no-op (the stamp is then not recorded).
    """

    result: LockResult
    written: tuple[Path, ...]
    removed: tuple[Path, ...]
    warnings: tuple[str, ...] = ()
    rerun: LockReport | None = None
