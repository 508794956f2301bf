"""Drawing the text rendering of ``twinlock diff``: with rich, or plainly when piped.

:mod:`twinlock.audit.diffrender` describes its text output as :class:`Line` and
:class:`Table` blocks; :func:`draw` prints them with rich (a terminal: colour,
tables wrapped to its width). Piped or redirected output has no colour and never
wraps, and there rich's tables come down to padded columns: :func:`draw_plain`
writes exactly those bytes without importing rich (~20 ms of the start-up of
``twinlock diff``, the whole of its drawing), and declines (returns None) for any
text on which rich might do more than pad: markup brackets, control or
non-ASCII characters whose cell width it measures itself, lines too long not to wrap.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, NamedTuple

# A console this wide never wraps: rich sizes tables to their content, and the
# padding to the console width is stripped from every line.
UNWRAPPED_WIDTH = 100_000
COLUMNS = ("change", "package", "old", "new", "role", "notes")
# Besides printable ASCII, the one character the renderings write ('…' cuts a digest).
_NARROW = frozenset("…")


# Named tuples, not dataclasses: defining a frozen dataclass costs ~0.4 ms, ten times as
# much, and these are defined on every start of ``twinlock diff``.
class Line(NamedTuple):
    """A line of text; *markup* as rich's ``console.print(markup=...)``."""

    text: str = ""
    style: str | None = None
    markup: bool = False


class Row(NamedTuple):
    cells: tuple[str, ...]
    style: str | None = None


class Table(NamedTuple):
    """A table of :data:`COLUMNS`, one row per package change."""

    rows: tuple[Row, ...]


Block = Line | Table


def draw(blocks: Sequence[Block], *, color: bool, width: int) -> str:
    """The blocks as rich prints them on a console *width* cells wide."""
    from rich.console import Console

    out = io.StringIO()
    console = Console(
        file=out,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
    )
    for block in blocks:
        if isinstance(block, Line):
            console.print(block.text, style=block.style, markup=block.markup)
        else:
            console.print(_rich_table(block))
    return _stripped(out.getvalue().splitlines())


def _rich_table(table: Table) -> Any:
    from rich import box
    from rich.table import Table as RichTable

    drawn = RichTable(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    drawn.add_column("change", no_wrap=True)
    drawn.add_column("package", overflow="fold")
    drawn.add_column("old", overflow="fold", ratio=2)
    drawn.add_column("new", overflow="fold", ratio=2)
    drawn.add_column("role", no_wrap=True)
    drawn.add_column("notes", overflow="fold", ratio=3)
    for row in table.rows:
        drawn.add_row(*row.cells, style=row.style)
    return drawn


def draw_plain(blocks: Sequence[Block]) -> str | None:
    """What :func:`draw` returns without colour on an unwrapped console, or None.

    None when a text is not plain enough to be sure rich would only pad it.
    """
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Line):
            if not _plain(block.text, markup=block.markup):
                return None
            lines.append(block.text)
            continue
        drawn = _plain_table(block)
        if drawn is None:
            return None
        lines += drawn
    return _stripped(lines)


def _plain_table(table: Table) -> list[str] | None:
    """rich's SIMPLE_HEAD table without edges: cells padded by one space inside."""
    grid = [COLUMNS, *(row.cells for row in table.rows)]
    if not all(_plain(cell, markup=True) for cells in grid for cell in cells):
        return None
    last = len(COLUMNS) - 1
    widths = [max(len(cells[i]) for cells in grid) for i in range(len(COLUMNS))]
    # The first column has no left padding and the last none on the right (pad_edge=False).
    lines = [
        " ".join(
            (" " if i else "") + cell.ljust(widths[i]) + (" " if i < last else "")
            for i, cell in enumerate(cells)
        )
        for cells in grid
    ]
    rule = "─" * (sum(widths) + 2 * last + last)
    if len(rule) >= UNWRAPPED_WIDTH:
        return None
    return [lines[0], rule, *lines[1:]]


def _plain(text: str, *, markup: bool) -> bool:
    """Printable text rich draws one cell per character, as it is, on one line."""
    return (
        len(text) < UNWRAPPED_WIDTH
        and text.isprintable()
        and (text.isascii() or all(c.isascii() or c in _NARROW for c in text))
        and not (markup and "[" in text)
    )


def _stripped(lines: Sequence[str]) -> str:
    # rich pads every line to the console width; the padding is noise in files and pipes.
    return "\n".join(line.rstrip() for line in lines) + "\n"
