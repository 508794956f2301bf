"""conda-lock's input dialect: its environment.yml extensions, pip entries and virtual packages.

conda-lock users keep ``environment.yml`` files with keys conda itself ignores;
twinlock reads them the way conda-lock does (its ``src_parser/environment_yaml.py``
and ``src_parser/aggregation.py``), so such a file is used without editing:

* ``platforms``: the platforms the file is meant for (narrows an environment's list);
* ``category``: conda-lock's optional dependency groups. twinlock installs an
  environment whole, so every category is locked and installed; a requirement from a
  file whose category is not ``main`` keeps it as provenance (``reason: conda-lock
  category 'dev'``), shown by ``twinlock why`` and kept in the lock;
* ``pip-repositories``: extra package indexes for the PyPI layer (credentials as
  ``$VARIABLES``, expanded only when uv runs);
* ``allow-pypi-requests: false``: only those indexes, no pypi.org.

Several files of one environment (``file: [a.yml, b.yml]``, conda-lock's ``-f a.yml -f
b.yml``) merge as conda-lock merges them: a later file's spec for a package replaces an
earlier one; channel and index lists must be equal or one a suffix of the other (the
longest wins); pypi.org is allowed only if every file allows it.

Also here: which pip entries can be locked (hash-pinned requirements and direct references
carrying a sha256 can; editable installs, local paths and VCS URLs cannot), and
conda-lock's ``virtual-packages.yml`` (``--virtual-package-spec``) read as twinlock
``system-requirements``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from twinlock.errors import Problems, did_you_mean, kind_of
from twinlock.model.platforms import KNOWN_PLATFORMS

CONDA_LOCK_KEYS: tuple[str, ...] = (
    "platforms",
    "category",
    "pip-repositories",
    "allow-pypi-requests",
)
MAIN_CATEGORY = "main"


@dataclass(frozen=True)
class FileExtensions:
    """The conda-lock keys of one environment file (defaults: conda-lock's)."""

    platforms: tuple[str, ...] = ()
    category: str = MAIN_CATEGORY
    pip_repositories: tuple[str, ...] = ()
    allow_pypi: bool = True


def parse_extensions(body: Mapping[str, object], problems: Problems) -> FileExtensions:
    """Validate the conda-lock keys of an environment file's top-level mapping."""
    platforms: tuple[str, ...] = ()
    if body.get("platforms") is not None:
        names = problems.string_list(body["platforms"], "platforms") or []
        for i, name in enumerate(names):
            if name not in KNOWN_PLATFORMS:
                _unknown_platform(name, f"platforms[{i}]", problems)
        platforms = tuple(dict.fromkeys(n for n in names if n in KNOWN_PLATFORMS))
    category = body.get("category") or MAIN_CATEGORY
    if not isinstance(category, str):
        problems.add("category", f"expected a name, got {kind_of(category)}", "e.g. category: dev")
        category = MAIN_CATEGORY
    repositories = _parse_repositories(body.get("pip-repositories"), problems)
    allow = body.get("allow-pypi-requests", True)
    if not isinstance(allow, bool):
        problems.add(
            "allow-pypi-requests",
            f"expected true or false, got {kind_of(allow)}",
            "allow-pypi-requests: false resolves the pip section from pip-repositories only",
        )
        allow = True
    return FileExtensions(platforms, category, repositories, allow)


def _unknown_platform(name: str, key: str, problems: Problems) -> None:
    problems.add(
        key,
        f"unknown platform '{name}' {did_you_mean(name, KNOWN_PLATFORMS)}".rstrip(),
        f"known platforms: {', '.join(KNOWN_PLATFORMS)}",
    )


def _parse_repositories(value: object, problems: Problems) -> tuple[str, ...]:
    if value is None:
        return ()
    urls = problems.string_list(value, "pip-repositories") or []
    for i, url in enumerate(urls):
        if not re.match(r"(https?|file)://[^/\s]", url):
            problems.add(
                f"pip-repositories[{i}]",
                f"'{_redacted(url)}' is not an index URL",
                "write the index's simple API URL, e.g. https://$USER:$PASS@pypi.example.org/simple",
            )
    return tuple(urls)


def _redacted(url: str) -> str:
    """*url* with any password replaced, for messages."""
    return re.sub(r"(://[^:/@\s]*:)[^@/\s]*@", r"\1***@", url)


def check_pypi_access(ext: FileExtensions, has_pip: bool, problems: Problems) -> None:
    """``allow-pypi-requests: false`` without ``pip-repositories`` leaves no index."""
    if has_pip and not ext.allow_pypi and not ext.pip_repositories:
        problems.add(
            "allow-pypi-requests",
            "pypi.org is not allowed and no pip-repositories are given: the pip section "
            "has no index to come from",
            "add pip-repositories: [https://your.index/simple], or allow pypi.org",
        )


# --- pip entries -----------------------------------------------------------------------

_VCS = re.compile(r"(^|@\s*)(git|hg|svn|bzr)\+", re.IGNORECASE)
_LOCAL = re.compile(r"^(\.{1,2}(/|$)|/|~|file:)|@\s*file:", re.IGNORECASE)
_DIRECT_HINT = "or point at a built wheel with its hash: name @ https://host/name-1.0-py3-none-any.whl#sha256=..."


def pip_entry_problem(spec: str) -> tuple[str, str] | None:
    """(what is wrong, the fix) for a pip entry no lock can hold, or None when it may be locked.

    Refused, by name: editable installs, local paths and VCS references (none has a
    published artifact with a hash), and direct URL references without a sha256.
    """
    if re.match(r"^(-e|--editable)(\s|=|$)", spec):
        return (
            "editable installs cannot be locked (they install a working tree, not an artifact)",
            "publish the package and list it by name, build a wheel and reference it with its "
            "sha256, or install it after 'twinlock install' (pip install -e .)",
        )
    if _VCS.search(spec):
        return (
            "a git reference has no hash to lock (the repository can change under the same name)",
            f"pin a release published on the index (name==1.2.3), {_DIRECT_HINT}",
        )
    if _LOCAL.search(spec):
        return (
            "a local path cannot be locked (it is not a published artifact)",
            f"publish the package to an index and list it by name, {_DIRECT_HINT}",
        )
    direct = "@" in spec.split("://", 1)[0] and "://" in spec
    if direct and "#sha256=" not in spec.lower() and "--hash" not in spec:
        return (
            "a direct reference without a hash cannot be verified",
            "append the file's digest: name @ https://host/file.whl#sha256=<64 hex digits>",
        )
    return None


# --- merging several files (conda-lock -f a.yml -f b.yml) ------------------------------

T = TypeVar("T")


def unify_sources(lists: Sequence[Sequence[T]]) -> tuple[T, ...] | None:
    """conda-lock's channel/index merge: every list must end the longest one (else None)."""
    longest = max(lists, key=len, default=())
    for items in lists:
        if items and tuple(longest[-len(items) :]) != tuple(items):
            return None
    return tuple(longest)


def merge_extensions(parts: Sequence[FileExtensions]) -> FileExtensions | None:
    """The extensions of merged files (None when their pip-repositories cannot be unified)."""
    repositories = unify_sources([p.pip_repositories for p in parts])
    if repositories is None:
        return None
    platforms = tuple(dict.fromkeys(p for part in parts for p in part.platforms))
    return FileExtensions(
        platforms=platforms,
        pip_repositories=repositories,
        allow_pypi=all(p.allow_pypi for p in parts),
    )


# --- virtual-packages.yml (conda-lock --virtual-package-spec) ---------------------------

# conda virtual package -> twinlock system-requirements key
_VIRTUAL_TO_SYSTEM = {"__glibc": "libc", "__linux": "linux", "__osx": "macos", "__cuda": "cuda"}
# implied by the platform; accepted when they say what the platform says
_IMPLIED = {"__unix": "0", "__win": "0"}


def parse_virtual_packages(data: object, problems: Problems) -> dict[str, dict[str, str]]:
    """conda-lock's ``virtual-packages.yml`` as ``system-requirements`` per platform.

    Schema: ``subdirs: {<platform>: {packages: {__glibc: "2.28", __cuda: "12.4",
    __archspec: "1 x86_64", ...}}}``.
    """
    top = problems.mapping(data, "")
    if top is None:
        return {}
    problems.unknown_keys(top, ("subdirs",), "")
    subdirs = problems.mapping(top.get("subdirs"), "subdirs") or {}
    out: dict[str, dict[str, str]] = {}
    for platform, body in subdirs.items():
        key = f"subdirs.{platform}"
        if platform not in KNOWN_PLATFORMS:
            _unknown_platform(str(platform), key, problems)
            continue
        entry = problems.mapping(body, key) or {}
        problems.unknown_keys(entry, ("packages",), key)
        packages = problems.mapping(entry.get("packages", {}), f"{key}.packages") or {}
        out[platform] = _system_requirements(packages, f"{key}.packages", problems)
    return out


def _system_requirements(
    packages: Mapping[str, object], key: str, problems: Problems
) -> dict[str, str]:
    known = (*_VIRTUAL_TO_SYSTEM, "__archspec", *_IMPLIED)
    out: dict[str, str] = {}
    for name, value in packages.items():
        where, text = f"{key}.{name}", str(value).strip()
        if name in _VIRTUAL_TO_SYSTEM:
            out[_VIRTUAL_TO_SYSTEM[name]] = text
        elif name == "__archspec":
            # conda-lock writes "1 x86_64": version 1, the microarchitecture as build
            out["archspec"] = text.split()[-1]
        elif name in _IMPLIED:
            if text != _IMPLIED[name]:
                problems.add(where, f"{name} is always {_IMPLIED[name]}", f"remove {name}")
        else:
            problems.add(
                where,
                f"unknown virtual package '{name}' {did_you_mean(str(name), known)}".rstrip(),
                f"twinlock knows {', '.join(known)}",
            )
    return out
