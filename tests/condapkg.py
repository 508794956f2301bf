"""Build small but real conda packages for tests (conda channels are unreachable here).

:func:`build_package` writes a ``.conda`` (zip of zstd tarballs) or ``.tar.bz2``
archive with a proper ``info/index.json``, ``info/paths.json`` and, when a file
carries the build-time prefix placeholder, ``info/has_prefix``. Extra raw tar
members (``../escape``, absolute paths, outside symlinks) can be injected to
build hostile archives. :func:`index_channel` indexes a channel directory with
``rattler.index.index_fs`` so the solver can read it.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"


@dataclass(frozen=True)
class PkgFile:
    """One file of a package; ``prefix=True`` marks it as carrying the placeholder."""

    path: str
    text: str
    executable: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class RawMember:
    """A tar member written verbatim into the payload tarball (for hostile archives)."""

    name: str
    data: bytes = b""
    symlink_to: str | None = None
    listed: bool = False  # also record it in info/paths.json (a legitimate symlink)


@dataclass(frozen=True)
class PkgSpec:
    name: str
    version: str = "1.0"
    build: str = "0"
    subdir: str = "linux-64"
    depends: tuple[str, ...] = ()
    files: tuple[PkgFile, ...] = ()
    raw: tuple[RawMember, ...] = field(default=())
    fmt: str = ".conda"

    @property
    def file_name(self) -> str:
        return f"{self.name}-{self.version}-{self.build}{self.fmt}"


def _tar_bytes(members: Sequence[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return out.getvalue()


def _file_info(name: str, data: bytes, mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 1_700_000_000
    return info, data


def _raw_info(member: RawMember) -> tuple[tarfile.TarInfo, bytes]:
    if member.symlink_to is None:
        return _file_info(member.name, member.data)
    info = tarfile.TarInfo(member.name)
    info.type, info.linkname, info.mtime = tarfile.SYMTYPE, member.symlink_to, 1_700_000_000
    return info, b""


def _info_files(spec: PkgSpec) -> dict[str, bytes]:
    index = {
        "name": spec.name,
        "version": spec.version,
        "build": spec.build,
        "build_number": int(spec.build.rsplit("_", 1)[-1]) if spec.build[-1:].isdigit() else 0,
        "depends": list(spec.depends),
        "subdir": spec.subdir,
        "license": "MIT",
        "timestamp": 1_700_000_000_000,
    }
    if spec.subdir != "noarch":
        index["platform"], index["arch"] = spec.subdir.split("-")[0], "x86_64"
    paths = []
    for f in spec.files:
        data = f.text.encode()
        entry: dict[str, object] = {
            "_path": f.path,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_in_bytes": len(data),
        }
        if f.prefix:
            entry |= {"file_mode": "text", "prefix_placeholder": PLACEHOLDER}
        paths.append(entry)
    for m in spec.raw:
        if m.listed and m.symlink_to is not None:
            target = hashlib.sha256(m.symlink_to.encode()).hexdigest()
            paths.append({"_path": m.name, "path_type": "softlink", "sha256": target})
    out = {
        "info/index.json": json.dumps(index, indent=2).encode(),
        "info/paths.json": json.dumps({"paths": paths, "paths_version": 1}, indent=2).encode(),
        "info/files": "".join(f"{p['_path']}\n" for p in paths).encode(),
    }
    has_prefix = [f"{PLACEHOLDER} text {f.path}\n" for f in spec.files if f.prefix]
    if has_prefix:
        out["info/has_prefix"] = "".join(has_prefix).encode()
    return out


def _payload_members(spec: PkgSpec) -> list[tuple[tarfile.TarInfo, bytes]]:
    members = [
        _file_info(f.path, f.text.encode(), 0o755 if f.executable else 0o644) for f in spec.files
    ]
    return members + [_raw_info(m) for m in spec.raw]


def build_package(channel: Path, spec: PkgSpec) -> Path:
    """Write the archive of *spec* into ``channel/<subdir>/`` and return its path."""
    target = channel / spec.subdir
    target.mkdir(parents=True, exist_ok=True)
    (channel / "noarch").mkdir(exist_ok=True)
    info = [_file_info(name, data) for name, data in _info_files(spec).items()]
    path = target / spec.file_name
    if spec.fmt == ".tar.bz2":
        with tarfile.open(path, "w:bz2") as tar:
            for member, data in [*info, *_payload_members(spec)]:
                tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
        return path
    stem = spec.file_name.removesuffix(".conda")
    compress = zstandard.ZstdCompressor(level=3)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
        zf.writestr(f"pkg-{stem}.tar.zst", compress.compress(_tar_bytes(_payload_members(spec))))
        zf.writestr(f"info-{stem}.tar.zst", compress.compress(_tar_bytes(info)))
    return path


def index_channel(channel: Path) -> None:
    from rattler.index import index_fs

    (channel / "noarch").mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(channel, write_zst=False, write_shards=False, force=True))


def python_like(version: str = "3.12.0") -> PkgSpec:
    """A fake ``python``: a bin/python shell script and a text file naming its prefix."""
    return PkgSpec(
        "python",
        version,
        "h0_0",
        files=(
            PkgFile("bin/python", '#!/bin/sh\necho fake-python "$@"\n', executable=True),
            PkgFile(
                "lib/python-prefix.txt",
                f"installed in {PLACEHOLDER}\nlib: {PLACEHOLDER}/lib\n",
                prefix=True,
            ),
        ),
    )


def ipykernel_like() -> PkgSpec:
    """A fake ``ipykernel`` with an entry point script whose shebang is the placeholder."""
    script = f"#!{PLACEHOLDER}/bin/python\nimport ipykernel_launcher\n"
    return PkgSpec(
        "ipykernel",
        "6.29.0",
        "py_0",
        depends=("python >=3.11",),
        files=(
            PkgFile("bin/ipykernel-launch", script, executable=True, prefix=True),
            PkgFile("lib/ipykernel/__init__.py", "VERSION = '6.29.0'\n"),
        ),
    )


def simple(
    name: str,
    version: str = "1.0",
    *,
    depends: Sequence[str] = (),
    fmt: str = ".conda",
    files_count: int = 1,
) -> PkgSpec:
    """A package of *files_count* plain files under share/<name>/."""
    files = tuple(
        PkgFile(f"share/{name}/file{i}.txt", f"{name} {version} #{i}\n" * 20)
        for i in range(files_count)
    )
    return PkgSpec(name, version, depends=tuple(depends), files=files, fmt=fmt)


def build_channel(channel: Path, specs: Sequence[PkgSpec]) -> Mapping[str, Path]:
    """Build and index every package; return ``{file_name: archive path}``."""
    built = {spec.file_name: build_package(channel, spec) for spec in specs}
    index_channel(channel)
    return built
