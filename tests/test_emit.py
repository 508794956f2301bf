"""twinlock's conda-lock writer against conda-lock's own: the same bytes, on real and odd locks.

conda-lock is the oracle: its pydantic models are built from the lock the way
conda-lock's users build them, ``write_conda_lock_file`` writes the file, and
twinlock's writer (:mod:`twinlock.lock.emit`) must produce exactly those bytes.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from conda_lock.lockfile import parse_conda_lock_file, write_conda_lock_file
from conda_lock.lockfile.v2prelim.models import HashModel, LockedDependency, Lockfile, LockMeta

from twinlock.lock.emit import _Unsupported, _Writer, conda_lock_data, dump_conda_lock
from twinlock.lock.format import _header, parse_conda_lock, render_conda_lock
from twinlock.model.composition import PypiRequirement, Requirement
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock, PypiPackage
from twinlock.model.platforms import virtual_packages_for

REPO = Path(__file__).resolve().parents[1]
COMMITTED = sorted([*REPO.glob("locks/*/*.conda-lock.yml"), *REPO.glob("tests/data/**/*.yml")])
COMMITTED = [p for p in COMMITTED if p.name.endswith(".conda-lock.yml")]
CF = "https://conda.anaconda.org/conda-forge"


def oracle(lock: EnvironmentLock, tmp_path: Path) -> str:
    """What conda-lock's writer produces for *lock* (with twinlock's header)."""
    packages = [
        LockedDependency(
            name=pkg.name,
            version=pkg.version,
            manager="conda",
            platform=plat.platform,
            dependencies=pkg.dependency_map(),
            url=pkg.url,
            hash=HashModel(md5=pkg.md5, sha256=pkg.sha256),
            categories={"main"},
            build=pkg.build,
        )
        for plat in lock.platforms
        for pkg in plat.packages
    ]
    packages += [
        LockedDependency(
            name=pkg.name,
            version=pkg.version,
            manager="pip",
            platform=plat.platform,
            dependencies=pkg.dependency_map(),
            url=pkg.url,
            hash=HashModel(sha256=pkg.sha256),
            categories={"main"},
        )
        for plat in lock.platforms
        for pkg in plat.pypi
    ]
    meta = LockMeta(
        content_hash={p.platform: p.input_hash for p in lock.platforms},
        channels=list(lock.channels),
        platforms=list(lock.platform_names),
        sources=list(lock.sources),
        custom_metadata=lock.custom_metadata(),
    )
    path = tmp_path / "oracle.conda-lock.yml"
    write_conda_lock_file(
        Lockfile(package=packages, metadata=meta), path, None, include_help_text=False
    )
    return _header(lock) + path.read_text()


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(REPO)))
def test_committed_locks_are_rewritten_byte_for_byte(path: Path, tmp_path: Path) -> None:
    text = path.read_text()
    lock = parse_conda_lock(text, source=str(path))
    assert render_conda_lock(lock) == text
    assert oracle(lock, tmp_path) == text
    # and the fast writer, not the PyYAML fallback, wrote it
    _Writer().document(conda_lock_data(lock))


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(REPO)))
def test_conda_lock_reads_every_committed_lock(path: Path) -> None:
    parsed = parse_conda_lock_file(path)
    assert parsed.package or "package: []" in path.read_text()
    assert parsed.metadata.custom_metadata


# Strings that test every rule of the writer: YAML types a plain scalar would turn
# into (numbers, bools, null, dates), leading indicators, ': ' and ' #', spaces at
# the edges and in runs, quotes, and lengths that fold at column 80.
ODD = [
    "1.0", "2024", "1e3", "1.5e+3", "0x1F", "0o17", "017", "0189", ".5", "+1", "-2", "1_000",
    "190:20:30", ".inf", "-.Inf", ".nan", "yes", "No", "on", "OFF", "true", "False", "y", "n",
    "null", "~", "NULL", "", "2026-10-01", "2026-10-01T00:00:00Z", "2001-12-14 21:59:43.10 -5",
    "=", "<<", "-", "?", ":", "- x", "? x", ": x", "-x", "?x", ":x", "x:", "a: b", "a:b",
    "a #b", "a#b", "#x", "&a", "*a", "!x", "|x", ">=1.0,<2", "'q'", '"q"', "%x", "@x", "`x",
    "[x]", "{x}", ",x", "---", "--- x", "...", "a...", " lead", "trail ", "two  spaces",
    "a ' quote", "it's", "x" * 130, "dash-" * 30, "3.12.* *_cp312", "*",
    "word " * 40, "a" * 77 + " b c", "a" * 78 + " b c", "a" * 79 + " b", " " * 3,
    "é", "naïve text", "emoji 🙂", "tab\there", "line\nbreak", "trailing\n", "\u2028sep",
    "ctl\x07", "bom\ufeff", "x" * 90 + "  " + "y" * 5, "'" * 90, "0" * 32, "1" * 32,
    "123e4567", "deadbeef", "0123456789abcdef" * 2,
]  # fmt: skip


def _supported(value: str) -> bool:
    return all(ch == " " or "!" <= ch <= "~" for ch in value) and len(value) <= 100


ASCII_ODD = [s for s in ODD if _supported(s)]


def _odd(rng: random.Random) -> str:
    """An odd string; for even seeds only strings twinlock's writer formats itself."""
    ascii_only = rng.seed_parity == 0  # type: ignore[attr-defined]
    if rng.random() < 0.5:
        return rng.choice(ASCII_ODD if ascii_only else ODD)
    alphabet = "abz09._-+=/: #'\"*!&|>,[]{}?%@`~ " + ("" if ascii_only else "é\n\t")
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 90)))


def _dependency(rng: random.Random) -> str:
    return f"{_odd(rng).replace(' ', '_') or 'd'} {_odd(rng)}"


def _random_lock(seed: int) -> EnvironmentLock:
    rng = random.Random(seed)
    rng.seed_parity = seed % 2  # type: ignore[attr-defined]
    platforms = []
    for platform in rng.sample(["linux-64", "linux-aarch64", "osx-arm64"], rng.randint(1, 3)):
        packages = [
            LockedPackage(
                name=f"{_odd(rng)}{index}" if rng.random() < 0.3 else f"pkg{index}",
                version=_odd(rng) or "1",
                build=_odd(rng),
                subdir=platform,
                url=f"{CF}/{platform}/{_odd(rng) or 'x'}.conda",
                channel=CF,
                md5=_odd(rng) if rng.random() < 0.3 else f"{rng.getrandbits(128):032x}",
                sha256=None if rng.random() < 0.2 else f"{rng.getrandbits(256):064x}",
                depends=tuple(_dependency(rng) for _ in range(3)),
                license=_odd(rng) if rng.random() < 0.5 else None,
            )
            for index in range(rng.randint(0, 6))
        ]
        pypi = [
            PypiPackage(_odd(rng) or "p", _odd(rng), f"https://files/{_odd(rng)}.whl", "ab" * 32)
            for _ in range(rng.randint(0, 2))
        ]
        platforms.append(
            PlatformLock.create(platform, _odd(rng), virtual_packages_for(platform), packages, pypi)
        )
    return EnvironmentLock(
        composition=_odd(rng) or "c",
        environment=_odd(rng) or "e",
        prefix="/opt/" + _odd(rng),
        channels=tuple(rng.sample([CF, "conda-forge", f"file:///{_odd(rng)}/x", "a b"], 2)),
        requirements=tuple(Requirement(_odd(rng), _odd(rng) or None) for _ in range(3)),
        platforms=tuple(sorted(platforms, key=lambda p: p.platform)),
        snapshot=rng.choice([None, "2026-10-01T00:00:00Z", _odd(rng)]),
        sources=tuple(_odd(rng) or "s" for _ in range(rng.randint(1, 3))),
        pypi_requirements=tuple(PypiRequirement(_odd(rng)) for _ in range(rng.randint(0, 2))),
        python=rng.choice([None, "3.10", "3.12"]),
        align=tuple(_odd(rng) for _ in range(rng.randint(0, 2))),
    )


@pytest.mark.parametrize("seed", range(60))
def test_random_locks_match_conda_locks_writer(seed: int, tmp_path: Path) -> None:
    lock = _random_lock(seed)
    assert render_conda_lock(lock) == oracle(lock, tmp_path)
    if seed % 2 == 0:  # printable ASCII only: twinlock's writer, not the fallback, wrote it
        _Writer().document(conda_lock_data(lock))


@pytest.mark.parametrize("value", ODD, ids=repr)
@pytest.mark.parametrize("column", [0, 1, 5, 40, 60, 75, 79, 80])
def test_every_odd_string_as_key_and_value_matches_pyyaml(value: str, column: int) -> None:
    """Each string as a value at varied columns (folding), in a list, and as a key."""
    data: dict[str, Any] = {"k" * column or "k": value, "list": [value], "nested": {"a": value}}
    if value:
        data[value] = "v"
    want = yaml.dump(data, sort_keys=False)
    assert dump_conda_lock(data) == want
    if _supported(value):
        assert _Writer().document(data) == want  # formatted by twinlock, not the fallback
    else:
        with pytest.raises(_Unsupported):
            _Writer().document(data)


@pytest.mark.parametrize(
    "channel",
    [
        pytest.param("https://user:secret@host.example/channel", id="credentials"),
        pytest.param("https://host.example/t/tk-123/channel", id="token"),
        pytest.param("https://HOST.example:8080/a/../b/", id="port-case-dots"),
        pytest.param("http://host/;p?q#f", id="params-query-fragment"),
        pytest.param("conda-forge/label/x", id="label"),
    ],
)
def test_channel_urls_are_written_as_conda_lock_writes_them(channel: str, tmp_path: Path) -> None:
    lock = _random_lock(0)
    lock = EnvironmentLock(**{**lock.__dict__, "channels": (channel,)})
    assert render_conda_lock(lock) == oracle(lock, tmp_path)
