"""The install adapter: the one place that fetches archives and calls ``rattler.install``.

* **Fetch**: a locked package's archive comes from the mirror directory
  configured for its channel (``<mirror>/<subdir>/<file>``; then nothing is
  downloaded: a mirrored channel is air-gapped), else from a package cache
  directory (``<cache>/<file>``, conda's ``pkgs`` layout), else from its URL
  (``file://`` read in place, anything else downloaded into the first cache).
  Each candidate is checked against the lock's sha256/md5 and for members
  escaping the prefix *before* rattler sees it (:mod:`twinlock.install.archives`).
* **Link**: rattler installs the verified archives into a temporary sibling of
  the target (``.<name>.twinlock-*``), patching the build-time prefix
  placeholder to the *final* prefix (``alternative_target_prefix``), so text
  files and shebangs name ``/opt/payload`` even when staged under ``--root``.
  Files are copied (or reflinked, copy-on-write), never hard-linked to the
  package cache, so a later edit in the prefix cannot corrupt the cache;
  symlinks that a package ships stay symlinks. The stage is renamed into place only
  when complete; on any failure it is removed.

rattler's calls are coroutines; the sync functions here run them through
:func:`twinlock.aio.run`, so an install also works inside a running event loop.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twinlock import aio
from twinlock.errors import InstallError
from twinlock.install import archives
from twinlock.model.composition import Channel
from twinlock.model.lock import LockedPackage

BUNDLED = "bundled:"
STAGE_MARK = ".twinlock-"


@dataclass(frozen=True)
class InstallEvent:
    """Progress of one environment: *done* of *total* steps (verify, then link, per package)."""

    environment: str
    phase: str  # "verify" | "link" | "done"
    package: str
    done: int
    total: int


Progress = Callable[[InstallEvent], None]


@dataclass(frozen=True)
class ArchiveSources:
    """Where archives may come from: mirrors per canonical channel URL, then caches.

    Downloads land in *download_dir* (twinlock's own archive cache, never a
    user's ``--cache`` directory, which may be read-only).
    """

    mirrors: Mapping[str, str]
    caches: tuple[Path, ...]
    download_dir: Path

    def mirror_dir(self, channel: str) -> Path | None:
        location = self.mirrors.get(channel.rstrip("/"))
        if location is None or location.startswith(BUNDLED) or "://" in location:
            return None
        return Path(location)

    def download_url(self, pkg: LockedPackage) -> str:
        """Where to download *pkg*: its channel's URL mirror, else the lock's own URL."""
        location = self.mirrors.get(pkg.channel.rstrip("/"))
        if location is not None and "://" in location:
            return f"{location}/{pkg.subdir}/{pkg.file_name}"
        return pkg.url

    def candidates(self, pkg: LockedPackage) -> list[Path]:
        """Local files that may hold *pkg*'s archive, most preferred first."""
        mirror = self.mirror_dir(pkg.channel)
        found = [mirror / pkg.subdir / pkg.file_name] if mirror else []
        found += [cache / pkg.file_name for cache in self.caches]
        if pkg.url.startswith("file://"):
            found.append(Path(urllib.parse.unquote(urllib.parse.urlparse(pkg.url).path)))
        return found


def _check(pkg: LockedPackage, path: Path) -> str | None:
    """Why the archive at *path* must not be installed as *pkg*, None when it is fine."""
    problem = archives.digest_problem(archives.file_digests(path), pkg.sha256, pkg.md5)
    if problem is not None:
        return f"{path}: {problem} (tampered or corrupt archive)"
    unsafe = archives.archive_problems(path)
    if unsafe:
        return f"{path}: " + "; ".join(unsafe)
    return None


def fetch_verified(pkg: LockedPackage, sources: ArchiveSources) -> Path:
    """A local, verified archive of *pkg*; raises InstallError naming every rejected source."""
    problems = []
    for path in sources.candidates(pkg):
        if path.is_file():
            problem = _check(pkg, path)
            if problem is None:
                return path
            problems.append(problem)
    if sources.mirror_dir(pkg.channel) is None and not pkg.url.startswith("file://"):
        downloaded, problem = _download(pkg, sources.download_url(pkg), sources.download_dir)
        if downloaded is not None:
            return downloaded
        problems.append(problem)
    where = ", ".join(str(p) for p in sources.candidates(pkg)) or pkg.url
    raise InstallError(
        f"no usable archive for {pkg.name} {pkg.version} {pkg.build} ({pkg.file_name}): "
        + ("; ".join(problems) if problems else f"not found in {where}"),
        # Not "run twinlock mirror": this is also what `mirror` itself says offline.
        f"point --mirror {Channel.from_url(pkg.channel).name}=DIR at a local channel or "
        "package cache holding the archives, or run where the channel is reachable; a "
        "package whose hash differs from the lock is never installed",
    )


def _download(pkg: LockedPackage, url: str, cache: Path) -> tuple[Path | None, str]:
    from rattler.networking import Client
    from rattler.package_streaming import download_to_path

    cache.mkdir(parents=True, exist_ok=True)
    # Keep the archive's suffix: .conda and .tar.bz2 are read differently.
    fd, tmp_name = tempfile.mkstemp(prefix=".download-", suffix=f"-{pkg.file_name}", dir=cache)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        aio.run(download_to_path(Client(), url, tmp))
        problem = _check(pkg, tmp)
        if problem is None:
            os.replace(tmp, cache / pkg.file_name)
            return cache / pkg.file_name, ""
        return None, problem.replace(str(tmp), url)
    except Exception as exc:  # rattler raises its own, unexported, network errors
        return None, f"cannot download {url}: {exc}"
    finally:
        tmp.unlink(missing_ok=True)


class _Reporter:
    """rattler's InstallerReporter protocol, forwarded to a :data:`Progress` callback."""

    def __init__(self, environment: str, progress: Progress, done: int, total: int) -> None:
        self._env, self._progress = environment, progress
        self._done, self._total = done, total
        self._names: dict[int, str] = {}

    def on_link_start(self, operation: int, package_name: str) -> int:
        self._names[operation] = package_name
        return operation

    def on_link_complete(self, index: int) -> None:
        self._done += 1
        name = self._names.get(index, "")
        self._progress(InstallEvent(self._env, "link", name, self._done, self._total))

    def __getattr__(self, name: str) -> Any:
        # Every other callback of the protocol is a no-op; token-returning ones return 0.
        if name.startswith("on_"):
            return lambda *args: 0
        raise AttributeError(name)


async def _link(
    archives_: Sequence[tuple[LockedPackage, Path]],
    stage: Path,
    *,
    final_prefix: str,
    platform: str,
    package_cache: Path,
    reporter: _Reporter | None,
) -> None:
    from rattler import Config, RepoDataRecord, Subdir, install

    records = await aio.gather_all([RepoDataRecord.from_package_archive(p) for _, p in archives_])
    for record, (pkg, path) in zip(records, archives_, strict=True):
        record.url, record.channel = path.resolve().as_uri(), pkg.channel
    await install(
        list(records),
        stage,
        cache_dir=package_cache,
        installed_packages=[],
        platform=Subdir(platform),
        execute_link_scripts=False,
        show_progress=False,
        reporter=reporter,
        alternative_target_prefix=final_prefix,
        config=Config.from_toml("allow-hard-links = false\n"),
    )


def _canonical_conda_meta(stage: Path, packages: Sequence[LockedPackage]) -> None:
    """Record the lock's canonical URL in conda-meta (rattler saw the local file's URL)."""
    urls = {p.file_name: p.url for p in packages}
    for path in (stage / "conda-meta").glob("*.json"):
        data = json.loads(path.read_text())
        if data.get("fn") in urls:
            data["url"] = urls[data["fn"]]
            path.write_text(json.dumps(data, indent=2) + "\n")
    # rattler tags directories it manages as caches; a prefix is not one.
    (stage / "CACHEDIR.TAG").unlink(missing_ok=True)


@dataclass(frozen=True)
class LinkResult:
    files: int
    seconds: float


def install_prefix(
    environment: str,
    target: Path,
    final_prefix: str,
    verified: Sequence[tuple[LockedPackage, Path]],
    *,
    platform: str,
    package_cache: Path,
    replace: bool,
    progress: Progress | None = None,
) -> LinkResult:
    """Install *verified* archives as a fresh prefix at *target*, all or nothing."""
    start = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}{STAGE_MARK}", dir=target.parent))
    # mkdtemp makes the directory private (0700); a prefix must be readable like any other.
    os.chmod(stage, 0o777 & ~_umask())
    total = 2 * len(verified)
    reporter = _Reporter(environment, progress, len(verified), total) if progress else None
    try:
        aio.run(
            _link(
                verified,
                stage,
                final_prefix=final_prefix,
                platform=platform,
                package_cache=package_cache,
                reporter=reporter,
            )
        )
        _canonical_conda_meta(stage, [p for p, _ in verified])
        files = sum(1 for p in stage.rglob("*") if not p.is_dir())
        _swap_into_place(stage, target, replace=replace)
    except BaseException as exc:
        shutil.rmtree(stage, ignore_errors=True)
        if isinstance(exc, Exception) and not isinstance(exc, InstallError):
            raise InstallError(
                f"installing {environment} into {target} failed: {exc}",
                "nothing was left behind; fix the cause above and rerun",
            ) from exc
        raise
    return LinkResult(files, time.perf_counter() - start)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _swap_into_place(stage: Path, target: Path, *, replace: bool) -> None:
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists() and not target.is_symlink():
        os.rename(stage, target)
        return
    if not replace:
        raise InstallError(f"{target} appeared during the install", "rerun")
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}{STAGE_MARK}old-", dir=target.parent))
    old.rmdir()
    os.rename(target, old)
    os.rename(stage, target)
    shutil.rmtree(old, ignore_errors=True)


def copy_into_channel(archive: Path, dest: Path, pkg: LockedPackage) -> bool:
    """Copy a verified archive to ``dest/<subdir>/<file>``; False when already there."""
    target = dest / pkg.subdir / pkg.file_name
    if (
        target.is_file()
        and archives.file_digests(target).sha256 == archives.file_digests(archive).sha256
    ):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{pkg.file_name}.", dir=target.parent)
    os.close(fd)
    shutil.copyfile(archive, tmp)
    os.replace(tmp, target)
    return True


def index_channel(dest: Path) -> None:
    """Write ``repodata.json`` for every subdir of the local channel *dest*."""
    from rattler.index import index_fs

    (dest / "noarch").mkdir(parents=True, exist_ok=True)
    aio.run(index_fs(dest, write_zst=False, write_shards=False, force=True))
