"""The ``twinlock`` typer app and the options its command modules share.

Heavy modules (rattler, conda-lock) are imported inside commands so that
``twinlock --help`` starts quickly.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from twinlock.errors import TwinlockError

app = typer.Typer(
    name="twinlock",
    help="Compose, solve and lock isolated conda environments that live side by side.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help and usage errors: rich's help formatter costs ~0.1 s of imports.
    rich_markup_mode=None,
)

F = TypeVar("F", bound=Callable[..., Any])

CompositionArg = Annotated[
    Path | None,
    typer.Argument(
        help="Composition file (default: [project] composition, or the only envs/*.yaml)."
    ),
]
LocksDirOpt = Annotated[
    Path | None, typer.Option("--locks-dir", help="Directory holding <composition>/ lock dirs.")
]
MirrorOpt = Annotated[
    list[str] | None,
    typer.Option("--mirror", metavar="CHANNEL=DIR", help="Read CHANNEL from a local directory."),
]
EnvOpt = Annotated[
    list[str] | None, typer.Option("--env", "-e", help="Only these environments (repeatable).")
]


def handle_errors(func: F) -> F:
    """Turn a TwinlockError into 'error: ... / hint: ...' on stderr and its exit code.

    An OSError that escapes (a path of the wrong kind, a read-only directory) is
    reported the same way, with exit code 2.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from twinlock.cli import render

        try:
            return func(*args, **kwargs)
        except TwinlockError as exc:
            typer.echo(render.error(exc), err=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            # The stages turn the failures they expect into TwinlockErrors; a file or
            # directory problem that escapes them is still the user's to fix, not a crash.
            typer.echo(render.error(render.os_error(exc)), err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
