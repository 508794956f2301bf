"""The one place that runs Graphviz: DOT text in, SVG text out.

Graphviz is optional; without ``dot`` on PATH the SVG format fails with a
clear error naming the alternatives (``--format dot`` or ``mermaid``).
"""

from __future__ import annotations

import shutil
import subprocess

from twinlock.errors import ExternalToolError

TIMEOUT_SECONDS = 120


def render_svg(dot_text: str) -> str:
    """Lay out *dot_text* with Graphviz ``dot`` and return the SVG."""
    exe = shutil.which("dot")
    if exe is None:
        raise ExternalToolError(
            "--format svg needs Graphviz's 'dot' program, which is not on PATH",
            "install Graphviz (apt-get install graphviz, brew install graphviz), "
            "or use --format dot / --format mermaid and render elsewhere",
        )
    try:
        done = subprocess.run(
            [exe, "-Tsvg"],
            input=dot_text,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExternalToolError(
            f"Graphviz did not finish laying out the graph within {TIMEOUT_SECONDS} s",
            "draw less of it: lower --depth or use --focus PKG",
        ) from exc
    if done.returncode != 0:
        raise ExternalToolError(
            f"Graphviz 'dot' failed (exit {done.returncode}): {done.stderr.strip()}",
            "check the Graphviz installation, or use --format dot and inspect the input",
        )
    return done.stdout
