"""A fast reader of lock files in the YAML subset twinlock's writer produces.

libyaml parses quickly, but PyYAML still builds every node and constructs
every value in Python: reading the two locks of the bundled example costs
more than the rest of ``check`` or ``diff``. The files twinlock writes
(:mod:`twinlock.lock.emit`) use a small, regular part of YAML: block mappings,
lists not indented under their key, ``{}`` and ``[]``, plain and single-quoted
strings (folded onto indented lines when long), decimal integers and
``true``/``false``. This module reads exactly that part, line by line.

Whatever lies outside it (double quotes, flow collections, anchors, tags,
comments after the header, tabs, duplicate keys, a plain scalar YAML would
read as something other than a string, an integer or a bool) makes the whole
text go to libyaml (``CSafeLoader``), so the result is always the data
``yaml.load(text, CSafeLoader)`` returns; tests compare the two.
"""

from __future__ import annotations

import re
from typing import Any

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
# Printable ASCII and line feeds only: no unicode line breaks, no control characters.
_SUBSET_CHARACTERS = re.compile(r"[ -~\n]*")
_STR_TAG = "tag:yaml.org,2002:str"
_SCALAR_START_REFUSED = frozenset('"&*!|>[{%@`#')


class _Fallback(Exception):
    """The text leaves the subset: libyaml reads it instead."""


def load_yaml(text: str) -> Any:
    """The data of *text*, as ``yaml.load(text, CSafeLoader)`` returns it."""
    try:
        return _read(text)
    except (_Fallback, IndexError, RecursionError):
        pass  # outside the subset (or deeper than Python recurses): libyaml decides
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


# One package entry of the list, exactly as twinlock's writer lays it out; each value
# is then read as the scalar it is. An entry laid out otherwise (a folded value, a
# key in another order) leaves the fast path: the generic reader takes the file.
_ENTRY = re.compile(
    r"- name: ([^\n]+)\n"
    r"  version: ([^\n]+)\n"
    r"  manager: ([^\n]+)\n"
    r"  platform: ([^\n]+)\n"
    r"  dependencies:(?: \{\}\n|\n((?:    [^ \n][^\n]*\n)+))"
    r"  url: ([^\n]+)\n"
    r"  hash:\n(?:    md5: ([^\n]+)\n)?(?:    sha256: ([^\n]+)\n)?"
    r"(?:  build: ([^\n]+)\n)?"
    r"  category: ([^\n]+)\n"
    r"  optional: ([^\n]+)\n"
)
_FIELDS = ("name", "version", "manager", "platform")


def _read(text: str) -> Any:
    """The package list entry by entry (a regular expression each), the rest line by line."""
    head, sep, packages = text.partition("\npackage:\n")
    if not sep or not packages.startswith("- name: "):
        return _Reader(text).document()
    if not _SUBSET_CHARACTERS.fullmatch(packages):
        raise _Fallback("characters outside the subset")
    reader = _Reader(head + "\n")
    data = reader.document()
    if not isinstance(data, dict) or "package" in data:
        raise _Fallback("not a lock document")
    data["package"] = _entries(reader, packages)
    return data


def _entries(reader: _Reader, packages: str) -> list[dict[str, Any]]:
    single = reader._single
    out = []
    pos = 0
    while pos < len(packages):
        match = _ENTRY.match(packages, pos)
        if match is None:
            raise _Fallback("a package entry laid out otherwise")
        pos = match.end()
        groups = match.groups()
        entry: dict[str, Any] = {k: single(v) for k, v in zip(_FIELDS, groups, strict=False)}
        entry["dependencies"] = _dependencies(reader, groups[4])
        entry["url"] = single(groups[5])
        hashes = {}
        if groups[6] is not None:
            hashes["md5"] = single(groups[6])
        if groups[7] is not None:
            hashes["sha256"] = single(groups[7])
        if not hashes:
            raise _Fallback("empty hash")
        entry["hash"] = hashes
        if groups[8] is not None:
            entry["build"] = single(groups[8])
        entry["category"] = single(groups[9])
        entry["optional"] = single(groups[10])
        out.append(entry)
    return out


def _dependencies(reader: _Reader, block: str | None) -> dict[str, Any]:
    if block is None:
        return {}
    deps: dict[str, Any] = {}
    for line in block[4:-1].split("\n    "):
        split = _key_split(line)
        if split is None or not split[1]:
            raise _Fallback("a dependency line laid out otherwise")
        key = reader._key(split[0])
        if key in deps:
            raise _Fallback("duplicate key")
        deps[key] = reader._single(split[1])
    return deps


class _Reader:
    def __init__(self, text: str) -> None:
        if not _SUBSET_CHARACTERS.fullmatch(text):
            raise _Fallback("tabs, control or non-ASCII characters")
        lines = text.split("\n")
        start = 0
        while start < len(lines) and lines[start].startswith("#"):
            start += 1  # the header comment
        end = len(lines)
        while end > start and not lines[end - 1]:
            end -= 1
        self.lines = lines[start:end]
        if not self.lines or any(not line.strip() for line in self.lines):
            raise _Fallback("empty document or blank lines")
        # Per line: its indentation and its text after it (a "- key: v" item line is
        # rewritten in place to the mapping line "key: v" two columns further in).
        self.contents = [line.lstrip(" ") for line in self.lines]
        self.indents = [len(a) - len(b) for a, b in zip(self.lines, self.contents, strict=True)]
        self.pos = 0
        self.plain: dict[str, Any] = {}
        self.resolver: Any = None
        self.implicit: dict[Any, Any] = {}

    def document(self) -> Any:
        value = self._block(0)
        if self.pos != len(self.lines):
            raise _Fallback("text after the document")
        return value

    def _at(self, indent: int) -> bool:
        return self.pos < len(self.indents) and self.indents[self.pos] == indent

    def _block(self, indent: int) -> Any:
        """The mapping or list starting at the current line, at column *indent*."""
        if not self._at(indent):
            raise _Fallback("expected a block")
        content = self.contents[self.pos]
        if content.startswith("- ") or content == "-":
            return self._sequence(indent)
        return self._mapping(indent)

    def _sequence(self, indent: int) -> list[Any]:
        items: list[Any] = []
        while self._at(indent):
            content = self.contents[self.pos]
            if not content.startswith("- "):
                break
            rest = content[2:]
            if _key_split(rest) is not None:
                # "- key: value": a mapping two columns in, its first line shares the dash
                self.contents[self.pos] = rest
                self.indents[self.pos] = indent + 2
                items.append(self._mapping(indent + 2))
            else:
                self.pos += 1
                items.append(self._scalar(rest, indent))
        return items

    def _mapping(self, indent: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        while self._at(indent):
            content = self.contents[self.pos]
            if content.startswith("- ") or content == "-":
                break
            split = _key_split(content)
            if split is None:
                raise _Fallback("not a key")
            raw_key, rest = split
            key = self._key(raw_key)
            if key in out:
                raise _Fallback("duplicate key")
            self.pos += 1
            out[key] = self._value(rest, indent)
        return out

    def _value(self, rest: str, indent: int) -> Any:
        if rest == "{}":
            return {}
        if rest == "[]":
            return []
        if rest:
            return self._scalar(rest, indent)
        if self.pos < len(self.lines):
            deeper = self.indents[self.pos]
            content = self.contents[self.pos]
            if deeper > indent or (deeper == indent and content.startswith("- ")):
                return self._block(deeper)
        raise _Fallback("empty value")

    def _continuation(self, indent: int) -> list[str]:
        """The lines a folded scalar continues on (indented deeper than its key)."""
        more = []
        while self.pos < len(self.indents) and self.indents[self.pos] > indent:
            more.append(self.contents[self.pos])
            self.pos += 1
        return more

    def _scalar(self, text: str, indent: int) -> Any:
        if self.pos < len(self.indents) and self.indents[self.pos] > indent:
            return self._folded(text, self._continuation(indent))
        return self._single(text)

    def _single(self, text: str) -> Any:
        """A scalar on one line."""
        if not text:
            raise _Fallback("empty scalar")
        if text[0] == "'":
            return _whole_quoted(text)
        if text[0] in _SCALAR_START_REFUSED or (text[0] in "-?:" and text[1:2] in ("", " ")):
            raise _Fallback("indicator")
        return self._plain(text)

    def _folded(self, text: str, more: list[str]) -> Any:
        """A scalar folded onto the indented lines *more*."""
        parts = _fold_parts([text, *more])
        if text[0] == "'":
            return _whole_quoted(" ".join(parts))
        for part in parts[1:]:
            if ": " in part or part.endswith(":") or part.startswith(("#", "- ")):
                raise _Fallback("continuation that is not plain text")
        return self._single(" ".join(parts))

    def _key(self, raw: str) -> Any:
        value = self._single(raw)
        if not isinstance(value, str):
            raise _Fallback("a key that is not a string")
        return value

    def _plain(self, text: str) -> Any:
        known = self.plain.get(text)
        if known is None:
            known = self.plain[text] = self._resolved(text)
        return known

    def _resolved(self, text: str) -> Any:
        if " #" in text or text.endswith(" ") or text.startswith(("---", "...")):
            raise _Fallback("comment or document marker")
        tag = self._resolve(text)
        if tag == _STR_TAG:
            return text
        if tag.endswith(":bool") and text in ("true", "false"):
            return text == "true"
        if tag.endswith(":int") and _DECIMAL.fullmatch(text):
            return int(text)
        raise _Fallback("a plain scalar of another type")

    def _resolve(self, text: str) -> str:
        """The tag PyYAML's resolver gives the plain scalar *text*.

        Its implicit resolvers are keyed by first character; the first whose
        pattern matches names the type, as in ``Resolver.resolve`` (which a test
        compares), without its per-call overhead on thousands of hashes.
        """
        if self.resolver is None:
            from yaml.resolver import Resolver

            self.resolver = Resolver
            self.implicit = Resolver.yaml_implicit_resolvers
        candidates = [*self.implicit.get(text[:1], ()), *self.implicit.get(None, ())]
        for tag, pattern in candidates:
            if pattern.match(text):
                return str(tag)
        return _STR_TAG


def _whole_quoted(text: str) -> str:
    value, after = _quoted(text)
    if after:
        raise _Fallback("text after a quoted scalar")
    return value


def _fold_parts(parts: list[str]) -> list[str]:
    """Lines of a folded scalar; only single line breaks between words are read here."""
    for part in parts[:-1]:
        if not part or part.endswith(" "):
            raise _Fallback("a fold this reader does not interpret")
    if any(not part for part in parts[1:]):
        raise _Fallback("empty continuation")
    return parts


def _key_split(content: str) -> tuple[str, str] | None:
    """``(key, value text)`` of a ``key: value`` or ``key:`` line, else None."""
    if content.startswith("'"):
        try:
            _, after = _quoted(content)
        except _Fallback:
            return None
        if after == ":" or after.startswith(": "):
            return content[: len(content) - len(after)], after[2:]
        return None
    index = content.find(": ")
    if index >= 0:
        return content[:index], content[index + 2 :]
    if content.endswith(":"):
        return content[:-1], ""
    return None


def _quoted(text: str) -> tuple[str, str]:
    """The single-quoted scalar at the start of *text* and what follows its closing quote."""
    out = []
    index = 1
    while True:
        end = text.find("'", index)
        if end < 0:
            raise _Fallback("unterminated quote")
        out.append(text[index:end])
        if text.startswith("''", end):
            out.append("'")
            index = end + 2
            continue
        return "".join(out), text[end + 1 :]
