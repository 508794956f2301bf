"""Requirement entries: conda match specs, PyPI requirements, channels, ``python:``.

A requirement is a conda match spec string, or a mapping that also says who
asked for it and why (kept in the lock and shown by ``twinlock why``)::

    - numpy >=1.26
    - spec: astropy >=6
      requested-by: science pipelines
      reason: coordinates and units

Conda specs are parsed once in conda's dialect (:mod:`twinlock.spec.matchspec`).
PyPI requirements
(``pypi:`` lists, ``requirements.txt`` files, the ``pip:`` section of an
``environment.yml``) are PEP 508 strings validated with ``packaging``, optionally
hash-pinned (``name==1.0 --hash=sha256:...``) or direct references carrying their
sha256 (``name @ https://.../name-1.0-py3-none-any.whl#sha256=...``); editable
installs, local paths, VCS URLs and other pip options are refused by name because
they cannot be resolved into hash-checked artifacts (see :mod:`twinlock.spec.condalock`).
A whole ``environment.yml`` is read by :mod:`twinlock.spec.environment_yml`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twinlock.errors import Problem, Problems, kind_of, shorten
from twinlock.model.composition import Channel, PypiRequirement, Requirement
from twinlock.spec.condalock import pip_entry_problem
from twinlock.spec.matchspec import CondaSpec, InvalidCondaSpec

REQUIREMENT_KEYS = ("spec", "requested-by", "reason")
MAX_SPEC_LENGTH = 1000
_HASH_OPTION = re.compile(r"--hash[= ]sha256:[0-9a-fA-F]{64}")
_PYTHON_RE = re.compile(r"3\.\d{1,2}(\.\d{1,2})?")


def parse_pypi_requirements(
    value: object, key: str, problems: Problems
) -> tuple[PypiRequirement, ...]:
    """A list of PEP 508 strings (or ``{spec, requested-by, reason}`` mappings)."""
    if not isinstance(value, list):
        problems.add(
            key, f"expected a list of PyPI requirements, got {kind_of(value)}", "e.g. - numpy>=2"
        )
        return ()
    out = []
    for i, item in enumerate(value):
        req = parse_requirement(item, f"{key}[{i}]", problems, pypi=True)
        if isinstance(req, PypiRequirement):
            out.append(req)
    return tuple(out)


def parse_requirements_txt(text: str, key: str, problems: Problems) -> tuple[PypiRequirement, ...]:
    """The requirements of a ``requirements.txt`` (comments and blank lines skipped)."""
    specs: list[object] = []
    for number, raw in _logical_lines(text):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        entry = pip_entry_problem(line)
        if line.startswith(("-e", "--editable")) and entry is not None:
            problems.add(f"{key}:{number}", f"'{line}': {entry[0]}", entry[1])
            continue
        if line.startswith("-"):
            problems.add(
                f"{key}:{number}",
                f"pip option '{line}' is not supported",
                "list plain requirements; indexes come from uv's configuration",
            )
            continue
        specs.append(line)
    reqs = parse_pypi_requirements(specs, key, problems)
    return reqs


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with pip's ``\\`` continuations joined: hash-pinned files
    put each ``--hash`` on its own line."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        start, head = pending if pending is not None else (number, "")
        joined = f"{head} {raw.strip()}".strip()
        if raw.rstrip().endswith("\\"):
            pending = (start, joined.removesuffix("\\").strip())
            continue
        pending = None
        out.append((start, joined))
    if pending is not None:
        out.append(pending)
    return out


def pypi_requirement_error(spec: str) -> str | None:
    """Why *spec* is not a lockable PEP 508 requirement, or None when it is."""
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as Pep508

    if spec.lstrip().startswith("-"):
        # --index-url URL, -e git+https://..., -r file: pip options, not requirements.
        option = spec.split(maxsplit=1)[0]
        return (
            f"'{option}' is a pip option, not a requirement; write a PEP 508 requirement "
            "(name @ URL#sha256=... for a direct reference), or use pypi-file:"
        )
    text, _, options = spec.partition(" --")
    options = f"--{options}" if options else ""
    leftover = _HASH_OPTION.sub("", options).strip()
    if leftover:
        return f"only --hash=sha256:<64 hex digits> may follow a requirement, not '{leftover}'"
    if "://" in text and "@" not in text.split("://", 1)[0]:
        return "a bare URL is not a PEP 508 requirement (write name @ URL#sha256=...)"
    try:
        Pep508(text)
    except InvalidRequirement as exc:
        return str(exc).splitlines()[0]
    return None


def parse_requirements(value: object, key: str, problems: Problems) -> tuple[Requirement, ...]:
    if not isinstance(value, list):
        problems.add(key, f"expected a list of match specs, got {kind_of(value)}", "e.g. - numpy")
        return ()
    out = []
    for i, item in enumerate(value):
        req = parse_requirement(item, f"{key}[{i}]", problems)
        if req is not None:
            out.append(req)
    return tuple(out)


def parse_requirement(
    item: object, key: str, problems: Problems, *, pypi: bool = False
) -> Requirement | None:
    requested_by = reason = None
    base = key
    if isinstance(item, Mapping):
        problems.unknown_keys(item, REQUIREMENT_KEYS, key)
        spec, requested_by, reason = item.get("spec"), item.get("requested-by"), item.get("reason")
        key = f"{key}.spec"
    else:
        spec = item
    if not isinstance(spec, str) or not spec.strip():
        problems.add(key, f"expected a match spec, got {kind_of(spec)}", "e.g. numpy >=1.26")
        return None
    spec = " ".join(spec.split())
    if len(spec) > MAX_SPEC_LENGTH:  # bounds the work and every message that quotes it
        problems.add(
            key,
            f"a requirement of {len(spec)} characters: {shorten(spec, 60)}",
            f"write one requirement (at most {MAX_SPEC_LENGTH} characters)",
        )
        return None
    if pypi:
        entry = pip_entry_problem(spec)
        if entry is not None:
            problems.add(key, f"cannot lock PyPI entry '{spec}': {entry[0]}", entry[1])
            return None
        error = pypi_requirement_error(spec)
        if error:
            problems.add(
                key,
                f"invalid PyPI requirement '{spec}': {error}",
                "write a PEP 508 requirement published on the index, e.g. numpy>=2,<3",
            )
            return None
    canonical = None
    if not pypi:
        try:
            canonical = CondaSpec.parse(spec).canonical
        except InvalidCondaSpec as exc:
            problems.add(
                key,
                f"invalid match spec '{shorten(spec, quote=False)}': "
                f"{shorten(str(exc), 160, quote=False)}",
                MATCH_SPEC_HINT,
            )
            return None
    kind = PypiRequirement if pypi else Requirement
    return kind(
        spec,
        _provenance(requested_by, f"{base}.requested-by", problems),
        _provenance(reason, f"{base}.reason", problems),
        canonical=canonical,
    )


def _provenance(value: object, key: str, problems: Problems) -> str | None:
    """``requested-by`` / ``reason``: text (a number is taken as written), never a list or map."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    problems.add(key, f"expected text, got {kind_of(value)} {shorten(value, 40)}", _PROVENANCE_FIX)
    return None


_PROVENANCE_FIX = "write one line of text (quote it if it contains ': ' or starts with '[')"


MATCH_SPEC_HINT = (
    "write a conda match spec: name, then a version and a build, e.g. numpy, numpy >=1.26, "
    "numpy=1.26, numpy 1.26.* py312*, numpy=1.26=py312*, conda-forge::numpy "
    "or numpy[version='>=1.26']"
)


def parse_channels(value: object, key: str, problems: Problems) -> tuple[Channel, ...] | None:
    """A channel list (names or URLs); None when absent or not a list of strings."""
    if value is None:
        problems.add(key, "missing required key", "e.g. channels: [conda-forge]")
        return None
    names = problems.string_list(value, key)
    if names is None:
        return None
    if not names:
        problems.add(key, "no channels given", "e.g. channels: [conda-forge]")
    channels: list[Channel] = []
    for i, text in enumerate(names):
        if text.strip() == "defaults":
            # conda's alias: its real channels, recorded as such in the lock
            channels += [c for c in Channel.defaults() if c not in channels]
            continue
        try:
            channel = Channel.from_string(text)
        except ValueError as exc:
            problems.add(f"{key}[{i}]", str(exc), "write a name like conda-forge or a URL")
            continue
        if channel not in channels:
            channels.append(channel)
    return tuple(channels)


def parse_python_keys(
    body: Mapping[str, Any], key: str, problems: Problems
) -> tuple[str | None, str | None]:
    """``python:`` (a version such as "3.12") and ``python-interpreter:`` (an absolute path)."""
    version = body.get("python")
    interpreter = body.get("python-interpreter")
    if version is not None and not (isinstance(version, str) and _PYTHON_RE.fullmatch(version)):
        hint = 'quote it: python: "3.10" (YAML reads 3.10 as the number 3.1)'
        if isinstance(version, str):
            hint = 'a Python 3 version such as "3.12" or "3.12.7"'
        problems.add(f"{key}.python", f"invalid Python version {shorten(version)}", hint)
        version = None
    if interpreter is not None:
        if "python" not in body:
            problems.add(
                f"{key}.python-interpreter",
                "only a PyPI-only environment (python:) takes an interpreter",
                'add python: "3.X" or remove python-interpreter (conda provides Python)',
            )
        if not isinstance(interpreter, str) or not interpreter.startswith("/"):
            problems.add(
                f"{key}.python-interpreter",
                f"expected an absolute path, got {shorten(interpreter)}",
                "e.g. /usr/bin/python3.12",
            )
            interpreter = None
    return version, interpreter


@dataclass(frozen=True)
class FileUnavailable:
    """Stands in for a referenced file that could not be loaded, and says why."""

    reason: str
    hint: str = "check the path"
    # Problems that name the file itself and a line (duplicate keys, not UTF-8, ...).
    problems: tuple[Problem, ...] = ()

    def report(self, problems: Problems, key: str, ref: str) -> None:
        """Add why *ref* (named at *key*) is unusable to *problems*."""
        if self.problems:
            problems.items.extend(self.problems)
        else:
            problems.add(key, f"cannot read '{ref}': {self.reason}", self.hint)


PYPI_HINT = "add 'pypi:' (a list of PEP 508 requirements) or 'pypi-file: requirements.txt'"


def parse_pypi_sources(
    body: Mapping[str, Any], key: str, files: Mapping[str, object], problems: Problems
) -> tuple[tuple[PypiRequirement, ...], tuple[str, ...]]:
    """The ``pypi:`` list and the ``pypi-file:`` requirements.txt of an environment."""
    reqs: tuple[PypiRequirement, ...] = ()
    if "pypi" in body:
        reqs = parse_pypi_requirements(body["pypi"], f"{key}.pypi", problems)
    if "pypi-file" not in body:
        return reqs, ()
    ref = body["pypi-file"]
    if not isinstance(ref, str) or not ref:
        problems.add(f"{key}.pypi-file", "expected a file name", "e.g. pypi-file: requirements.txt")
        return reqs, ()
    loaded = files.get(ref, FileUnavailable("it was not loaded"))
    if not isinstance(loaded, str):
        unusable = loaded if isinstance(loaded, FileUnavailable) else FileUnavailable("not text")
        unusable.report(problems, f"{key}.pypi-file", ref)
        return reqs, ()
    source = posixpath.join(posixpath.dirname(problems.source), ref)
    file_problems = Problems(source)
    from_file = parse_requirements_txt(loaded, "line", file_problems)
    problems.items.extend(file_problems.items)
    return reqs + from_file, (ref,)
