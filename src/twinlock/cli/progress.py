"""Progress on stderr: a live line per task (environment x platform) while work runs.

Fed by :class:`twinlock.app.progress.Step` events. Off when stderr is not a
terminal or with ``--quiet``; under ``NO_COLOR`` or ``TERM=dumb`` each step is a
plain line instead of a redrawn display. Never writes to stdout.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from twinlock.app.progress import silent

if TYPE_CHECKING:
    from rich.console import Console

    from twinlock.app.progress import Step

# States in which work is still running (the live display shows a spinner).
RUNNING = frozenset({"solving", "resolving PyPI", "searching", "fetching"})


def step_line(step: Step) -> str:
    """``lab linux-64: solved 312 packages in 2.10 s`` (also the plain-mode line)."""
    text = f"{step.task}: {step.state}"
    if step.detail:
        text += f" {step.detail}"
    if step.total:
        text += f" ({step.done or 0}/{step.total})"
    if step.seconds is not None:
        text += f" in {step.seconds:.2f} s"
    return text


class LiveLines:
    """One redrawn line per task, in the order the tasks first appeared."""

    def __init__(self, console: Console, *, plain: bool) -> None:
        self.console = console
        self.plain = plain
        self.lines: dict[str, Step] = {}
        self._started: dict[str, float] = {}
        self._spinners: dict[str, Any] = {}  # one per task: a new spinner restarts its frames
        self._live: Any = None

    def __call__(self, step: Step) -> None:
        self._started.setdefault(step.task, time.monotonic())
        self.lines[step.task] = step
        if self.plain:
            self.console.print(step_line(step), markup=False, highlight=False)
        elif self._live is not None:
            self._live.refresh()

    def __rich__(self) -> Any:
        """Redrawn on every refresh, so running tasks' seconds keep counting."""
        from rich.spinner import Spinner
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=1)
        grid.add_column(no_wrap=True)
        for task, step in self.lines.items():
            if step.state in RUNNING:
                elapsed = time.monotonic() - self._started[task]
                mark: Any = self._spinners.setdefault(task, Spinner("dots"))
                text = Text(f"{step_line(step)} ({elapsed:.0f} s)")
            else:
                mark, text = Text("✓" if step.state != "failed" else "✗"), Text(step_line(step))
            grid.add_row(mark, text)
        return grid

    def __enter__(self) -> LiveLines:
        if not self.plain:
            from rich.live import Live

            self._live = Live(self, console=self.console, transient=True, refresh_per_second=8)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None


def plain_terminal(environ: Mapping[str, str]) -> bool:
    """``NO_COLOR`` (no-color.org) or a dumb terminal: lines, no redrawing."""
    return bool(environ.get("NO_COLOR")) or environ.get("TERM") == "dumb"


@contextlib.contextmanager
def progress_display(
    *, quiet: bool, console: Console | None = None, environ: Mapping[str, str] | None = None
) -> Iterator[Any]:
    """A progress callback for a use case: live lines on a terminal, else a no-op."""
    # Piped stderr (CI, scripts) or --quiet: no display, so no rich to import (~20 ms).
    if console is None and (quiet or _surely_not_a_terminal(os.environ)):
        yield silent  # progress nobody sees (piped stderr, --quiet)
        return
    from rich.console import Console

    console = console or Console(stderr=True)
    if quiet or not console.is_terminal:
        yield silent
        return
    with LiveLines(console, plain=plain_terminal(os.environ if environ is None else environ)) as d:
        yield d


def _surely_not_a_terminal(environ: Mapping[str, str]) -> bool:
    """True when rich's ``Console(stderr=True).is_terminal`` would say False too.

    rich treats stderr as a terminal when it is a tty, or when ``FORCE_COLOR`` or
    ``TTY_COMPATIBLE`` says so; with either variable set, rich decides.
    """
    if environ.get("FORCE_COLOR") or environ.get("TTY_COMPATIBLE"):
        return False
    try:
        return not sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stderr (pythonw), or a closed one
        return True
