"""Reading YAML that cannot be trusted: compositions, environment files, locks.

They come from anywhere. PyYAML's safe loader runs no code, but it happily builds an
alias bomb (nine lines whose values expand to 10^9 strings when printed or walked), a
recursive list, or keeps only the last of two equal keys. :func:`load_yaml` checks the
composed node graph before building values from it; the checks are small functions
(:func:`yaml_tree_problems`) that a faster lock reader can keep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from twinlock.errors import InputFileError, Problem, shorten
from twinlock.fileio import display_path, read_text

MAX_YAML_DEPTH = 64
MAX_YAML_VALUES = 200_000

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader, except that an impossible date (2025-02-30) stays text."""


def _timestamp(loader: Any, node: yaml.ScalarNode) -> object:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        # The validator of the key then says "not a date", naming the key.
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def read_yaml(path: Path, source: str | None = None) -> Any:
    """The YAML document in *path* (see :func:`load_yaml`); absent is an InputFileError too."""
    return load_yaml(read_text(path), source or display_path(path))


def load_yaml(text: str, source: str, *, unique_keys: bool = True) -> Any:
    """The one YAML document in *text*, refusing what cannot be trusted.

    An :class:`InputFileError` (naming *source* and the line) for invalid YAML, nesting
    deeper than :data:`MAX_YAML_DEPTH`, aliases expanding to more than
    :data:`MAX_YAML_VALUES` values or into themselves, and (with *unique_keys*) a key
    given twice in one mapping.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        # Without an anchor there is no alias: size is bounded by the text and depth by
        # the parser, so a lock (tens of thousands of nodes) skips the walk.
        if unique_keys or "&" in text:
            problems = yaml_tree_problems(node, source, unique_keys=unique_keys)
            if problems:
                raise InputFileError(problems)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise InputFileError([_syntax_problem(exc, source)]) from None
    except RecursionError:
        raise InputFileError([_nesting_problem(source, "")]) from None
    except (ValueError, TypeError, OverflowError) as exc:
        problem = Problem(source, "", f"cannot read a value: {shorten(str(exc), quote=False)}")
        raise InputFileError([problem]) from None
    finally:
        loader.dispose()


def _syntax_problem(exc: yaml.YAMLError, source: str) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}" if mark is not None else ""
    context, problem = getattr(exc, "context", None), getattr(exc, "problem", None)
    text = ", ".join(str(t) for t in (context, problem) if t) or str(exc).split("\n")[0]
    return Problem(
        source, where, f"not valid YAML: {shorten(text, 200, quote=False)}", "fix the YAML syntax"
    )


def _nesting_problem(source: str, where: str) -> Problem:
    return Problem(
        source,
        where,
        f"nested more than {MAX_YAML_DEPTH} levels deep",
        "flatten the structure (twinlock's files need only a few levels)",
    )


def yaml_tree_problems(root: yaml.Node, source: str, *, unique_keys: bool = True) -> list[Problem]:
    """What is wrong with a composed YAML node graph (empty when it is safe to construct).

    One walk, iterative and memoised per node, so an alias bomb costs its size on disk:
    depth, expanded size, recursive aliases, duplicate keys.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    problems: list[Problem] = []
    stack: list[tuple[yaml.Node, int, str, bool]] = [(root, 0, "", False)]
    while stack:
        node, depth, path, done = stack.pop()
        line = f"line {node.start_mark.line + 1}"
        if done:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes.get(id(c), 0) for c, _ in _children(node, path))
            if sizes[id(node)] > MAX_YAML_VALUES:
                return [_bomb_problem(source, line)]
            continue
        if id(node) in sizes:
            continue
        if id(node) in open_nodes:
            return [
                Problem(source, line, "an alias refers to a value that contains it", _ALIAS_FIX)
            ]
        if depth >= MAX_YAML_DEPTH:  # depth 0 is the first level
            return [_nesting_problem(source, line)]
        if unique_keys and isinstance(node, yaml.MappingNode):
            problems += _duplicate_keys(node, source, path)
        open_nodes.add(id(node))
        stack.append((node, depth, path, True))
        stack += [(child, depth + 1, where, False) for child, where in _children(node, path)]
    return problems


_ALIAS_FIX = "write the values out instead of using YAML aliases (*name)"


def _bomb_problem(source: str, where: str) -> Problem:
    return Problem(
        source, where, f"YAML aliases expand to more than {MAX_YAML_VALUES:,} values", _ALIAS_FIX
    )


def _children(node: yaml.Node, path: str) -> list[tuple[yaml.Node, str]]:
    if isinstance(node, yaml.SequenceNode):
        return [(child, f"{path}[{i}]") for i, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        out: list[tuple[yaml.Node, str]] = []
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            out += [(key, path), (value, f"{path}.{name}" if path else str(name))]
        return out
    return []


def _duplicate_keys(node: yaml.MappingNode, source: str, path: str) -> list[Problem]:
    """A key given twice in one mapping: YAML keeps the last silently, we refuse both."""
    first: dict[tuple[str, str], int] = {}
    problems = []
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 1
        seen = first.get((key.tag, key.value))
        if seen is None:
            first[(key.tag, key.value)] = line
            continue
        problems.append(
            Problem(
                source,
                path or "(top level)",
                f"duplicate key {shorten(key.value)} (lines {seen} and {line})",
                "YAML keeps only the last value: remove one or merge them",
            )
        )
    return problems
