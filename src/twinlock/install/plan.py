"""What to do with each prefix, and how an installed prefix differs from its lock (pure).

An environment is installed into ``<root>/<prefix>`` (``--root`` works like
``DESTDIR``: files refer to ``<prefix>``, where the tree lives in the image).
Before touching anything, each target is classified from its ``conda-meta``:

* ``absent``: no directory, or an empty one -> install;
* ``same``: conda-meta holds exactly the locked packages -> nothing to do
  (a rerun is a no-op);
* ``different``: another set of conda packages -> refuse unless ``--force``;
* ``foreign``: a non-empty directory without conda-meta -> refuse unless ``--force``;
* ``lower``: exactly the packages of a lower layer of the prefix (the base of a
  ``prefix: same`` layer) -> extend it with the layers on top, no ``--force`` needed.

``verify`` compares ``conda-meta`` with the lock (missing, extra, changed
packages) and, with ``--deep``, every recorded file with its recorded sha256. In a
prefix shared by layers, each conda-meta record belongs to the lowest layer whose
lock holds its package (records no lock holds, to the top layer), and drift is
reported per layer (:func:`split_by_layer`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from twinlock.errors import InstallError
from twinlock.model.lock import LockedPackage

State = Literal["absent", "same", "different", "foreign", "lower"]
Action = Literal["install", "skip", "replace", "extend"]


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
    installed: Sequence[InstalledPackage] | None,
    empty: bool,
    packages: Iterable[LockedPackage],
    lower: Sequence[Iterable[LockedPackage]] = (),
) -> State:
    """Classify a target from its conda-meta (None: no conda-meta directory); *lower*
    holds the package sets of the layers below the target's top one."""
    if installed is None:
        return "absent" if empty else "foreign"
    have = {i.key for i in installed}
    if have == {p.key for p in packages}:
        return "same"
    if any(have == {p.key for p in layer} for layer in lower):
        return "lower"
    return "different"


def decide(environment: str, target: str, state: State, *, force: bool) -> Action:
    """What to do with a target in *state*; refuses to overwrite without ``--force``."""
    if state == "absent":
        return "install"
    if state == "lower":
        return "extend"
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


def split_by_layer(
    layers: Sequence[tuple[str, Sequence[LockedPackage]]],
    installed: Sequence[InstalledPackage],
) -> list[tuple[str, list[LockedPackage], list[InstalledPackage]]]:
    """Per layer of a shared prefix (base first): the packages it adds to the ones below
    and the installed records of those packages (records no lock holds go to the top)."""
    owner: dict[str, str] = {}
    for name, packages in layers:
        for pkg in packages:
            owner.setdefault(pkg.name, name)
    top = layers[-1][0]
    return [
        (
            name,
            [p for p in packages if owner[p.name] == name],
            [i for i in installed if owner.get(i.name, top) == name],
        )
        for name, packages in layers
    ]
