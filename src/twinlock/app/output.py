"""Files a command writes on request (``--output``): whole or not at all."""

from __future__ import annotations

from pathlib import Path

from twinlock.fileio import write_text_atomic


def write_output(path: Path, text: str) -> None:
    """Write *text* to *path* atomically (a failed write leaves the old file)."""
    write_text_atomic(path, text)
