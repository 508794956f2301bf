"""Rubin Science Platform image tags: parse, validate, sort and compose.

The conventions are those of SQR-059 as the RSP lab controller reads them:

* releases ``r<major>_<minor>_<patch>`` (and the obsolete ``r<MM><m>``, e.g. ``r170``),
  release candidates ``r<major>_<minor>_<patch>_rc<N>``;
* weeklies ``w_<YYYY>_<WW>``, dailies ``d_<YYYY>_<MM>_<DD>``;
* experimentals ``exp_<anything>`` (often ``exp_<another tag>_<note>``);
* optional suffixes, in this order: ``_rsp<N>`` (the RSP build counter),
  ``_c<cycle>.<build>`` (the SAL cycle), ``_<free text>``, and ``-<arch>``
  (``-amd64`` / ``-arm64`` single-architecture images);
* aliases (``recommended``, ``latest``...) are whatever the caller declares as such;
  anything else is *unknown* (still a usable tag, just not sortable by version).

A tag that *looks like* a release, weekly or daily but breaks its grammar
(``r29_2``, ``w_2024_60``, ``d_2024_02_30``, ``r29_2_0_rcX``) is invalid, and the
error names the part that is wrong.

Compose scheme (``twinlock tag compose``): a maintenance rebuild keeps the
payload's version tag and adds the RSP build counter, ``<version>_rsp<N>``,
where N is the next build number (or the UTC build time as ``YYYYMMDDHHMM``).
Tags sort by version first, then by the counter, and a counter sorts after
no counter, so ``r29_2_0_rsp2`` sorts after ``r29_2_0_rsp1`` and ``r29_2_0``,
and before ``r29_2_1``. Composing refuses any tag that would not sort after
every existing build of the same version, so an old tag is never reused.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from twinlock.errors import TwinlockError

ARCHITECTURES = ("amd64", "arm64")
# Docker's tag grammar: 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'.
_DOCKER_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")


class TagError(TwinlockError):
    """A tag that breaks the RSP tag grammar (says which part)."""


class Category(enum.Enum):
    """Tag categories, in the order the lab's image menu lists them."""

    ALIAS = "Alias"
    RELEASE = "Release"
    WEEKLY = "Weekly"
    DAILY = "Daily"
    CANDIDATE = "Release Candidate"
    EXPERIMENTAL = "Experimental"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class ImageTag:
    """One parsed tag. ``version`` is (major, minor, patch, rc) for the versioned kinds."""

    tag: str
    category: Category
    display_name: str
    version: tuple[int, int, int, int] | None = None
    rsp_build: int | None = None
    cycle: tuple[int, int] | None = None
    rest: str | None = None
    arch: str | None = None

    @property
    def base(self) -> str:
        """The version part alone (``r29_2_0`` of ``r29_2_0_rsp3_c0041.001-amd64``)."""
        if self.version is None:
            return self.tag
        return _base_text(self.category, self.version)

    def sort_key(self) -> tuple[object, ...]:
        """Ascending order within a category; the newest tag has the largest key."""
        version = self.version or (-1, -1, -1, -1)
        return (
            version,
            -1 if self.rsp_build is None else self.rsp_build,
            self.cycle or (-1, -1),
            self.rest or "",
            self.tag,
        )


_SUFFIX = r"(?:_rsp(?P<rsp>\d+))?(?:_c(?P<cycle>\d+)\.(?P<cbuild>\d+))?(?:_(?P<rest>.+))?"
_FORMS = (
    (Category.CANDIDATE, re.compile(r"r(?P<a>\d+)_(?P<b>\d+)_(?P<c>\d+)_rc(?P<rc>\d+)" + _SUFFIX)),
    (Category.RELEASE, re.compile(r"r(?P<a>\d+)_(?P<b>\d+)_(?P<c>\d+)" + _SUFFIX)),
    (Category.RELEASE, re.compile(r"r(?P<a>\d\d)(?P<b>\d)")),
    (Category.WEEKLY, re.compile(r"w_(?P<a>\d{4})_(?P<b>\d{2})" + _SUFFIX)),
    (Category.DAILY, re.compile(r"d_(?P<a>\d{4})_(?P<b>\d{2})_(?P<c>\d{2})" + _SUFFIX)),
)
# What a tag of each kind must start with; used to explain why it did not parse.
_LOOKS_LIKE = (
    (re.compile(r"r\d"), "release", "r<major>_<minor>_<patch>[_rc<N>], e.g. r29_2_0"),
    (re.compile(r"w_"), "weekly", "w_<YYYY>_<WW>, e.g. w_2025_07"),
    (re.compile(r"d_"), "daily", "d_<YYYY>_<MM>_<DD>, e.g. d_2025_02_14"),
)


def parse_tag(text: str, *, aliases: Iterable[str] = ()) -> ImageTag:
    """Parse *text*; raise :class:`TagError` naming the wrong part if it is invalid."""
    if not _DOCKER_TAG.fullmatch(text):
        raise TagError(
            f"tag {text!r}: not a valid image tag (1-128 letters, digits, '_', '.', '-', "
            "not starting with '.' or '-')",
            "e.g. r29_2_0, w_2025_07, d_2025_02_14, exp_w_2025_07_test",
        )
    if text in set(aliases):
        return ImageTag(text, Category.ALIAS, text.replace("_", " ").title())
    body, arch = _split_arch(text)
    if body.startswith("exp_") and len(body) > 4:
        return _experimental(text, body, arch)
    for category, pattern in _FORMS:
        match = pattern.fullmatch(body)
        if match:
            return _versioned(text, category, match, arch)
    _explain_invalid(text, body)
    cycle = re.fullmatch(r"(?P<name>.+)_c(?P<cycle>\d+)", body)
    display = f"{cycle['name']} (SAL Cycle {cycle['cycle']})" if cycle else text
    return ImageTag(text, Category.UNKNOWN, display, arch=arch)


def _split_arch(text: str) -> tuple[str, str | None]:
    for arch in ARCHITECTURES:
        if text.endswith(f"-{arch}") and len(text) > len(arch) + 1:
            return text[: -len(arch) - 1], arch
    return text, None


def _experimental(text: str, body: str, arch: str | None) -> ImageTag:
    inner = body.removeprefix("exp_")
    try:
        sub = parse_tag(inner)
    except TagError:
        sub = ImageTag(inner, Category.UNKNOWN, inner)
    display = f"Experimental {sub.display_name}" + (f" ({arch})" if arch else "")
    return ImageTag(
        text,
        Category.EXPERIMENTAL,
        display,
        version=sub.version,
        rsp_build=sub.rsp_build,
        cycle=sub.cycle,
        rest=inner,
        arch=arch,
    )


def _versioned(text: str, category: Category, match: re.Match[str], arch: str | None) -> ImageTag:
    parts = match.groupdict()
    a, b = int(parts["a"]), int(parts["b"])
    c = int(parts.get("c") or 0)
    version = (a, b, c, int(parts.get("rc") or 0))
    _check_calendar(text, category, version)
    rsp = int(parts["rsp"]) if parts.get("rsp") else None
    cycle = (int(parts["cycle"]), int(parts["cbuild"])) if parts.get("cycle") else None
    rest = parts.get("rest")
    _check_rest(text, rest)
    display = f"{category.value} {_display_version(category, version, parts)}"
    if rsp is not None:
        display += f" (RSP Build {rsp})"
    if cycle:
        display += f" (SAL Cycle {parts['cycle']}, Build {parts['cbuild']})"
    if rest:
        display += f" [{rest}]"
    if arch:
        display += f" ({arch})"
    return ImageTag(text, category, display, version, rsp, cycle, rest, arch)


def _display_version(
    category: Category, version: tuple[int, int, int, int], parts: dict[str, str | None]
) -> str:
    if category is Category.RELEASE:
        return f"r{version[0]}.{version[1]}.{version[2]}"
    if category is Category.CANDIDATE:
        return f"r{version[0]}.{version[1]}.{version[2]}-rc{version[3]}"
    if category is Category.WEEKLY:
        return f"{parts['a']}_{parts['b']}"
    return f"{parts['a']}_{parts['b']}_{parts['c']}"


def _base_text(category: Category, version: tuple[int, int, int, int]) -> str:
    a, b, c, rc = version
    if category is Category.CANDIDATE:
        return f"r{a}_{b}_{c}_rc{rc}"
    if category is Category.WEEKLY:
        return f"w_{a:04d}_{b:02d}"
    if category is Category.DAILY:
        return f"d_{a:04d}_{b:02d}_{c:02d}"
    return f"r{a}_{b}_{c}"


def _check_calendar(text: str, category: Category, version: tuple[int, int, int, int]) -> None:
    year, second, third, _ = version
    if category is Category.WEEKLY:
        weeks = dt.date(year, 12, 28).isocalendar().week if 1 <= year <= 9999 else 0
        if not 1 <= second <= weeks:
            raise TagError(
                f"tag {text!r}: week {second:02d} does not exist in {year} "
                f"(ISO weeks run 01-{weeks:02d})",
                "weeklies are w_<YYYY>_<WW>, e.g. w_2025_07",
            )
    if category is Category.DAILY:
        try:
            dt.date(year, second, third)
        except ValueError as exc:
            raise TagError(
                f"tag {text!r}: date {year:04d}-{second:02d}-{third:02d} is not a day ({exc})",
                "dailies are d_<YYYY>_<MM>_<DD>, e.g. d_2025_02_14",
            ) from None


def _check_rest(text: str, rest: str | None) -> None:
    """Catch suffixes that were clearly meant as rc / rsp / cycle but are malformed."""
    if rest is None:
        return
    checks = (
        (r"rc(?!\d+(_|$)).*", "release candidate number", "_rc<N>, e.g. r29_2_0_rc1"),
        (r"rsp(?!\d+(_|$)).*", "RSP build number", "_rsp<N>, e.g. r29_2_0_rsp2"),
        (r"c\d+(?!\.\d+(_|$)).*", "SAL cycle", "_c<cycle>.<build>, e.g. _c0041.001"),
    )
    head = rest.split("_", 1)[0]
    for pattern, what, form in checks:
        if re.fullmatch(pattern, rest) and not re.fullmatch(r"\d+", head):
            raise TagError(f"tag {text!r}: malformed {what} in '_{rest}'", f"write it as {form}")


def _explain_invalid(text: str, body: str) -> None:
    """Raise for a tag that starts like a release/weekly/daily but did not parse as one."""
    for prefix, kind, form in _LOOKS_LIKE:
        if prefix.match(body):
            raise TagError(
                f"tag {text!r}: looks like a {kind} but {_first_wrong_part(body, kind)}",
                f"{kind} tags are {form}",
            )


def _first_wrong_part(body: str, kind: str) -> str:
    fields = body.split("_")
    names: tuple[str, ...]
    if kind == "release":
        numbers = [fields[0][1:], *fields[1:3]]
        names = ("major", "minor", "patch")
    else:
        numbers = fields[1:4] if kind == "daily" else fields[1:3]
        names = ("year", "month", "day") if kind == "daily" else ("year", "week")
    widths = {"year": 4, "week": 2, "month": 2, "day": 2}
    for i, name in enumerate(names):
        if i >= len(numbers) or not numbers[i]:
            return f"the {name} is missing"
        value = numbers[i]
        if not value.isdigit():
            return f"the {name} '{value}' is not a number"
        if name in widths and len(value) != widths[name]:
            return f"the {name} '{value}' must have {widths[name]} digits"
    return f"'{body}' does not follow the pattern"


def sort_tags(tags: Iterable[ImageTag]) -> list[ImageTag]:
    """Grouped by category (menu order), newest first within each category."""
    order = {c: i for i, c in enumerate(Category)}
    by_newest = sorted(tags, key=lambda t: t.sort_key(), reverse=True)
    return sorted(by_newest, key=lambda t: order[t.category])


def compose_tag(
    payload_tag: str,
    *,
    build: int | None = None,
    built_at: dt.datetime | None = None,
    existing: Sequence[str] = (),
    arch: str | None = None,
) -> ImageTag:
    """The tag of a (re)build of *payload_tag*: ``<version>_rsp<N>[_c..][-arch]``.

    N is *build*, or *built_at* as ``YYYYMMDDHHMM`` (UTC), or one more than the
    highest counter among *existing* tags of the same version (1 if none).
    """
    base = parse_tag(payload_tag)
    if base.category not in (Category.RELEASE, Category.CANDIDATE, Category.WEEKLY, Category.DAILY):
        raise TagError(
            f"tag {payload_tag!r}: a {base.category.value.lower()} tag has no version to rebuild",
            "compose from a release, candidate, weekly or daily tag, e.g. r29_2_0",
        )
    if arch is not None and arch not in ARCHITECTURES:
        raise TagError(f"--arch {arch!r}: unknown architecture", f"use one of {ARCHITECTURES}")
    target_arch = arch or base.arch
    # Builds of one version for different architectures share counters independently.
    siblings = [
        t
        for t in _parse_all(existing)
        if (t.category, t.version, t.arch) == (base.category, base.version, target_arch)
    ]
    counter = _counter(build, built_at, siblings)
    text = f"{base.base}_rsp{counter}"
    cycle = re.search(r"_c\d+\.\d+", base.tag) if base.cycle else None
    if cycle:
        text += cycle.group(0)
    if target_arch:
        text += f"-{target_arch}"
    new = parse_tag(text)
    _refuse_reuse(new, siblings)
    return new


def _parse_all(texts: Iterable[str]) -> list[ImageTag]:
    return [parse_tag(t) for t in texts]


def _counter(build: int | None, built_at: dt.datetime | None, siblings: list[ImageTag]) -> int:
    if build is not None and built_at is not None:
        raise TagError("give a build number or a build time, not both", "drop one of them")
    if build is not None:
        if build < 1:
            raise TagError(f"build number {build}: must be 1 or more", "e.g. --build 2")
        return build
    if built_at is not None:
        return int(built_at.astimezone(dt.UTC).strftime("%Y%m%d%H%M"))
    return max((t.rsp_build or 0 for t in siblings), default=0) + 1


def _refuse_reuse(new: ImageTag, siblings: list[ImageTag]) -> None:
    clash = [t for t in siblings if t.sort_key()[:2] >= new.sort_key()[:2]]
    if clash:
        newest = max(clash, key=lambda t: t.sort_key())
        raise TagError(
            f"tag {new.tag!r} would not sort after the existing {newest.tag!r}",
            "omit --build to take the next free build number, or pass a later one",
        )
