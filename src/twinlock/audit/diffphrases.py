"""The wording every rendering of a diff shares (:mod:`twinlock.audit.diffrender`).

The summary line, a change's notes (bump, hashes, file, channel, license), the
lines for changed metadata and added or removed platforms, an environment's status
and a hash alarm's line, and the order changes are listed in: one place, so text
and markdown say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable

from twinlock.audit.diffmodel import (
    CHANGE_KINDS,
    EnvironmentDiff,
    LocksDiff,
    MetadataChange,
    PackageChange,
)
from twinlock.lock.validate import well_formed_hash
from twinlock.model.composition import short_channel_name
from twinlock.model.lock import LockedPackage


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def summary(diff: LocksDiff) -> str:
    """One line: how many environments changed and how many changes of each kind."""
    damaged = "; " + plural(len(diff.damage), "DAMAGED-LOCK problem") if diff.damage else ""
    if not diff.changed:
        return "no changes" + damaged
    changed = sum(env.status != "unchanged" for env in diff.environments)
    parts = [
        f"{count} {kind}{_bump_text(diff, kind)}"
        for kind, count in diff.kind_counts().items()
        if count and kind != "hash"
    ]
    line = plural(changed, "environment") + " changed"
    if parts:
        line += ": " + ", ".join(parts)
    alarms = len(diff.alarms())
    if alarms:
        line += "; " + plural(alarms, "HASH ALARM")
    return line + damaged


def _bump_text(diff: LocksDiff, kind: str) -> str:
    counts = {b: 0 for b in ("major", "minor", "patch", "other")}
    for env in diff.environments:
        for _, change in env.changes():
            if change.kind == kind and change.bump:
                counts[change.bump] += 1
    inner = ", ".join(f"{n} {b}" for b, n in counts.items() if n)
    return f" ({inner})" if inner else ""


def version_build(pkg: LockedPackage | None) -> str:
    return f"{pkg.version} {pkg.build}" if pkg else ""


def digest_notes(old: LockedPackage, new: LockedPackage, short: bool) -> list[str]:
    def cut(digest: str) -> str:
        return digest[:12] + "…" if short and len(digest) > 12 else digest

    out = []
    for kind in ("md5", "sha256"):
        a, b = getattr(old, kind) or "", getattr(new, kind) or ""
        if not a and not b:
            continue  # a PyPI entry's md5, or a sha256 neither side records
        if a != b:
            same_start = short and a[:12] == b[:12]
            out.append(
                f"{kind} {cut(a) if a and not same_start else a or '(none)'} -> "
                f"{cut(b) if b and not same_start else b or '(none)'}"
            )
        elif not well_formed_hash(a, kind):
            out.append(f"{kind} malformed on both sides: {a[:70]}")
    return out


def _artifact_notes(old: LockedPackage, new: LockedPackage) -> list[str]:
    def fmt(pkg: LockedPackage) -> str:
        return "tar.bz2" if pkg.file_name.endswith(".tar.bz2") else "conda"

    out = []
    if old.subdir != new.subdir:
        out.append(f"subdir {old.subdir} -> {new.subdir}")
    if fmt(old) != fmt(new):
        out.append(f"format {fmt(old)} -> {fmt(new)}")
    return out


def notes(change: PackageChange) -> list[str]:
    """The details of a change beyond old and new version: bump, hash, file, channel, license."""
    old, new = change.old, change.new
    out: list[str] = []
    if change.bump:
        out.append(change.bump)
    if old is None or new is None:
        return out
    if "hash" in change.kinds:
        out += digest_notes(old, new, short=True)
    if "artifact" in change.kinds:
        out += _artifact_notes(old, new)
    if "channel" in change.kinds:
        out.append(
            f"channel {short_channel_name(old.channel)} -> {short_channel_name(new.channel)}"
        )
    if "license" in change.kinds:
        out.append(f"license {old.license} -> {new.license}")
    return out


def by_severity(changes: Iterable[PackageChange]) -> list[PackageChange]:
    """Most severe kind first; within a kind, requested roots before dependencies."""
    return sorted(changes, key=lambda c: (CHANGE_KINDS.index(c.kind), not c.root, c.name))


def metadata_line(m: MetadataChange) -> str:
    if m.old is None:
        return f"{m.field} added: {m.new}"
    if m.new is None:
        return f"{m.field} removed: {m.old}"
    return f"{m.field}: {m.old} -> {m.new}"


def platform_lines(env: EnvironmentDiff) -> list[str]:
    lines = []
    for plat in env.platforms:
        if plat.status == "added":
            lines.append(f"platform {plat.platform} added ({plural(plat.new_count, 'package')})")
        elif plat.status == "removed":
            lines.append(f"platform {plat.platform} removed ({plural(plat.old_count, 'package')})")
    return lines


def environment_status(env: EnvironmentDiff) -> str:
    count = sum(1 for _ in env.changes())
    if env.status == "changed" and count:
        return f"({env.status}, {plural(count, 'package change')})"
    return f"({env.status})"


def alarm_line(env: str, platform: str, change: PackageChange) -> str:
    assert change.old is not None and change.new is not None
    detail = "; ".join(digest_notes(change.old, change.new, short=False))
    return f"{env} {platform} {change.name} {version_build(change.new)}: {detail}"
