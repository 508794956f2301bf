"""The ``twinlock`` entry point: every command module registers on the one typer app.

The command modules import :mod:`twinlock.cli.app`; nothing imports this module
back, so registration has no import cycle.
"""

from __future__ import annotations

from twinlock.cli import audit, images, init, inspect, lock
from twinlock.cli.app import app

COMMAND_MODULES = (lock, inspect, audit, images, init)


def main() -> None:
    app()
