"""The solver's explanation of a conflict, trimmed to what concerns the conflict's specs.

The solver (resolvo, through py-rattler) explains a failure as a forest, one
tree per requested spec, that can run to hundreds of lines. :func:`condense`
keeps the paths that involve the conflict and makes sure every member of the
set is named: a member the solver's text never mentions gets a line saying so
(it still belongs to the set: without it the rest solves).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from twinlock.model.composition import Requirement


def mentions(text: str, name: str) -> bool:
    """True when *text* names the package *name* (not merely a longer name containing it)."""
    return re.search(rf"(?<![\w.\-]){re.escape(name)}(?![\w\-]|\.\w)", text) is not None


_BRANCH = re.compile(r"^((?:[│ ] {2})*)(?:[├└]─ )?")
_HEADER = "The following packages are incompatible"

Node = tuple[int, str]  # (depth, text)


def condense(message: str, specs: Sequence[str], limit: int = 30) -> tuple[str, ...]:
    """The lines of a solver explanation on paths that involve the conflict *specs*.

    The explanation is a forest, one tree per requested spec. A path is kept
    when its last line is about a package of the conflict or about a package
    that appears under two different trees (where they meet, e.g. both need
    incompatible ``mkl`` builds); paths about one tree's own dead ends
    (CUDA-only builds, other Pythons' ABI) are dropped only when they name
    neither. Repeated paths and tree glyphs go; depth becomes two-space
    indentation. At most *limit* lines, then a count of the rest, but the first
    path naming each member is always shown, and a member the text never names
    gets a line saying so.
    """
    names = list(dict.fromkeys(Requirement(s).name for s in specs))
    text = message.removeprefix("Cannot solve the request because of: ")
    nodes = _nodes(text)
    roots = _roots(nodes)
    under: dict[str, set[str]] = {}
    for (_, body), root in zip(nodes, roots, strict=True):
        under.setdefault(_subject(body), set()).add(root)
    relevant = set(names) | {n for n, trees in under.items() if len(trees) > 1}
    keep = [depth == 0 for depth, _ in nodes]
    for i, (depth, body) in enumerate(nodes):
        is_leaf = i + 1 == len(nodes) or nodes[i + 1][0] <= depth
        if is_leaf and depth > 0 and _subject(body) in relevant:
            _keep_path(nodes, keep, i)
    if all(k == (d == 0) for (d, _), k in zip(nodes, keep, strict=True)):
        keep = [True] * len(nodes)  # nothing matched: condensing would hide the reason
    lines = _render(_paths(nodes, keep), names, limit)
    unnamed = [s for s in specs if not mentions(text, Requirement(s).name)]
    return lines + tuple(
        f"({spec}: not named in the solver's explanation; it is part of the set because "
        "the rest solves without it)"
        for spec in unnamed
    )


def _nodes(text: str) -> list[Node]:
    """(depth, text) per line; the 'incompatible' header is dropped, its tree lifted."""
    nodes: list[Node] = []
    lifted = False
    for line in text.splitlines():
        match = _BRANCH.match(line)
        prefix = match.group(0) if match else ""
        depth, body = len(prefix) // 3, line[len(prefix) :].strip()
        if not body:
            continue
        if depth == 0:
            lifted = body == _HEADER
            if lifted:
                continue
        nodes.append((depth - 1 if lifted else depth, body))
    return nodes


def _roots(nodes: list[Node]) -> list[str]:
    roots, current = [], ""
    for depth, body in nodes:
        if depth == 0:
            current = _subject(body)
        roots.append(current)
    return roots


def _subject(body: str) -> str:
    """The package a line is about: its first word (``No candidates ... for X``: X)."""
    if body.startswith("No candidates were found for "):
        body = body.removeprefix("No candidates were found for ")
    return body.split(" ", 1)[0].rstrip(",.")


def _keep_path(nodes: list[Node], keep: list[bool], index: int) -> None:
    """Mark the line at *index* and each of its ancestors."""
    depth = nodes[index][0] + 1
    for j in range(index, -1, -1):
        if nodes[j][0] < depth:
            keep[j] = True
            depth = nodes[j][0]


def _paths(nodes: list[Node], keep: list[bool]) -> list[tuple[str, ...]]:
    """The kept lines as paths from their root (bodies), each distinct path once, in order."""
    paths: list[tuple[str, ...]] = []
    seen: set[tuple[str, ...]] = set()
    path: list[str] = []
    for (depth, body), kept in zip(nodes, keep, strict=True):
        path = [*path[:depth], body]
        if kept and tuple(path) not in seen:
            seen.add(tuple(path))
            paths.append(tuple(path))
    return paths


def _render(paths: list[tuple[str, ...]], names: Sequence[str], limit: int) -> tuple[str, ...]:
    """Indented lines; past *limit*, the first path naming each member, then the rest in order."""
    chosen = set(range(len(paths)))
    if len(paths) > limit:
        position = {p: i for i, p in enumerate(paths)}
        chosen = set()
        for name in names:
            first = next((p for p in paths if mentions(p[-1], name)), None)
            if first is not None:
                chosen |= {position[first[:k]] for k in range(1, len(first) + 1)}
        for i in range(len(paths)):
            if len(chosen) >= limit:
                break
            chosen |= {position[paths[i][:k]] for k in range(1, len(paths[i]) + 1)}
    lines: list[str] = []
    above: tuple[str, ...] = ()  # the path of the line last written
    for path in (p for i, p in enumerate(paths) if i in chosen):
        # A line's parent may have been written under another root (repeats are dropped):
        # write its ancestors again so the indentation reads right.
        shared = 0
        while shared < min(len(above), len(path) - 1) and above[shared] == path[shared]:
            shared += 1
        lines += ["  " * depth + path[depth] for depth in range(shared, len(path))]
        above = path
    if len(chosen) < len(paths):
        lines.append(f"... {len(paths) - len(chosen)} more lines")
    return tuple(lines)
