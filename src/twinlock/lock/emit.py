"""A fast writer of conda-lock v1 YAML, byte for byte what conda-lock's writer produces.

conda-lock's ``write_conda_lock_file`` validates pydantic models, dumps them to
plain data and hands that to PyYAML's pure-Python ``yaml.dump``: importing it
costs more than half a second and representing a 500-package lock another
~0.2 s. The lock format is regular (block mappings and lists of short ASCII
strings), so this module writes it directly, applying the same rules PyYAML
follows for those strings: when a scalar may stay plain, when it must be
single-quoted (a leading indicator, or text YAML would read as a number, bool,
null or date), and where a long quoted or plain string folds at column 80.

A string outside that class (non-ASCII, control characters, line breaks, a key
too long for a simple key) is rare in a lock; the whole file is then dumped by
PyYAML's own writer from the same data, so the output stays exact. Tests compare
both paths with conda-lock's writer on the bundled locks and on varied fixtures.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any
from urllib.parse import urlparse, urlunparse

from twinlock.model.lock import EnvironmentLock

_WIDTH = 80  # PyYAML's default best_width
_STR_TAG = "tag:yaml.org,2002:str"
# Printable ASCII, no line breaks: the strings this writer formats itself.
_SUPPORTED = re.compile(r"[ -~]*")
# PyYAML counts a key's tag ('!!str', 5 characters) towards the 128-character
# limit of a simple key; longer keys take another form, left to PyYAML.
_MAX_KEY = 100
_LEADING_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")


# The key orders of conda and pip entries, as conda-lock's models dump them.
_ENTRY_KEYS = frozenset(
    {
        (*head, "url", "hash", *build, "category", "optional")
        for head in [("name", "version", "manager", "platform", "dependencies")]
        for build in [("build",), ()]
    }
)


class _Unsupported(Exception):
    """A string this writer does not format; the file goes through PyYAML instead."""


def conda_lock_data(lock: EnvironmentLock) -> dict[str, Any]:
    """The plain data conda-lock's writer dumps for *lock* (sorted, virtual packages dropped)."""
    entries: list[tuple[tuple[str, str, str], dict[str, Any]]] = []
    for plat in lock.platforms:
        for pkg in plat.packages:
            if pkg.name.startswith("__"):
                continue
            hashes = {"md5": pkg.md5}
            if pkg.sha256 is not None:
                hashes["sha256"] = pkg.sha256
            entry = _entry(pkg.name, pkg.version, "conda", plat.platform, pkg.dependency_map())
            entry |= {"url": pkg.url, "hash": hashes, "build": pkg.build}
            entries.append((("conda", pkg.name, plat.platform), entry))
        for pypi in plat.pypi:
            entry = _entry(pypi.name, pypi.version, "pip", plat.platform, pypi.dependency_map())
            entry |= {"url": pypi.url, "hash": {"sha256": pypi.sha256}}
            entries.append((("pip", pypi.name, plat.platform), entry))
    packages = []
    for _, entry in sorted(entries, key=lambda item: item[0]):
        packages.append(entry | {"category": "main", "optional": False})
    metadata = {
        "content_hash": {p.platform: p.input_hash for p in lock.platforms},
        "channels": [_channel(url) for url in lock.channels],
        "platforms": list(lock.platform_names),
        "sources": list(lock.sources),
        "custom_metadata": lock.custom_metadata(),
    }
    return {"version": 1, "metadata": metadata, "package": packages}


def _entry(
    name: str, version: str, manager: str, platform: str, deps: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "manager": manager,
        "platform": platform,
        "dependencies": dict(sorted(deps.items())),
    }


def _channel(url: str) -> dict[str, Any]:
    """conda-lock's channel entry: the URL as it normalises it, and the variables it used."""
    if "://" not in url:
        return {"url": url, "used_env_vars": []}
    parsed = urlparse(url)
    if parsed.username or "/t/" in parsed.path:
        # Credentials: conda-lock swaps them for matching environment variables.
        from conda_lock.models.channel import Channel

        channel = Channel.from_string(url)
        return {"url": channel.url, "used_env_vars": list(channel.used_env_vars)}
    return {"url": urlunparse(parsed), "used_env_vars": []}


def dump_conda_lock(data: Mapping[str, Any]) -> str:
    """The YAML text of *data* (from :func:`conda_lock_data`), as ``yaml.dump`` writes it."""
    try:
        return _Writer().document(data)
    except _Unsupported:
        import yaml

        return yaml.dump(dict(data), sort_keys=False)


class _Writer:
    """Block-style YAML of nested dicts/lists of str, int and bool, indented as PyYAML does."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._plain: dict[str, bool] = {}
        # Formatted keys and space-free scalars: their text does not depend on the column.
        self._keys: dict[str, str] = {}
        self._words: dict[str, str] = {}

    def document(self, data: Mapping[str, Any]) -> str:
        self._mapping(data, 0, "")
        return "\n".join(self._lines) + "\n"

    def _mapping(self, data: Mapping[str, Any], indent: int, first: str) -> None:
        """Entries at *indent*; the first goes on the line opened with *first* (``- ``)."""
        pad = " " * indent
        lead = first or pad
        for key, value in data.items():
            head = f"{lead}{self._key(key)}:"
            lead = pad
            self._value(head, value, indent)

    def _value(self, head: str, value: Any, indent: int) -> None:
        if isinstance(value, Mapping):
            if value:
                self._lines.append(head)
                self._mapping(value, indent + 2, "")
            else:
                self._lines.append(head + " {}")
        elif isinstance(value, list):
            if value:
                self._lines.append(head)
                self._sequence(value, indent)
            else:
                self._lines.append(head + " []")
        else:
            self._lines.append(head + self._scalar(value, len(head), indent + 2))

    def _sequence(self, items: Sequence[Any], indent: int) -> None:
        # A list inside a mapping is not indented further ("indentless").
        for item in items:
            if indent == 0 and isinstance(item, dict) and tuple(item) in _ENTRY_KEYS:
                self._package(item)
            elif isinstance(item, Mapping) and item:
                self._mapping(item, indent + 2, " " * indent + "- ")
            elif isinstance(item, Mapping | list):
                raise _Unsupported("nested empty collection")
            else:
                head = " " * indent + "-"
                self._lines.append(head + self._scalar(item, len(head), indent + 2))

    def _package(self, entry: dict[str, Any]) -> None:
        """One package entry, laid out as :meth:`_mapping` would, with less bookkeeping.

        A lock is mostly package entries of one shape; writing their fixed keys
        directly halves the writer's time. Every value still goes through
        :meth:`_scalar`, with the column its key leaves.
        """
        scalar, add = self._scalar, self._lines.append
        add("- name:" + scalar(entry["name"], 7, 4))
        add("  version:" + scalar(entry["version"], 10, 4))
        add("  manager:" + scalar(entry["manager"], 10, 4))
        add("  platform:" + scalar(entry["platform"], 11, 4))
        deps = entry["dependencies"]
        if not isinstance(deps, dict):
            raise _Unsupported("dependencies")
        if deps:
            add("  dependencies:")
            for name, spec in deps.items():
                head = f"    {self._key(name)}:"
                add(head + scalar(spec, len(head), 6))
        else:
            add("  dependencies: {}")
        add("  url:" + scalar(entry["url"], 6, 4))
        hashes = entry["hash"]
        if not isinstance(hashes, dict) or not hashes or not set(hashes) <= {"md5", "sha256"}:
            raise _Unsupported("hash")
        add("  hash:")
        if "md5" in hashes:
            add("    md5:" + scalar(hashes["md5"], 8, 6))
        if "sha256" in hashes:
            add("    sha256:" + scalar(hashes["sha256"], 11, 6))
        if "build" in entry:
            add("  build:" + scalar(entry["build"], 8, 4))
        add("  category:" + scalar(entry["category"], 11, 4))
        add("  optional:" + scalar(entry["optional"], 11, 4))

    def _key(self, key: Any) -> str:
        known = self._keys.get(key)
        if known is None:
            known = self._keys[key] = self._format_key(key)
        return known

    def _format_key(self, key: Any) -> str:
        if not isinstance(key, str) or not key or len(key) > _MAX_KEY:
            raise _Unsupported("key")
        if not _SUPPORTED.fullmatch(key):
            raise _Unsupported("key")
        if self._is_plain(key):
            return key
        return "'" + key.replace("'", "''") + "'"

    def _scalar(self, value: Any, column: int, indent: int) -> str:
        """`` value`` after a ``key:`` or ``-`` ending at *column*, folded lines at *indent*."""
        known = self._words.get(value) if isinstance(value, str) else None
        if known is not None:
            return known
        if isinstance(value, bool):
            return " true" if value else " false"
        if isinstance(value, int):
            return f" {value}"
        if not isinstance(value, str) or not _SUPPORTED.fullmatch(value):
            raise _Unsupported("scalar")
        if " " not in value:
            known = " " + (value if self._is_plain(value) else "'" + value.replace("'", "''") + "'")
            self._words[value] = known
            return known
        if self._is_plain(value):
            return " " + _fold(value.split(" "), column + 1, indent, plain=True)
        return " '" + _fold(value.replace("'", "''").split(" "), column + 2, indent) + "'"

    def _is_plain(self, text: str) -> bool:
        known = self._plain.get(text)
        if known is None:
            known = self._plain[text] = _plain_allowed(text) and _reads_as_string(text)
        return known


def _fold(words: list[str], column: int, indent: int, *, plain: bool = False) -> str:
    """Words joined by single spaces, a space replaced by a line break past column 80.

    PyYAML folds at a single space (never inside a run of spaces, and a quoted
    string never at its first or last character) once the text written so far
    on the line passes the width; the next line starts at *indent*.
    """
    out: list[str] = []
    last = len(words) - 1
    pending = ""  # spaces (empty words = extra spaces) waiting to be written
    for index, word in enumerate(words):
        if index == 0:
            out.append(word)
            column += len(word)
            continue
        pending += " "
        if word == "" and index != last:
            continue  # a run of spaces: keep collecting
        single = pending == " "
        edge = not plain and ((index == 1 and words[0] == "") or (index == last and word == ""))
        if single and column > _WIDTH and not edge:
            out.append("\n" + " " * indent)
            column = indent
        else:
            out.append(pending)
            column += len(pending)
        pending = ""
        out.append(word)
        column += len(word)
    return "".join(out)


def _plain_allowed(text: str) -> bool:
    """PyYAML's test for a plain block scalar, for printable ASCII text without line breaks."""
    if not text or text[0] == " " or text[-1] == " ":
        return False
    if text.startswith(("---", "...")) or text[0] in _LEADING_INDICATORS:
        return False
    first_alone = len(text) == 1 or text[1] == " "
    if text[0] in "?:-" and first_alone:
        return False
    return not (": " in text or text.endswith(":") or " #" in text)


def _reads_as_string(text: str) -> bool:
    """False when YAML would read the plain *text* as another type (1.0, yes, null, a date)."""
    resolvers, resolve = _resolver()
    # Most strings start with a character no implicit type starts with: skip the regexes.
    if text and text[0] not in resolvers:
        return None not in resolvers
    return bool(resolve(text) == _STR_TAG)


@functools.cache
def _resolver() -> tuple[Any, Callable[[str], str]]:
    """PyYAML's implicit resolvers (by first character), and its resolution of a plain scalar.

    One resolver for the process: a lock asks about thousands of versions and digests.
    """
    from yaml.nodes import ScalarNode
    from yaml.resolver import Resolver

    resolver: Any = Resolver()
    return Resolver.yaml_implicit_resolvers, partial(
        resolver.resolve, ScalarNode, implicit=(True, False)
    )
