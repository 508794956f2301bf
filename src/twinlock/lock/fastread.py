"""A fast reader for the YAML twinlock writes itself, declining everything else.

A lock is read on every ``check``, ``diff`` and relock, and composing its YAML
tree through libyaml (Python objects for some 60,000 nodes) is most of the
reading time. The files twinlock writes (:mod:`twinlock.lock.emit`) use a small,
regular part of YAML: block mappings and sequences indented by spaces, plain or
single-quoted scalars of printable ASCII folded over lines, ``{}`` and ``[]``.
:func:`read_regular_yaml` reads exactly that part and returns the data the full
reader (:func:`twinlock.lock.yamldata.load_yaml_data`) would return, scalars kept as
the text written, except that ``true``/``false``/``null``-style plain words are
booleans and nulls as there.

Anything outside that part (a tab, a double quote, an anchor, a tag, a flow
collection, a comment after a value, a blank line, non-ASCII text, an indentation
it did not expect...) makes it return None, and the caller reads the text with
libyaml. It never raises on any input, and it never guesses: a test compares it
with the full reader on every committed lock and on thousands of damaged ones.
"""

from __future__ import annotations

import re

_PRINTABLE = re.compile(r"[ -~\n]*")
# A blank line, a comment line, or a trailing space (the text is printable ASCII by then).
_ODD_LINE = re.compile(r"^ *$|^ *#| $", re.MULTILINE)
# Characters that start something other than a plain scalar (YAML indicators).
_NOT_PLAIN_START = frozenset("-?:,[]{}#&*!|>'\"%@` ")
_MAX_KEY = 128  # well under YAML's 1024-character limit on simple keys
# Plain words that resolve to something other than text (PyYAML's bool and null).
_WORDS: dict[str, object] = {
    **dict.fromkeys(["yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"], True),
    **dict.fromkeys(["no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"], False),
    **dict.fromkeys(["~", "null", "Null", "NULL"], None),
}
_REFUSED_WORDS = frozenset({"<<", "="})  # merge and value keys: left to PyYAML


_UNSEEN = object()


class _Decline(Exception):
    """The text leaves the regular part of YAML this reader handles."""


def read_regular_yaml(text: str) -> object | None:
    """The data of *text* when it is regular block YAML (see the module), else None."""
    if not text or not _PRINTABLE.fullmatch(text):
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    start = 0
    while start < len(lines) and lines[start].startswith("#"):
        start += 1
    if start == len(lines):
        return None
    # Blank lines, trailing spaces and comments inside the document: left to libyaml.
    body = "\n".join(lines[start:])
    if _ODD_LINE.search(body):
        return None
    reader = _Reader(lines, start)
    try:
        data = reader.mapping(0)
    except (_Decline, IndexError, RecursionError):  # deep nesting: libyaml's limits decide
        return None
    return data if reader.at == len(lines) else None


class _Reader:
    def __init__(self, lines: list[str], start: int) -> None:
        self.lines = lines
        self.at = start
        # Indentation per line, and -1 past the end (the caller refused blank lines).
        self.indents = [len(line) - len(line.lstrip(" ")) for line in lines] + [-1]
        # Plain keys and one-line values already read, by their text.
        self.keys: dict[str, object] = {}
        self.words: dict[str, object] = {}

    def _indent(self, index: int) -> int:
        return self.indents[index]

    def mapping(self, indent: int, first: str | None = None) -> dict[object, object]:
        """Entries at *indent*; *first* is the rest of a ``- `` line holding the first."""
        out: dict[object, object] = {}
        lines, indents, keys = self.lines, self.indents, self.keys
        while True:
            if first is None:
                if indents[self.at] != indent:
                    return out
                content = lines[self.at][indent:]
                if content[:2] == "- " or content == "-":
                    return out
            else:
                content, first = first, None
            # Most lines are `key: word` with a key and a one-line value seen before:
            # both are taken from what this reader already decided about the same text.
            raw, colon, rest = content.partition(": ")
            key = keys.get(raw, _UNSEEN) if colon else _UNSEEN
            if key is not _UNSEEN and indents[self.at + 1] <= indent:
                value = self._word(rest)
                if value is not _UNSEEN:
                    out[key] = value
                    self.at += 1
                    continue
            key, rest = _split_key(content)
            if not content.startswith("'") and rest[:1] in ("", " "):
                keys[content[: len(content) - len(rest) - 1]] = key
            self.at += 1
            out[key] = self._value(rest, indent)

    def _word(self, text: str) -> object:
        """A one-line plain or quoted scalar *text*, remembered; _UNSEEN for anything else."""
        known = self.words.get(text, _UNSEEN)
        if known is not _UNSEEN or text in ("{}", "[]"):  # not remembered: a fresh one each
            return known
        if text[:1] == "'":
            inner, closed, after = _until_quote(text[1:])
            if not closed or after:
                return _UNSEEN
            value: object = inner.replace("''", "'")
        else:
            _check_plain(text)
            if text in _REFUSED_WORDS:
                raise _Decline
            value = _WORDS.get(text, text)
        self.words[text] = value
        return value

    def _value(self, rest: str, indent: int) -> object:
        """The value after ``key:`` on a line at *indent* (*rest* is what follows the colon)."""
        if rest == "":
            below = self._indent(self.at)
            if below > indent:
                return self._block(below)
            if below == indent and self.lines[self.at][indent:].startswith("- "):
                return self.sequence(indent)  # a list in a mapping is not indented
            raise _Decline  # an empty value (null): never written
        if rest == " {}":
            return {}
        if rest == " []":
            return []
        if not rest.startswith(" "):
            raise _Decline
        return self._scalar(rest[1:], indent)

    def _block(self, indent: int) -> object:
        content = self.lines[self.at][indent:]
        if content.startswith("- "):
            return self.sequence(indent)
        return self.mapping(indent)

    def sequence(self, indent: int) -> list[object]:
        out: list[object] = []
        while self._indent(self.at) == indent:
            content = self.lines[self.at][indent:]
            if not content.startswith("- "):
                break
            item = content[2:]
            if (item.startswith("'") and not _quoted_key(item)) or not _is_key_line(item):
                self.at += 1
                out.append(self._scalar(item, indent))
            else:
                out.append(self.mapping(indent + 2, item))
        return out

    def _scalar(self, first: str, indent: int) -> object:
        """A plain or single-quoted scalar starting with *first*, folded over deeper lines."""
        if first.startswith("'"):
            return self._quoted(first, indent)
        _check_plain(first)
        words = [first]
        # Folded lines are indented two more than the key or dash, as twinlock writes them.
        while self._indent(self.at) > indent:
            if self._indent(self.at) != indent + 2:
                raise _Decline
            more = self.lines[self.at][indent + 2 :]
            if more[0] in _NOT_PLAIN_START:
                raise _Decline
            _check_plain(more)
            words.append(more)
            self.at += 1
        text = " ".join(words)
        if text in _REFUSED_WORDS:
            raise _Decline
        return _WORDS.get(text, text)

    def _quoted(self, first: str, indent: int) -> str:
        parts: list[str] = []
        segment = first[1:]
        while True:
            text, closed, after = _until_quote(segment)
            parts.append(text)
            if closed:
                if after:
                    raise _Decline  # something after the closing quote
                return " ".join(parts).replace("''", "'")
            if self._indent(self.at) != indent + 2:
                raise _Decline
            segment = self.lines[self.at][indent + 2 :]
            self.at += 1


def _until_quote(segment: str) -> tuple[str, bool, str]:
    """(text up to the closing quote, whether it closed, what follows the quote)."""
    index = 0
    while True:
        found = segment.find("'", index)
        if found < 0:
            return segment, False, ""
        if segment.startswith("''", found):
            index = found + 2
            continue
        return segment[:found], True, segment[found + 1 :]


def _check_plain(text: str) -> None:
    """Decline text a plain scalar cannot hold as written (it would end or mean more)."""
    if text[0] in _NOT_PLAIN_START or text[-1] in ": " or ": " in text or " #" in text:
        raise _Decline  # it would start something else, end early, or lose a space


def _is_key_line(content: str) -> bool:
    return ": " in content or content.endswith(":")


def _quoted_key(content: str) -> bool:
    _, closed, after = _until_quote(content[1:])
    return closed and (after == ":" or after.startswith(": "))


def _split_key(content: str) -> tuple[object, str]:
    """A mapping line's key and what follows its colon."""
    if content.startswith("'"):
        text, closed, after = _until_quote(content[1:])
        if not closed or not (after == ":" or after.startswith(": ")):
            raise _Decline
        if len(text) > _MAX_KEY:
            raise _Decline
        return text.replace("''", "'"), after[1:]
    colon = content.find(": ")
    if colon < 0:
        if not content.endswith(":"):
            raise _Decline
        colon = len(content) - 1
    key = content[:colon]
    if not key or len(key) > _MAX_KEY or key in _REFUSED_WORDS or ":" in key:
        raise _Decline
    _check_plain(key)
    return _WORDS.get(key, key), content[colon + 1 :]
