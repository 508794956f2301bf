"""The ``twinlock`` typer app and the options its command modules share.

Heavy modules (rattler, conda-lock) are imported inside commands so that
``twinlock --help`` starts quickly.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from twinlock.cli.commands import error_report
from twinlock.errors import TwinlockError

if TYPE_CHECKING:
    import logging

    from twinlock.app.project import Project

app = typer.Typer(
    name="twinlock",
    help="Compose, solve and lock isolated conda environments that live side by side.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain click help and usage errors: rich's help formatter costs ~0.1 s of imports.
    rich_markup_mode=None,
    # click caps help at 80 columns; a wider terminal (COLUMNS) gets wider help.
    context_settings={"max_content_width": 120},
)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _composition_of(ctx: typer.Context) -> Path | None:
    """The composition typed so far, under any of its spellings (completion reads it)."""
    for name in ("composition", "composition_opt", "old_composition"):
        value = ctx.params.get(name)
        if isinstance(value, Path):
            return value
    return None


def complete_environment(ctx: typer.Context, incomplete: str) -> list[str]:
    from twinlock.app.complete import environment_names

    return environment_names(_composition_of(ctx), incomplete)


def complete_platform(ctx: typer.Context, incomplete: str) -> list[str]:
    from twinlock.app.complete import platform_names

    return platform_names(_composition_of(ctx), incomplete)


def complete_package(ctx: typer.Context, incomplete: str) -> list[str]:
    from twinlock.app.complete import package_names

    env = ctx.params.get("env")
    envs = env if isinstance(env, list) else [env] if isinstance(env, str) else []
    return package_names(_composition_of(ctx), envs, incomplete)


# Help texts are printed as written (rich_markup_mode=None): a "[" needs no escape.
COMPOSITION_HELP = (
    "Composition file (default: twinlock.toml's [project] composition, or the only envs/*.yaml)."
)
CompositionArg = Annotated[
    Path | None,
    typer.Argument(help=COMPOSITION_HELP, show_default=False),
]
CompositionOpt = Annotated[
    Path | None, typer.Option("--composition", help=COMPOSITION_HELP, show_default=False)
]
LocksDirOpt = Annotated[
    Path | None, typer.Option("--locks-dir", help="Directory holding <composition>/ lock dirs.")
]
MirrorOpt = Annotated[
    list[str] | None,
    typer.Option("--mirror", metavar="CHANNEL=DIR", help="Read CHANNEL from a local directory."),
]
EnvOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--env",
        "-e",
        help="Only these environments (repeatable).",
        autocompletion=complete_environment,
    ),
]
PlatformsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--platform",
        "-p",
        help="Only these platforms (repeatable).",
        autocompletion=complete_platform,
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print a JSON document (versioned shape; see README).")
]


def handle_errors(func: F) -> F:
    """Turn a TwinlockError into 'error: ... / hint: ...' on stderr and its exit code.

    An OSError that escapes (a path of the wrong kind, a read-only directory) is
    reported the same way, with exit code 2.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (TwinlockError, OSError) as exc:
            text, code = error_report(exc)
            typer.echo(text, err=True)
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def _main(
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Log what twinlock does (on stderr)."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress display on stderr.")
    ] = False,
) -> None:
    # logging is imported when a command runs: ``--help`` and completion never log.
    import logging

    handler = _current_stderr_handler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])
    QUIET[0] = quiet


def _current_stderr_handler() -> logging.Handler:
    """A handler that logs to whatever sys.stderr is now: a live progress display swaps
    it for a proxy that prints above the redrawn lines (a handler holding the original
    would write through them)."""
    import logging

    class CurrentStderr(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                sys.stderr.write(self.format(record) + "\n")
            except Exception:  # logging's own convention: report, never raise
                self.handleError(record)

    return CurrentStderr()


# Set by the --quiet of the main callback; read by the progress displays.
QUIET = [False]


def deprecated(old: str, new: str) -> None:
    """The one deprecation note for an old spelling that still works (on stderr)."""
    typer.echo(f"note: {old} is deprecated and goes away in a future release; use {new}", err=True)


def pick(new: T | None, old: T | None, old_name: str, new_name: str) -> T | None:
    """The value of an option given under its new or its deprecated (hidden) spelling."""
    if old is None:
        return new
    deprecated(old_name, new_name)
    if new is not None:
        raise TwinlockError(
            f"{old_name} and {new_name} are the same option, given twice",
            f"keep only {new_name}",
        )
    return old


def open_given(
    composition: Path | None,
    composition_opt: Path | None,
    *,
    locks_dir: Path | None = None,
    mirror: list[str] | None = None,
) -> Project:
    """The project of the composition given positionally or with ``--composition``."""
    from twinlock.app.project import open_project

    return open_project(
        either(composition, composition_opt), locks_dir=locks_dir, mirrors=mirror or []
    )


def either(positional: Path | None, option: Path | None) -> Path | None:
    """The composition, given positionally or as ``--composition`` (not both)."""
    if positional is not None and option is not None and positional != option:
        raise TwinlockError(
            f"two compositions given: {positional} and --composition {option}",
            "give the composition once, positionally or with --composition",
        )
    return positional or option
