"""Integrity rules for a parsed conda-lock file: what every reader checks before use.

Pure: :func:`validate_lock_data` takes the YAML data (whatever loader produced it)
and returns every :class:`LockProblem` found; it never raises. The rules:

* types: versions, builds, URLs and hashes are text (a YAML loader that reads
  ``sha256: 0123...`` as an integer produces a problem, not a number);
* hashes: ``md5`` is 32 and ``sha256`` 64 lower-case hex digits; a conda entry
  needs an md5, a PyPI (``manager: pip``) entry a sha256;
* required keys per package: ``name``, ``version``, ``manager``, ``platform``,
  ``url``, ``hash``, ``category``, ``optional`` (and ``build`` for conda); the
  platform is one the metadata lists; no package is locked twice per platform;
* URLs: a conda URL ends in ``<subdir>/<name>-<version>-<build>.conda|.tar.bz2``
  with the platform's subdir (or ``noarch``); a PyPI wheel's file name is the
  project's and version's (other artifacts: any http(s) or file URL);
* the metadata: ``content_hash`` (64 hex per platform), ``platforms``,
  ``channels``, and the ``twinlock.*`` keys with well-formed JSON values;
* completeness (a file cut short at a line still parses as YAML): every
  platform has packages, every package named in the recorded licenses is
  locked, and every dependency of a locked package is locked (conda
  dependencies by name, virtual packages aside; PyPI ones by PEP 503 name,
  conda packages counting as providers).

Problems name the package (and platform) they concern, so ``check`` can report
them as findings and the strict reader can list them in one error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from twinlock.errors import kind_of
from twinlock.model.composition import normalize_pypi_name
from twinlock.model.lock import REQUIREMENT_PLATFORMS_KEY

MD5 = re.compile(r"[0-9a-f]{32}\Z")
SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_REQUIRED_CUSTOM = (
    "twinlock.format",
    "twinlock.composition",
    "twinlock.environment",
    "twinlock.prefix",
    "twinlock.requirements",
)
_SHOWN = 5  # names listed per aggregated problem (the rest are counted)


@dataclass(frozen=True)
class LockProblem:
    """One integrity problem of a lock file: which package (or key), and what is wrong."""

    message: str
    package: str | None = None
    platform: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = " ".join(w for w in (self.package, self.platform) if w)
        return f"{where}: {self.message}" if where else self.detail()

    def detail(self) -> str:
        """The problem without its platform (for reports that show the platform apart)."""
        where = self.package or self.key
        return f"{where}: {self.message}" if where else self.message


def well_formed_hash(value: object, kind: str) -> bool:
    """Is *value* a lower-case hex digest of the *kind* ("md5" or "sha256")?"""
    pattern = MD5 if kind == "md5" else SHA256
    return isinstance(value, str) and pattern.match(value) is not None


def validate_lock_data(data: object) -> list[LockProblem]:
    """Every integrity problem of a parsed twinlock conda-lock file (empty when sound)."""
    if not isinstance(data, Mapping):
        return [LockProblem(f"expected a mapping at the top, got {kind_of(data)}")]
    problems: list[LockProblem] = []
    version = data.get("version")
    if version not in (1, "1"):
        problems.append(
            LockProblem(f"unsupported lock version {_short(str(version))}", key="version")
        )
    meta = data.get("metadata")
    if not isinstance(meta, Mapping):
        return [*problems, LockProblem(f"expected a mapping, got {kind_of(meta)}", key="metadata")]
    platforms = _metadata_problems(meta, problems)
    entries = data.get("package")
    if not isinstance(entries, list):
        problems.append(LockProblem("no package list (file cut short?)", key="package"))
        entries = []
    for index, entry in enumerate(entries):
        _check_entry(entry, index, platforms, problems)
    # An entry with a bad value still says which package is locked where.
    known = [
        e
        for e in entries
        if isinstance(e, Mapping)
        and isinstance(e.get("name"), str)
        and e.get("platform") in platforms
        and e.get("manager") in ("conda", "pip")
    ]
    _duplicates(known, problems)
    custom = meta.get("custom_metadata")
    if isinstance(custom, Mapping):
        _completeness(custom, platforms, known, problems)
    return problems


# --- metadata --------------------------------------------------------------------------


def _metadata_problems(meta: Mapping[str, Any], problems: list[LockProblem]) -> list[str]:
    """Check the metadata block; return its platform list (what entries may name)."""
    raw = meta.get("platforms")
    platforms = raw if _str_list(raw) and raw else []
    if not platforms:
        problems.append(
            LockProblem("expected a non-empty list of platforms", key="metadata.platforms")
        )
    hashes = meta.get("content_hash")
    if not isinstance(hashes, Mapping) or set(hashes) != set(platforms):
        problems.append(
            LockProblem("expected one input hash per platform", key="metadata.content_hash")
        )
    else:
        problems += [
            LockProblem("expected 64 hex digits", key=f"metadata.content_hash.{p}")
            for p, digest in hashes.items()
            if not well_formed_hash(digest, "sha256")
        ]
    channels = meta.get("channels")
    if not isinstance(channels, list) or not all(_channel_ok(c) for c in channels):
        problems.append(LockProblem("expected a list of channel URLs", key="metadata.channels"))
    if not _str_list(meta.get("sources", [])):
        problems.append(LockProblem("expected a list of file names", key="metadata.sources"))
    custom = meta.get("custom_metadata")
    if not isinstance(custom, Mapping) or not all(isinstance(v, str) for v in custom.values()):
        problems.append(
            LockProblem("expected a mapping of text values", key="metadata.custom_metadata")
        )
    else:
        problems += _custom_problems(custom, platforms)
    return platforms


def _custom_problems(custom: Mapping[str, str], platforms: Sequence[str]) -> list[LockProblem]:
    out = [
        LockProblem("missing (not a complete twinlock lock)", key=f"custom_metadata.{k}")
        for k in _REQUIRED_CUSTOM
        if k not in custom
    ]
    shapes: list[tuple[str, type]] = [
        ("twinlock.requirements", list),
        ("twinlock.pypi-requirements", list),
        ("twinlock.align", list),
        ("twinlock.provenance", dict),
        (REQUIREMENT_PLATFORMS_KEY, dict),
        ("twinlock.pypi-indexes", list),
        ("twinlock.tests", dict),
        *((f"twinlock.licenses.{p}", dict) for p in platforms),
    ]
    for key, shape in shapes:
        if key in custom and not isinstance(_json(custom[key]), shape):
            out.append(
                LockProblem(f"expected JSON ({shape.__name__})", key=f"custom_metadata.{key}")
            )
    for platform in platforms:
        key = f"twinlock.virtual-packages.{platform}"
        if key not in custom:
            out.append(LockProblem("missing", key=f"custom_metadata.{key}"))
        elif not all(len(part.split("=")) == 3 for part in custom[key].split()):
            out.append(LockProblem("expected name=version=build", key=f"custom_metadata.{key}"))
    return out


# --- package entries -------------------------------------------------------------------


def _check_entry(
    entry: object, index: int, platforms: Sequence[str], out: list[LockProblem]
) -> None:
    """Add the problems of one ``package`` entry, named by its package and platform."""
    if not isinstance(entry, Mapping):
        out.append(
            LockProblem(f"expected a mapping, got {kind_of(entry)}", key=f"package[{index}]")
        )
        return
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        out.append(LockProblem("package without a name", key=f"package[{index}]"))
        return
    platform = entry.get("platform")
    where = {"package": name, "platform": platform if isinstance(platform, str) else None}
    out += [LockProblem(text, **where) for text in _entry_problems(entry, platforms)]


def _entry_problems(entry: Mapping[str, Any], platforms: Sequence[str]) -> list[str]:
    manager = entry.get("manager")
    if manager not in ("conda", "pip"):
        return ["manager: expected conda or pip"]
    required = ["version", "platform", "url", "hash"] + (["build"] if manager == "conda" else [])
    missing = [k for k in required if k not in entry]
    if missing:
        return [f"missing {', '.join(missing)} (file cut short?)"]
    wrong = [k for k in required if k != "hash" and (not isinstance(entry[k], str) or not entry[k])]
    if wrong:
        return [f"{k}: expected text, got {kind_of(entry[k])} (quote it)" for k in wrong]
    if not isinstance(entry["hash"], Mapping):
        return [f"hash: expected a mapping, got {kind_of(entry['hash'])}"]
    if entry["platform"] not in platforms:
        return [f"platform {_short(entry['platform'])} is not one of the lock's platforms"]
    problems = _hash_problems(entry["hash"], manager)
    # Always written last: their absence is how a cut at the end of an entry shows.
    if not isinstance(entry.get("category"), str):
        problems.append("category: missing or not text (file cut short?)")
    if not isinstance(entry.get("optional"), bool):
        problems.append("optional: missing or not true/false (file cut short?)")
    if not _deps_ok(entry.get("dependencies")):
        problems.append("dependencies: expected a mapping of names to constraints")
    url_problem = _conda_url_problem(entry) if manager == "conda" else _pypi_url_problem(entry)
    return [*problems, *([url_problem] if url_problem else [])]


def _hash_problems(hashes: Mapping[str, Any], manager: str) -> list[str]:
    out = []
    wanted = {"md5": manager == "conda", "sha256": manager == "pip"}
    for kind, required in wanted.items():
        value = hashes.get(kind)
        if value is None:
            if required:
                out.append(f"hash.{kind}: missing")
        elif not isinstance(value, str):
            out.append(f"hash.{kind}: expected text, got {kind_of(value)} (quote it)")
        elif not well_formed_hash(value, kind):
            digits = 32 if kind == "md5" else 64
            out.append(f"hash.{kind}: malformed (expected {digits} lower-case hex digits)")
    return out


def _conda_url_problem(entry: Mapping[str, Any]) -> str | None:
    url: str = entry["url"]
    base, _, file_name = url.rpartition("/")
    subdir = base.rpartition("/")[2]
    stem = f"{entry['name']}-{entry['version']}-{entry['build']}"
    if not url.startswith(("https://", "http://", "file:")):
        return "url: expected an http(s) or file URL"
    if file_name not in (f"{stem}.conda", f"{stem}.tar.bz2"):
        return f"url: file {_short(file_name)} is not {stem}.conda or .tar.bz2"
    if subdir not in (entry["platform"], "noarch"):
        return f"url: subdir {_short(subdir)} is neither {entry['platform']} nor noarch"
    return None


def _pypi_url_problem(entry: Mapping[str, Any]) -> str | None:
    """A PyPI URL is http(s) or file; a wheel's name must be the project's and version's.

    Only wheels are checked by name: their file names are mandated (PEP 427),
    while a hashed direct reference may point at any archive name.
    """
    url: str = entry["url"]
    file_name = url.rpartition("/")[2]
    if not url.startswith(("https://", "http://", "file:")):
        return "url: expected an http(s) or file URL"
    if not file_name.endswith(".whl"):
        return None
    project, _, rest = file_name.removesuffix(".whl").partition("-")
    version = rest.partition("-")[0]
    if normalize_pypi_name(project) != normalize_pypi_name(entry["name"]) or not _same_version(
        version, entry["version"]
    ):
        return f"url: wheel {_short(file_name)} is not {entry['name']} {entry['version']}"
    return None


def _same_version(a: str, b: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _duplicates(entries: Sequence[Mapping[str, Any]], out: list[LockProblem]) -> None:
    seen: set[tuple[str, str, str]] = set()
    for entry in entries:
        key = (entry["manager"], entry["platform"], entry["name"])
        if key in seen:
            out.append(LockProblem("locked twice", entry["name"], entry["platform"]))
        seen.add(key)


# --- completeness ----------------------------------------------------------------------


def _completeness(
    custom: Mapping[str, str],
    platforms: Sequence[str],
    entries: Sequence[Mapping[str, Any]],
    out: list[LockProblem],
) -> None:
    """What a file cut short at a package boundary lacks, though it still parses.

    Requirements are not checked here: a platform may legitimately lack one
    (selectors, markers); the recorded licenses and the dependency closure are
    facts of the locked packages themselves.
    """
    for platform in platforms:
        here = [e for e in entries if e["platform"] == platform]
        conda = {e["name"]: e for e in here if e["manager"] == "conda"}
        pypi = {normalize_pypi_name(e["name"]): e for e in here if e["manager"] == "pip"}
        if not here:
            out.append(LockProblem("no packages locked (file cut short?)", platform=platform))
        licensed = _json(custom.get(f"twinlock.licenses.{platform}", "{}"))
        unlocked = [n for n in (licensed if isinstance(licensed, dict) else {}) if n not in conda]
        _missing(platform, "named in the recorded licenses but not locked", unlocked, out)
        provided = pypi.keys() | {normalize_pypi_name(n) for n in conda}
        needs = [
            *(f"{n} needs {d}" for n, e in conda.items() for d in _deps(e) if d not in conda),
            *(f"{n} needs {d}" for n, e in pypi.items() for d in _deps(e) if d not in provided),
        ]
        _missing(platform, "dependencies not locked", needs, out)


def _deps(entry: Mapping[str, Any]) -> list[str]:
    """Dependency names of an entry, virtual packages (``__glibc``) left out."""
    return [d for d in entry.get("dependencies") or {} if not d.startswith("__")]


def _missing(platform: str, what: str, items: Sequence[str], out: list[LockProblem]) -> None:
    unique = sorted(set(items))
    if not unique:
        return
    shown = ", ".join(unique[:_SHOWN])
    more = f" and {len(unique) - _SHOWN} more" if len(unique) > _SHOWN else ""
    package = unique[0].split(" ")[0]
    out.append(LockProblem(f"{what} (file cut short?): {shown}{more}", package, platform))


# --- small helpers ---------------------------------------------------------------------


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _channel_ok(channel: object) -> bool:
    if isinstance(channel, Mapping):
        channel = channel.get("url")
    return isinstance(channel, str) and bool(channel)


def _deps_ok(deps: object) -> bool:
    if deps is None:
        return True
    return isinstance(deps, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in deps.items()
    )


def _short(text: str, limit: int = 80) -> str:
    """A bounded rendering of file-supplied text for messages."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
