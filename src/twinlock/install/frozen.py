"""Frozen prefixes (CEP 22): the ``conda-meta/frozen`` marker conda honours (pure).

An image's payload ships conda itself, so nothing but this marker stops a user's
``conda install`` from moving the pins twinlock verified. CEP 22 allows an empty
marker or a JSON document with one key, ``message`` (a non-empty string) that
conda shows when it refuses; twinlock writes the message so the refusal says
which composition owns the prefix and how to change it.
"""

from __future__ import annotations

import json

from twinlock.install.plan import Drift

FROZEN_MARKER = "conda-meta/frozen"


def frozen_marker(composition: str, environment: str) -> str:
    """The marker's text for *environment* of the composition named *composition*."""
    message = (
        f"This prefix is environment '{environment}' of the twinlock composition "
        f"'{composition}', installed from its lock. Change the composition and run "
        "'twinlock lock' and 'twinlock install' instead of changing it in place."
    )
    return json.dumps({"message": message}, indent=2) + "\n"


def frozen_drift(environment: str, marker: str | None) -> list[Drift]:
    """A finding when the marker is missing or is not what CEP 22 allows."""
    if marker is None:
        return [
            Drift(
                environment,
                "unfrozen",
                f"{FROZEN_MARKER} is missing: conda would let 'conda install' change this prefix",
            )
        ]
    if not marker.strip():
        return []
    try:
        data = json.loads(marker)
    except ValueError:
        data = None
    message = data.get("message") if isinstance(data, dict) else None
    if isinstance(message, str) and message:
        return []
    return [
        Drift(
            environment,
            "unfrozen",
            f"{FROZEN_MARKER} is neither empty nor JSON with a 'message' string (CEP 22)",
        )
    ]
