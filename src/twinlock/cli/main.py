"""The ``twinlock`` entry point: the fast front first, then the typer app.

``lock``, ``check`` and ``diff`` are answered by :mod:`twinlock.cli.front` without
importing typer (and a no-op ``lock`` without importing anything but the
standard library); every other command line goes to the typer app, on which
every command module registers. Nothing imports this module back, so
registration has no import cycle.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable


def main() -> None:
    from twinlock.cli.front import run

    code = run(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    typer_app()()


def typer_app() -> Callable[[], None]:
    """The typer app with every command module registered."""
    from twinlock.cli import audit, images, init, inspect, lock  # noqa: F401  (they register)
    from twinlock.cli.app import app

    return app


def __getattr__(name: str) -> Callable[[], None]:
    # ``from twinlock.cli.main import app`` (tests, CliRunner) still gets the full app.
    if name == "app":
        return typer_app()
    raise AttributeError(name)
