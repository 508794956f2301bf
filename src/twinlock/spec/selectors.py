"""Platform selector comments in environment.yml files (``- prmon >=3  # [linux]``).

(A composition's inline ``requirements:`` items honour them the same way.)

conda-lock honours conda-build's preprocessing selectors on dependency lines
of an ``environment.yml``, restricted to platform names: a dependency whose
end-of-line comment ends in ``[expr]`` is used only on the platforms where
*expr* holds. The names and what they mean per platform are conda-lock's:

    linux-64: linux, linux64, unix       osx-64: osx, osx64, unix
    linux-aarch64: linux, aarch64, unix  osx-arm64: osx, arm64, unix
    linux-ppc64le: linux, ppc64le, unix  win-64: win, win64

Where conda-lock silently drops a dependency whose selector it cannot read
(``[not aarch64]``, ``[linux64 or osx]``, ``[py<311]``), twinlock evaluates
``not``/``and``/``or`` and parentheses over those names and refuses any other
name with an error, rather than lose the dependency without a word.

YAML drops comments, so selectors are read from the file's text: the parser
composes the YAML (node positions, no values) and looks at what follows each
``dependencies`` item on its line. The platforms a selector picks are kept on the
requirement (``Requirement.platforms``), narrowed to its environment's platforms;
each platform's solve and input hash use only the requirements that apply there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from twinlock.errors import CompositionError, Problems, shorten
from twinlock.model.composition import Composition, Requirement
from twinlock.model.platforms import KNOWN_PLATFORMS

# Per platform, the selector names that are true there (conda-lock's table).
_PLATFORM_NAMES: dict[str, frozenset[str]] = {
    "linux-64": frozenset({"linux", "linux64", "unix"}),
    "linux-aarch64": frozenset({"linux", "aarch64", "unix"}),
    "linux-ppc64le": frozenset({"linux", "ppc64le", "unix"}),
    "osx-64": frozenset({"osx", "osx64", "unix"}),
    "osx-arm64": frozenset({"osx", "arm64", "unix"}),
    "win-64": frozenset({"win", "win64"}),
}
SELECTOR_NAMES: tuple[str, ...] = tuple(sorted(set().union(*_PLATFORM_NAMES.values())))

# The last [...] of a comment, with no bracket or parenthesis after it (conda-build's rule:
# a Markdown-style link "[text](url)" is not a selector).
_SELECTOR_RE = re.compile(r"\[([^\[\]]+)\][^\[\]()]*$")
_MAYBE_SELECTOR_RE = re.compile(r"#[^\n]*\[")
_TOKEN_RE = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(\()|(\))|(\S+))")


class InvalidSelector(ValueError):
    """A selector expression twinlock cannot evaluate (message: why)."""


@dataclass(frozen=True)
class Selector:
    """A parsed selector expression: the platforms on which it holds."""

    text: str
    platforms: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, platforms: tuple[str, ...]) -> Selector:
        """Evaluate *text* on each of *platforms*; raises :class:`InvalidSelector`."""
        tokens = _tokens(text)
        return cls(text, tuple(p for p in platforms if _evaluate(tokens, _names_on(p))))


def _names_on(platform: str) -> frozenset[str]:
    """Selector names true on *platform* (families for platforms outside conda-lock's table)."""
    if platform in _PLATFORM_NAMES:
        return _PLATFORM_NAMES[platform]
    family = platform.split("-", 1)[0]
    return frozenset({family, "unix"} if family in ("linux", "osx") else {family})


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    for match in _TOKEN_RE.finditer(text):
        name, opening, closing, other = match.groups()
        if other is not None:
            raise InvalidSelector(
                f"'{other}' in selector [{text}]: only platform names, not/and/or "
                "and parentheses are supported"
            )
        word = name or opening or closing
        if name is not None and name not in (*SELECTOR_NAMES, "not", "and", "or"):
            raise InvalidSelector(f"unknown selector name '{name}' in [{text}]")
        out.append(word)
    if not out:
        raise InvalidSelector("empty selector []")
    return out


def _evaluate(tokens: list[str], true: frozenset[str]) -> bool:
    """Evaluate ``or`` of ``and`` of (``not``)* atoms, conda-build's (Python's) precedence."""
    reader = _Reader(tokens, true)
    result = reader.disjunction()
    if reader.peek() is not None:
        raise InvalidSelector(f"unexpected '{reader.peek()}' in [{' '.join(tokens)}]")
    return result


class _Reader:
    """A recursive-descent reader over selector tokens (names are true or false)."""

    def __init__(self, tokens: list[str], true: frozenset[str]) -> None:
        self.tokens = tokens
        self.true = true
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        word = self.peek()
        if word is None:
            raise InvalidSelector(f"selector [{' '.join(self.tokens)}] ends too early")
        self.position += 1
        return word

    def disjunction(self) -> bool:
        value = self.conjunction()
        while self.peek() == "or":
            self.take()
            value = self.conjunction() or value
        return value

    def conjunction(self) -> bool:
        value = self.negation()
        while self.peek() == "and":
            self.take()
            value = self.negation() and value
        return value

    def negation(self) -> bool:
        word = self.take()
        if word == "not":
            return not self.negation()
        if word == "(":
            value = self.disjunction()
            if self.take() != ")":
                raise InvalidSelector(f"unbalanced parentheses in [{' '.join(self.tokens)}]")
            return value
        if word in ("and", "or", ")"):
            raise InvalidSelector(f"unexpected '{word}' in [{' '.join(self.tokens)}]")
        return word in self.true


def selector_in_comment(comment: str) -> str | None:
    """The selector expression of an end-of-line comment (``# [linux]`` -> ``linux``)."""
    match = _SELECTOR_RE.search(comment)
    return match.group(1).strip() if match else None


@dataclass(frozen=True)
class LineSelector:
    """A selector found on a ``dependencies`` line: the item's index (and pip index)."""

    index: int
    pip_index: int | None
    line: int  # 1-based
    text: str


def dependency_selectors(text: str) -> Iterator[LineSelector]:
    """Selectors on the ``dependencies`` items (and ``pip:`` items) of an environment.yml.

    *text* must be YAML already read successfully; anything unexpected yields nothing
    (the data's own validation reports it).
    """
    root = _compose(text)
    deps = _child(root, "dependencies")
    if root is None or not isinstance(deps, _yaml().SequenceNode):
        return
    lines = text.splitlines()
    yield from _item_selectors(deps, lines)
    for i, item in enumerate(deps.value):
        pip = _child(item, "pip")
        if isinstance(pip, _yaml().SequenceNode):
            for found in _item_selectors(pip, lines):
                yield LineSelector(i, found.index, found.line, found.text)


def composition_selectors(text: str) -> dict[str, list[LineSelector]]:
    """Per environment, selectors on the inline ``requirements`` items of a composition."""
    root = _compose(text)
    envs = _child(root, "environments")
    yaml = _yaml()
    if root is None or not isinstance(envs, yaml.MappingNode):
        return {}
    lines = text.splitlines()
    out: dict[str, list[LineSelector]] = {}
    for name, body in envs.value:
        requirements = _child(body, "requirements")
        if isinstance(name, yaml.ScalarNode) and isinstance(requirements, yaml.SequenceNode):
            found = list(_item_selectors(requirements, lines))
            if found:
                out[name.value] = found
    return out


def _item_selectors(sequence: Any, lines: list[str]) -> Iterator[LineSelector]:
    """Selectors after the scalar items of *sequence* (or after a mapping item's ``spec:``)."""
    yaml = _yaml()
    for i, item in enumerate(sequence.value):
        node = item if isinstance(item, yaml.ScalarNode) else _child(item, "spec")
        found = _selector_after(node, lines)
        if found is not None and isinstance(node, yaml.ScalarNode):
            yield LineSelector(i, None, node.end_mark.line + 1, found)


def _yaml() -> Any:
    import yaml

    return yaml


def _compose(text: str) -> Any:
    """The YAML node tree of *text*, or None (no selector anywhere, or unreadable)."""
    if not _MAYBE_SELECTOR_RE.search(text):
        return None  # the common case, without composing the YAML again
    yaml = _yaml()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.compose(text, Loader=loader)
    except (yaml.YAMLError, RecursionError):
        return None


def _child(node: object, key: str) -> object:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    for name, value in node.value:
        if isinstance(name, yaml.ScalarNode) and name.value == key:
            return value
    return None


def _selector_after(node: object, lines: list[str]) -> str | None:
    """The selector in the comment that follows a scalar item on its last line."""
    import yaml

    if not isinstance(node, yaml.ScalarNode) or node.end_mark.line >= len(lines):
        return None
    rest = lines[node.end_mark.line][node.end_mark.column :].lstrip()
    return selector_in_comment(rest) if rest.startswith("#") else None


# --- Applying selectors to requirements ------------------------------------------


def selected_platforms(text: str, problems: Problems) -> dict[int, tuple[str, ...]]:
    """Per ``dependencies`` index, the known platforms its selector comment selects."""
    out: dict[int, tuple[str, ...]] = {}
    for found in dependency_selectors(text):
        where = f"dependencies[{found.index}]"
        if found.pip_index is not None:
            problems.add(
                f"{where}.pip[{found.pip_index}]",
                f"line {found.line}: selector [{shorten(found.text, quote=False)}] on a pip entry",
                "selectors apply to conda dependencies only; give the PyPI requirement "
                "an environment marker instead, e.g. name; sys_platform == 'linux'",
            )
            continue
        try:
            out[found.index] = Selector.parse(found.text, KNOWN_PLATFORMS).platforms
        except InvalidSelector as exc:
            _selector_problem(problems, where, found.line, exc)
    return out


def merge_duplicates(requirements: list[Requirement]) -> tuple[Requirement, ...]:
    """One requirement per spec: lines repeating a spec under other selectors join platforms."""
    merged: dict[str, Requirement] = {}
    for req in requirements:
        first = merged.setdefault(req.spec, req)
        if first is req:
            continue
        if first.platforms is None or req.platforms is None:
            merged[req.spec] = replace(first, platforms=None)
        else:
            union = set(first.platforms) | set(req.platforms)
            merged[req.spec] = replace(
                first, platforms=tuple(p for p in KNOWN_PLATFORMS if p in union)
            )
    return tuple(merged.values())


def limit_to_platforms(
    requirements: tuple[Requirement, ...], platforms: tuple[str, ...]
) -> tuple[Requirement, ...]:
    """Selector-limited requirements narrowed to an environment's *platforms* (in its order)."""
    return tuple(
        r
        if r.platforms is None
        else replace(r, platforms=tuple(p for p in platforms if p in r.platforms))
        for r in requirements
    )


def apply_composition_selectors(composition: Composition, text: str) -> Composition:
    """*composition* with inline requirements limited by their selector comments.

    Raises :class:`CompositionError` for a selector that cannot be evaluated.
    """
    found = composition_selectors(text)
    if not found:
        return composition
    problems = Problems(composition.source)
    _refuse_layered_selectors(composition, set(found), problems)
    if problems.items:
        raise CompositionError(problems.items)
    environments = []
    for env in composition.environments:
        selected: dict[int, tuple[str, ...]] = {}
        for sel in found.get(env.name, []):
            try:
                selected[sel.index] = Selector.parse(sel.text, env.platforms).platforms
            except InvalidSelector as exc:
                where = f"environments.{env.name}.requirements[{sel.index}]"
                _selector_problem(problems, where, sel.line, exc)
        limited = [
            replace(r, platforms=selected[i]) if i in selected else r
            for i, r in enumerate(env.requirements)
        ]
        requirements = limit_to_platforms(merge_duplicates(limited), env.platforms)
        environments.append(replace(env, requirements=requirements))
    if problems.items:
        raise CompositionError(problems.items)
    return replace(composition, environments=tuple(environments))


def _refuse_layered_selectors(
    composition: Composition, with_selectors: set[str], problems: Problems
) -> None:
    """Selector comments in a layer, or in a base a layer extends, are not applied yet.

    A layer's requirements are its base's followed by its own by the time the comments
    are read, so a comment's position would land on the wrong requirement: refuse.
    """
    names = {e.name: e for e in composition.environments}
    for env in composition.environments:
        chain, seen = [], set()
        name: str | None = env.name
        while name is not None and name in names and name not in seen:
            seen.add(name)
            chain.append(name)
            name = names[name].extends
        marked = [n for n in chain if n in with_selectors]
        if env.extends is not None and marked:
            problems.add(
                f"environments.{env.name}",
                f"platform selector comments in {', '.join(sorted(marked))} cannot be applied "
                f"to the layer '{env.name}' (twinlock does not apply them to layers yet)",
                "limit those requirements with the environment's 'platforms:' instead, "
                "or move them to an environment no layer extends",
            )


def _selector_problem(problems: Problems, key: str, line: int, exc: InvalidSelector) -> None:
    problems.add(
        key,
        f"line {line}: {shorten(str(exc), 120, quote=False)}",
        f"platform selectors use {', '.join(SELECTOR_NAMES)} with not/and/or; "
        "remove the [...] from the comment if it is not a selector",
    )
