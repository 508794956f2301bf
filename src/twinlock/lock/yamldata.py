"""The data of a lock file's YAML, scalars such as hashes and versions kept as written text.

A hash of 64 decimal digits or a version like ``1.10`` is text in a lock, whatever
YAML 1.1 says; only the plain words YAML reads as booleans and nulls are read so
(the validator then reports them where text belongs). A lock in the regular form
twinlock writes is read by :mod:`twinlock.lock.fastread`; anything else goes
through libyaml, aliases checked before they are expanded.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from twinlock.errors import LockFileError
from twinlock.lock.fastread import read_regular_yaml

if TYPE_CHECKING:
    import yaml

RESTORE_HINT = (
    "restore it from version control (git checkout -- FILE), "
    "or solve it anew ignoring it: twinlock lock --full"
)

_NOT_TEXT = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
_STR = "tag:yaml.org,2002:str"
# The resolvers left (bool, null, merge, value) match exactly these plain scalars:
# one dict lookup instead of PyYAML's per-scalar regexp walk (a third of a lock's read).
_PLAIN_TAGS = {
    value: tag
    for tag, words in (
        ("tag:yaml.org,2002:bool", "yes Yes YES no No NO true True TRUE false False FALSE"),
        ("tag:yaml.org,2002:bool", "on On ON off Off OFF"),
        ("tag:yaml.org,2002:null", "~ null Null NULL"),
        ("tag:yaml.org,2002:merge", "<<"),
        ("tag:yaml.org,2002:value", "="),
    )
    for value in words.split()
} | {"": "tag:yaml.org,2002:null"}


@functools.cache
def _text_loader() -> Any:
    """libyaml's safe loader, resolving plain scalars to text, bools and nulls only.

    Built on first use, as PyYAML is imported: a lock in the regular form (every lock
    ``diff`` reads, unless damaged or edited by hand) needs neither (~11 ms of imports).
    """
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def resolve(self: Any, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            return _PLAIN_TAGS.get(value, _STR) if implicit[0] else _STR
        return str(base.resolve(self, kind, value, implicit))

    loader: Any = type("_TextLoader", (base,), {"resolve": resolve})
    loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _NOT_TEXT]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    return loader


def load_lock_data(text: str, *, source: str) -> object:
    """The YAML data of a lock, scalars such as hashes and versions kept as written text.

    A lock in the regular form twinlock writes is read by :mod:`twinlock.lock.fastread`;
    anything else by libyaml (:func:`load_yaml_data`), with the same result.
    """
    data = read_regular_yaml(text)
    return load_yaml_data(text, source=source) if data is None else data


def load_yaml_data(text: str, *, source: str) -> object:
    """:func:`load_lock_data` through libyaml, whatever the form of the YAML.

    Aliases are checked before they are expanded (an alias bomb is refused, not built);
    twinlock never writes an anchor, so a lock without ``&`` skips that walk.
    """
    import yaml

    from twinlock.yamlio import yaml_tree_problems

    loader = _text_loader()(text)
    try:
        node = loader.get_single_node()
        if node is not None and "&" in text:
            problems = yaml_tree_problems(node, source, unique_keys=False)
            if problems:
                raise LockFileError(
                    f"{source}: not readable as a lock ({problems[0].message})", RESTORE_HINT
                )
        if node is None:
            return None
        try:
            return _plain_data(node, yaml.ScalarNode)
        except (_NotPlain, RecursionError):
            # A tag twinlock never writes, or nesting deeper than the walk's stack:
            # PyYAML's constructor (iterative) decides.
            return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = str(getattr(exc, "problem", None) or "invalid YAML")[:120]
        raise LockFileError(
            f"{source}: not readable as YAML{where} ({problem}); the file is damaged",
            RESTORE_HINT,
        ) from None
    except RecursionError:
        raise LockFileError(f"{source}: nested too deeply to be a lock", RESTORE_HINT) from None
    finally:
        loader.dispose()


class _NotPlain(Exception):
    """A node :func:`_plain_data` leaves to PyYAML's constructor."""


_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}


def _plain_data(node: yaml.Node, scalar: type[yaml.ScalarNode]) -> object:
    """The data of a composed YAML tree of maps, lists, text, booleans and nulls.

    What the constructor would build from the same nodes, without its per-node
    dispatch (most of a lock's reading time): the composer has already resolved
    each scalar's tag. Any other tag (a merge key, a set, binary, ...) or a key
    that is not a scalar raises :class:`_NotPlain`.
    """
    tag = node.tag
    if tag == "tag:yaml.org,2002:str":
        return node.value
    if tag == "tag:yaml.org,2002:map":
        out = {}
        for key, value in node.value:
            if not isinstance(key, scalar):
                raise _NotPlain
            out[_plain_data(key, scalar)] = _plain_data(value, scalar)
        return out
    if tag == "tag:yaml.org,2002:seq":
        return [_plain_data(item, scalar) for item in node.value]
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return _BOOLS[node.value.lower()]
    raise _NotPlain
