"""Files a command writes on request (``--output``): whole or not at all."""

from __future__ import annotations

from pathlib import Path

from twinlock.fileio import check_output_path, write_text_atomic


def check_output(path: Path | None) -> None:
    """Refuse an --output that cannot be written before the command does its work."""
    if path is not None:
        check_output_path(path)


def write_output(path: Path, text: str) -> None:
    """Write *text* to *path* atomically (a failed write leaves the old file)."""
    write_text_atomic(path, text)
