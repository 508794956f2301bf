"""Which way a version moved between two locks, and how far (the ``bump`` class).

Conda versions are ordered with rattler's rules, PyPI versions (``(pypi)`` entries
of a diff) with PEP 440 (``packaging``). The bump class names the first release
segment that changed: ``major``, ``minor``, ``patch``, else ``other``.
"""

from __future__ import annotations

from twinlock.audit.diffmodel import Bump, ChangeKind


def version_change(old: str, new: str) -> tuple[ChangeKind, Bump | None]:
    """("upgraded" | "downgraded" | "rebuilt", bump class) between two conda versions.

    Versions that compare equal although spelled differently ("1.0" and "1.0.0")
    count as a rebuild. Should a version not parse, plain text order decides the
    direction and there is no bump class.
    """
    from rattler import Version

    try:
        a, b = Version(old), Version(new)
    except Exception:  # rattler raises its own InvalidVersionError
        return ("upgraded" if new > old else "downgraded"), None
    if a == b:
        return "rebuilt", None
    return ("upgraded" if b > a else "downgraded"), _bump(a, b)


def pypi_version_change(old: str, new: str) -> tuple[ChangeKind, Bump | None]:
    """Like :func:`version_change`, for PyPI versions ordered by PEP 440 (``packaging``).

    ``1.0.dev0 < 1.0a1 < 1.0rc1 < 1.0 < 1.0.post1``. Versions whose public parts
    are equal (``2.1.0+cpu`` and ``2.1.0``) differ only in the local label, a
    build variant of the same release: a rebuild, not an upgrade or downgrade.
    The bump class compares the release segments (an epoch change is ``major``;
    pre-, post- and dev-release changes are ``other``). A version that is not
    PEP 440 falls back to conda's rules.
    """
    from packaging.version import InvalidVersion, Version

    try:
        a, b = Version(old), Version(new)
    except InvalidVersion:
        return version_change(old, new)
    if Version(a.public) == Version(b.public):  # "1.0" == "1.0.0"; local labels aside
        return "rebuilt", None
    direction: ChangeKind = "upgraded" if b > a else "downgraded"
    if a.epoch != b.epoch:
        return direction, "major"
    width = max(len(a.release), len(b.release), 3)
    ra, rb = (v.release + (0,) * (width - len(v.release)) for v in (a, b))
    for index, bump in enumerate(("major", "minor", "patch")):
        if ra[index] != rb[index]:
            return direction, bump  # type: ignore[return-value]
    return direction, "other"


def _bump(a: object, b: object) -> Bump:
    from rattler import Version

    assert isinstance(a, Version) and isinstance(b, Version)
    if a.epoch != b.epoch:
        return "major"
    sa, sb = a.segments(), b.segments()
    for index, bump in enumerate(("major", "minor", "patch")):
        if _segment(sa, index) != _segment(sb, index):
            return bump  # type: ignore[return-value]
    return "other"


def _segment(segments: list[list[str | int]], index: int) -> list[str | int]:
    return segments[index] if index < len(segments) else [0]
