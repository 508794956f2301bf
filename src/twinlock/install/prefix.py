"""Reading what an installed prefix records about itself (``conda-meta``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from twinlock.errors import (
    InstallError,
)


def read_conda_meta(prefix: Path) -> list[dict[str, Any]] | None:
    """The ``conda-meta/*.json`` records of an installed prefix (None: no conda-meta)."""
    meta = prefix / "conda-meta"
    if not meta.is_dir():
        return None
    records = []
    for path in sorted(meta.glob("*.json")):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            raise InstallError(
                f"{path}: unreadable conda-meta record: {exc}",
                "the prefix is damaged: reinstall it with twinlock install --force",
            ) from exc
    return records
