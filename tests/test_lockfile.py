"""Lock files: golden conda-lock and @EXPLICIT output, and round trips through conda-lock."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from conda_lock.lockfile import parse_conda_lock_file

from twinlock.errors import LockFileError
from twinlock.lock.format import (
    parse_conda_lock,
    render_conda_lock,
    render_explicit,
)
from twinlock.model.composition import Requirement
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock
from twinlock.model.platforms import virtual_packages_for

GOLDEN = Path(__file__).parent / "data" / "lockfile"
CF = "https://conda.anaconda.org/conda-forge"


def pkg(name: str, version: str, build: str, subdir: str, *depends: str) -> LockedPackage:
    ext = ".conda"
    return LockedPackage(
        name=name,
        version=version,
        build=build,
        subdir=subdir,
        url=f"{CF}/{subdir}/{name}-{version}-{build}{ext}",
        channel=CF,
        md5=hashlib.md5(name.encode()).hexdigest(),
        sha256=hashlib.sha256(name.encode()).hexdigest(),
        depends=depends,
    )


def sample_lock() -> EnvironmentLock:
    linux = PlatformLock.create(
        "linux-64",
        "a" * 64,
        virtual_packages_for("linux-64"),
        [
            pkg(
                "python",
                "3.11.9",
                "hb806964_0_cpython",
                "linux-64",
                "libzlib >=1.2.13,<2.0a0",
                "tzdata",
            ),
            pkg("libzlib", "1.3.1", "hb9d3cd8_2", "linux-64", "__glibc >=2.17,<3.0.a0"),
            pkg("tzdata", "2024a", "h0c530f3_0", "noarch"),
            pkg(
                "numpy",
                "1.26.4",
                "py311h64a7726_0",
                "linux-64",
                "python >=3.11,<3.12.0a0",
                "python_abi 3.11.* *_cp311",
            ),
            pkg("python_abi", "3.11", "5_cp311", "linux-64"),
        ],
    )
    osx = PlatformLock.create(
        "osx-arm64",
        "b" * 64,
        virtual_packages_for("osx-arm64"),
        [
            pkg("tzdata", "2024a", "h0c530f3_0", "noarch"),
            pkg("python", "3.11.9", "h932a869_0_cpython", "osx-arm64", "tzdata"),
        ],
    )
    return EnvironmentLock(
        composition="demo",
        environment="payload",
        prefix="/opt/payload",
        channels=(CF,),
        requirements=(Requirement("python 3.11.*"), Requirement("numpy", "pipelines", "arrays")),
        platforms=(linux, osx),
        snapshot="2026-09-01T00:00:00Z",
        sources=("envs/demo.yaml", "envs/payload.yml"),
    )


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("TWINLOCK_REGEN_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from its golden file"


def test_conda_lock_golden() -> None:
    golden("payload.conda-lock.yml", render_conda_lock(sample_lock()))


@pytest.mark.parametrize("platform", ["linux-64", "osx-arm64"])
def test_explicit_golden(platform: str) -> None:
    text = render_explicit(sample_lock(), platform)
    golden(f"payload-{platform}.explicit.txt", text)
    urls = [line for line in text.splitlines() if line.startswith("https://")]
    names = [u.rsplit("/", 1)[1].split("-")[0] for u in urls]
    # dependencies come before their dependents
    if platform == "linux-64":
        assert names.index("libzlib") < names.index("python") < names.index("numpy")


def test_round_trip_through_conda_lock_parser(tmp_path: Path) -> None:
    lock = sample_lock()
    path = tmp_path / "payload.conda-lock.yml"
    path.write_text(render_conda_lock(lock))
    parsed = parse_conda_lock_file(path)
    assert parsed.metadata.platforms == ["linux-64", "osx-arm64"]
    assert parsed.metadata.content_hash == {"linux-64": "a" * 64, "osx-arm64": "b" * 64}
    assert parsed.metadata.custom_metadata["twinlock.prefix"] == "/opt/payload"
    got = {
        (p.platform, p.name, p.version, p.build, p.url, p.hash.md5, p.hash.sha256)
        for p in parsed.package
    }
    want = {
        (plat.platform, p.name, p.version, p.build, p.url, p.md5, p.sha256)
        for plat in lock.platforms
        for p in plat.packages
    }
    assert got == want
    numpy = next(p for p in parsed.package if p.name == "numpy")
    assert numpy.dependencies == {"python": ">=3.11,<3.12.0a0", "python_abi": "3.11.* *_cp311"}


def test_our_reader_inverts_the_writer() -> None:
    lock = sample_lock()
    assert parse_conda_lock(render_conda_lock(lock), source="x") == lock


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("version: 2\nmetadata: {}\n", "unsupported lock version 2", id="version"),
        pytest.param(
            "version: 1\nmetadata:\n  platforms: []\n",
            "not a usable twinlock conda-lock file",
            id="foreign",
        ),
        pytest.param(": : :\n", "not readable as YAML at line 1", id="garbage"),
    ],
)
def test_unreadable_locks_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(LockFileError, match=message):
        parse_conda_lock(text, source="locks/x/payload.conda-lock.yml")
