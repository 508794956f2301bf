"""The fast front of the command line: ``lock``, ``check`` and ``diff`` without typer.

Most runs of twinlock are ``twinlock lock`` with nothing to do, ``twinlock
check`` in CI, or ``twinlock diff`` in a review. Starting typer (and the pydantic
conversion it applies to every argument) costs more than answering them, so
this front parses the argument shapes of those commands itself, with the
standard library only, and calls the same command functions
(:mod:`twinlock.cli.commands`) the typer commands call. A ``lock`` whose inputs
are byte-identical to a previous successful run is answered from the no-op
stamp (:mod:`twinlock.app.noop`) before anything else is imported.

Anything it does not fully understand (``--help``, an unknown or malformed
option, another command, a global option) is left to the typer app, which
parses it and reports usage errors as before.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Sequence

# option -> field, with the same spellings as the typer commands
_OPTIONS = {
    "lock": {
        "--env": "env",
        "-e": "env",
        "--update": "update",
        "-u": "update",
        "--locks-dir": "locks_dir",
        "--mirror": "mirror",
        "--full": "full",
    },
    "check": {"--locks-dir": "locks_dir"},
    "diff": {"--git": "git", "--format": "format", "-f": "format", "--exit-code": "exit_code"},
}
_FLAGS = frozenset({"--full", "--exit-code"})
_MAX_POSITIONAL = {"lock": sys.maxsize, "check": 1, "diff": 2}


class Arguments:
    """The parsed arguments of ``lock``, ``check`` or ``diff`` (in command-line order).

    ``compositions`` holds the positional arguments (diff's OLD and NEW).

    A plain class: importing dataclasses would cost the no-op path more than its check.
    """

    def __init__(self, command: str) -> None:
        self.command = command
        self.compositions: list[str] = []
        self.env: list[str] = []
        self.update: list[str] = []
        self.mirror: list[str] = []
        self.locks_dir: str | None = None
        self.full = False
        self.git: str | None = None
        self.format = "text"
        self.exit_code = False


def parse(argv: Sequence[str]) -> Arguments | None:
    """*argv* as lock/check arguments, or None when typer should parse it."""
    if not argv or argv[0] not in _OPTIONS:
        return None
    options = _OPTIONS[argv[0]]
    args = Arguments(argv[0])
    rest = list(argv[1:])
    while rest:
        word = rest.pop(0)
        if not word.startswith("-") or word == "-":
            args.compositions.append(word)
            continue
        name, eq, value = word.partition("=")
        if name not in options or (name in _FLAGS and eq):
            return None  # --help, unknown options, '--': typer's business
        if name in _FLAGS:
            setattr(args, options[name], True)
            continue
        if not eq:
            if not rest or rest[0].startswith("-"):
                return None
            value = rest.pop(0)
        _store(args, options[name], value)
    if len(args.compositions) > _MAX_POSITIONAL[args.command]:
        return None
    return args


def _store(args: Arguments, name: str, value: str) -> None:
    if name in ("env", "update", "mirror"):
        getattr(args, name).append(value)
    else:
        setattr(args, name, value)


def run(argv: Sequence[str]) -> int | None:
    """Run lock/check from *argv* and return the exit code; None leaves *argv* to typer."""
    args = parse(argv)
    if args is None:
        return None
    # On a terminal the full path runs: it draws the progress (reused ...) a person watches.
    if args.command == "lock" and not args.update and not args.full and not sys.stderr.isatty():
        from twinlock.app.noop import cached_output

        output = cached_output("lock", list(argv), os.getcwd())
        if output is not None:
            print(output)
            return 0
    from pathlib import Path

    from twinlock.cli.commands import check_command, diff_command, lock_command, run_guarded

    if args.command == "diff":
        old, new = [*args.compositions, None, None][:2]
        return run_guarded(lambda: diff_command(old, new, args.git, args.format, args.exit_code))
    locks_dir = Path(args.locks_dir) if args.locks_dir is not None else None
    if args.command == "check":
        composition = Path(args.compositions[0]) if args.compositions else None
        return run_guarded(lambda: check_command(composition, locks_dir))
    return run_guarded(
        lambda: lock_command(
            [Path(c) for c in args.compositions],
            env=args.env,
            update=args.update,
            full=args.full,
            locks_dir=locks_dir,
            mirror=args.mirror,
            argv=list(argv),
        )
    )
