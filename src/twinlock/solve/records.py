"""Exact channel files (:class:`PackageRef`), and their records remembered for local channels.

``check`` and ``lock`` compare every locked conda file with the channel's record of
it (:mod:`twinlock.lock.verify`). Asking rattler for a few hundred records costs a
parse of the channel's whole repodata (about 0.2 s for the bundled snapshot) in
every process; the answers change only when the channel does. So the answers are
kept in the cache directory, one small JSON file per channel directory and state:
its name is a digest of the directory and of the name, size and modification
time (ns) of every repodata file of the subdirs asked about (the stamp git and
make trust). Any change to those files names another memo, so a replaced or
edited channel is read again. Files the channel does not hold are remembered as
absent. Remote channels are never remembered here: their repodata can change
behind an unchanged cache file.

A memo that cannot be read or parsed is ignored, and one that cannot be written
only costs the next process the same parse.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from twinlock.errors import InputFileError, OutputFileError
from twinlock.fileio import cache_dir, read_bytes_if_exists, write_text_atomic
from twinlock.model.composition import Channel
from twinlock.model.lock import LockedPackage

if TYPE_CHECKING:
    from rattler import MatchSpec


@dataclass(frozen=True)
class PackageRef:
    """An exact package file in a channel: ``<channel>/<subdir>/<file_name>``."""

    channel: Channel
    subdir: str
    file_name: str

    @property
    def name(self) -> str:
        """The package name (file names are ``<name>-<version>-<build>.<ext>``)."""
        return self.file_name.rsplit("-", 2)[0].lower()


@runtime_checkable
class PackageFinder(Protocol):
    def find_packages(self, refs: Sequence[PackageRef]) -> dict[PackageRef, LockedPackage]: ...


# A memo of channel records: its file, and {subdir/file_name: record or None (absent)}.
# Entries are None (absent), a record's fields as read, or a record added since.
Memo = tuple[Path, dict[str, object]]
MEMO_FORMAT = "twinlock-records 1"
_ABSENT = object()  # no entry at all (None is an entry: the channel lacks the file)
_FIELDS = ("name", "version", "build", "subdir", "url", "channel", "md5", "sha256", "license")


def memo_path(channel_url: str, directory: Path, subdirs: Iterable[str]) -> Path | None:
    """Where the records of *directory*'s *subdirs*, as they are now, are remembered.

    *channel_url* is the canonical channel the directory mirrors (records carry its
    URLs). None when a subdir is missing or unreadable (rattler then reports it).
    """
    parts = [MEMO_FORMAT, channel_url, str(directory.resolve())]
    for subdir in sorted(set(subdirs)):
        try:
            with os.scandir(directory / subdir) as entries:
                stats = sorted((e.name, e.stat()) for e in entries if e.name.startswith("repodata"))
        except OSError:
            return None
        if not stats:
            return None
        parts += [f"{subdir}/{name}:{st.st_size}:{st.st_mtime_ns}" for name, st in stats]
    digest = hashlib.sha256("\0".join(parts).encode(errors="surrogateescape")).hexdigest()
    return cache_dir() / "records" / f"{digest}.json"


def read_memo(path: Path) -> dict[str, object]:
    """``{subdir/file_name: entry}``, an entry a record's fields or None (absent); empty
    when unreadable. Records are built when looked up (:func:`remembered`)."""
    try:  # bounded, and a FIFO in its place is refused rather than read forever
        data = json.loads(read_bytes_if_exists(path) or b"null")
    except (OSError, ValueError, InputFileError):
        return {}
    if not isinstance(data, dict) or data.get("format") != MEMO_FORMAT:
        return {}
    records = data.get("records")
    if not isinstance(records, dict):
        return {}
    return {k: v for k, v in records.items() if v is None or isinstance(v, dict)}


def write_memo(path: Path, records: Mapping[str, object]) -> None:
    """Remember *records* (an unwritable cache is not an error)."""
    text = json.dumps(
        {
            "format": MEMO_FORMAT,
            "records": {
                k: _fields(r) if isinstance(r, LockedPackage) else r
                for k, r in sorted(records.items())
            },
        },
        separators=(",", ":"),
    )
    with contextlib.suppress(OSError, OutputFileError):  # an unwritable cache costs speed only
        write_text_atomic(path, text)


def memo_key(subdir: str, file_name: str) -> str:
    return f"{subdir}/{file_name}"


def _fields(record: LockedPackage) -> dict[str, object]:
    out: dict[str, object] = {f: getattr(record, f) for f in _FIELDS}
    out["depends"] = list(record.depends)
    return out


def _record(value: object) -> LockedPackage | None:
    """A record from its memo entry; None for anything malformed."""
    if not isinstance(value, dict):
        return None
    depends = value.get("depends")
    texts = {f: value.get(f) for f in _FIELDS}
    optional = ("sha256", "license")
    if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
        return None
    if not all(isinstance(v, str) or (k in optional and v is None) for k, v in texts.items()):
        return None
    return LockedPackage(
        name=str(texts["name"]),
        version=str(texts["version"]),
        build=str(texts["build"]),
        subdir=str(texts["subdir"]),
        url=str(texts["url"]),
        channel=str(texts["channel"]),
        md5=str(texts["md5"]),
        sha256=_optional(texts["sha256"]),
        depends=tuple(depends),
        license=_optional(texts["license"]),
    )


def _optional(value: object) -> str | None:
    return value if isinstance(value, str) else None


Lookup = Callable[[Sequence[PackageRef]], dict[PackageRef, LockedPackage]]


class RememberedFirst:
    """A :class:`PackageFinder` answering from the remembered records; only files they
    know nothing of are asked of the channel, through the lookup *ask* returns (called
    then, so a solver is built only when needed), and the answers are remembered.

    The solver adapter finds records this way, and so does ``check``, so that a lock
    checked again against an unchanged local channel loads neither rattler's gateway
    nor the solver adapter.
    """

    def __init__(self, source_of: Callable[[Channel], str], ask: Callable[[], Lookup]):
        self._source_of = source_of
        self._ask = ask

    def find_packages(self, refs: Sequence[PackageRef]) -> dict[PackageRef, LockedPackage]:
        memos = open_memos(refs, self._source_of)
        out, missing = remembered(refs, memos)
        if missing:
            found = self._ask()(missing)
            out |= found
            remember(memos, missing, found)
        return out


def open_memos(
    refs: Sequence[PackageRef], source_of: Callable[[Channel], str]
) -> dict[tuple[Channel, str], Memo]:
    """The memo of each local channel x subdir among *refs* (*source_of*: where it is read)."""
    out: dict[tuple[Channel, str], Memo] = {}
    for channel in {r.channel for r in refs}:
        source = source_of(channel)
        if "://" in source:
            continue  # remote: its repodata may change behind rattler's cache
        subdirs = sorted({r.subdir for r in refs if r.channel == channel})
        path = memo_path(channel.url, Path(source), subdirs)
        if path is not None:
            memo = (path, read_memo(path))
            out |= {(channel, subdir): memo for subdir in subdirs}
    return out


def remembered(
    refs: Sequence[PackageRef], memos: Mapping[tuple[Channel, str], Memo]
) -> tuple[dict[PackageRef, LockedPackage], list[PackageRef]]:
    """The records *memos* hold for *refs*, and the refs they know nothing of (a damaged
    entry counts as unknown)."""
    out: dict[PackageRef, LockedPackage] = {}
    missing: list[PackageRef] = []
    for ref in refs:
        memo = memos.get((ref.channel, ref.subdir))
        entry = memo[1].get(memo_key(ref.subdir, ref.file_name), _ABSENT) if memo else _ABSENT
        if entry is None:
            continue  # the channel does not hold the file
        record = entry if isinstance(entry, LockedPackage) else _record(entry)
        if record is None:
            missing.append(ref)
        else:
            out[ref] = record
    return out, missing


def remember(
    memos: Mapping[tuple[Channel, str], Memo],
    asked: Sequence[PackageRef],
    found: Mapping[PackageRef, LockedPackage],
) -> None:
    """Add what the channel answered for *asked* (absent ones too) and write the memos."""
    changed: dict[Path, dict[str, object]] = {}
    for ref in asked:
        memo = memos.get((ref.channel, ref.subdir))
        if memo is not None:
            memo[1][memo_key(ref.subdir, ref.file_name)] = found.get(ref)
            changed[memo[0]] = memo[1]
    for path, records in changed.items():
        write_memo(path, records)


def exact_specs(refs: Sequence[PackageRef]) -> list[MatchSpec]:
    """``name ==version build`` for each file name that reads as one."""
    from rattler import MatchSpec

    specs = []
    for ref in refs:
        stem = ref.file_name.removesuffix(".conda").removesuffix(".tar.bz2")
        parts = stem.rsplit("-", 2)
        if len(parts) == 3:
            with contextlib.suppress(Exception):  # rattler's parse errors: asked by name
                specs.append(MatchSpec(f"{parts[0]} =={parts[1]} {parts[2]}"))
    return specs
