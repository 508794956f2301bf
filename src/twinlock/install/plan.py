"""What to do with each prefix, and how an installed prefix differs from its lock (pure).

An environment is installed into ``<root>/<prefix>`` (``--root`` works like
``DESTDIR``: files refer to ``<prefix>``, where the tree lives in the image).
Before touching anything, each target is classified from its ``conda-meta``:

* ``absent``: no directory, or an empty one -> install;
* ``same``: conda-meta holds exactly the locked packages -> nothing to do
  (a rerun is a no-op);
* ``different``: another set of conda packages -> refuse unless ``--force``;
* ``foreign``: a non-empty directory without conda-meta -> refuse unless ``--force``.

``verify`` compares ``conda-meta`` with the lock (missing, extra, changed
packages) and, with ``--deep``, every recorded file with its recorded sha256.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from twinlock.errors import InstallError
from twinlock.model.lock import LockedPackage

State = Literal["absent", "same", "different", "foreign"]
Action = Literal["install", "skip", "replace"]


def root_path(root: Path, prefix: str) -> Path:
    """Where the absolute *prefix* lands under an install *root* (like DESTDIR)."""
    return root / PurePosixPath(prefix).relative_to("/")


@dataclass(frozen=True)
class InstalledPath:
    path: str
    sha256: str | None  # what the file must hash to in the prefix; None for links/dirs
    kind: str


@dataclass(frozen=True)
class InstalledPackage:
    """One ``conda-meta/<name>-<version>-<build>.json`` record."""

    name: str
    version: str
    build: str
    paths: tuple[InstalledPath, ...] = ()

    @classmethod
    def from_conda_meta(cls, data: Mapping[str, Any]) -> InstalledPackage:
        entries = (data.get("paths_data") or {}).get("paths") or []
        paths = tuple(
            InstalledPath(
                e["_path"],
                None
                if e.get("path_type") in ("softlink", "directory")
                else e.get("sha256_in_prefix") or e.get("sha256"),
                str(e.get("path_type", "hardlink")),
            )
            for e in entries
        )
        return cls(str(data["name"]), str(data["version"]), str(data["build"]), paths)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.name, self.version, self.build)


@dataclass(frozen=True)
class Drift:
    """One way an installed environment differs from its lock."""

    environment: str
    # "no-prefix" | "missing" | "extra" | "changed" | "modified" | "deleted" | "unfrozen"
    kind: str
    detail: str


def prefix_state(
    installed: Sequence[InstalledPackage] | None, empty: bool, packages: Iterable[LockedPackage]
) -> State:
    """Classify a target from its conda-meta (None: no conda-meta directory)."""
    if installed is None:
        return "absent" if empty else "foreign"
    wanted = {p.key for p in packages}
    return "same" if {i.key for i in installed} == wanted else "different"


def decide(environment: str, target: str, state: State, *, force: bool) -> Action:
    """What to do with a target in *state*; refuses to overwrite without ``--force``."""
    if state == "absent":
        return "install"
    if force:
        return "replace"
    if state == "same":
        return "skip"
    what = "another conda environment" if state == "different" else "files twinlock did not put"
    raise InstallError(
        f"{target} (environment '{environment}') already holds {what}",
        "pass --force to replace it, or choose another --root",
    )


def package_drift(
    environment: str, packages: Iterable[LockedPackage], installed: Sequence[InstalledPackage]
) -> list[Drift]:
    """Packages missing from, extra in, or at another version/build than the lock."""
    locked = {p.name: p for p in packages}
    present = {i.name: i for i in installed}
    drift = []
    for name in sorted(locked.keys() | present.keys()):
        lock, inst = locked.get(name), present.get(name)
        if inst is None and lock is not None:
            drift.append(Drift(environment, "missing", f"{name} {lock.version} {lock.build}"))
        elif lock is None and inst is not None:
            drift.append(Drift(environment, "extra", f"{name} {inst.version} {inst.build}"))
        elif lock is not None and inst is not None and lock.key != inst.key:
            drift.append(
                Drift(
                    environment,
                    "changed",
                    f"{name}: installed {inst.version} {inst.build}, "
                    f"locked {lock.version} {lock.build}",
                )
            )
    return drift


def file_drift(
    environment: str,
    installed: Sequence[InstalledPackage],
    actual_sha256: Callable[[str], str | None],
) -> list[Drift]:
    """Recorded files that are gone or whose content no longer matches (``--deep``).

    *actual_sha256* returns a file's hash relative to the prefix, None when absent.
    """
    drift = []
    for pkg in installed:
        for entry in pkg.paths:
            if entry.sha256 is None:
                continue
            found = actual_sha256(entry.path)
            if found is None:
                drift.append(Drift(environment, "deleted", f"{entry.path} (from {pkg.name})"))
            elif found != entry.sha256:
                drift.append(Drift(environment, "modified", f"{entry.path} (from {pkg.name})"))
    return drift
