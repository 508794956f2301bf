"""All file-system reads and writes of twinlock live here.

The core (parsing, planning, checking) works on data; this module finds the
project root, loads compositions and the files they reference, reads and
writes locks (every write goes to a temporary file that is then renamed, so a
reader never sees half a file), and unpacks the bundled channel snapshot.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from twinlock.composition import Composition
from twinlock.config import CONFIG_NAME, ProjectConfig, parse_config
from twinlock.errors import (
    ChannelError,
    CompositionError,
    ConfigError,
    InstallError,
    LockFileError,
    Problem,
)
from twinlock.lockfile import parse_conda_lock
from twinlock.lockmodel import EnvironmentLock
from twinlock.parsing import parse_composition, referenced_files
from twinlock.requirements import FileUnavailable

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LOCK_SUFFIX = ".conda-lock.yml"
EXPLICIT_SUFFIX = ".explicit.txt"


def find_project_root(start: Path) -> Path:
    """The nearest directory at or above *start* holding twinlock.toml, else *start*."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / CONFIG_NAME).is_file():
            return candidate
    return start


def load_config(start: Path) -> ProjectConfig:
    """Find and read the configuration of the project containing *start*."""
    root = find_project_root(start)
    path = root / CONFIG_NAME
    if not path.is_file():
        return ProjectConfig(root=root)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}", "fix the TOML syntax") from exc
    return parse_config(data, root=root, source=str(path))


def _read_yaml(path: Path, source: str) -> object:
    try:
        return yaml.load(path.read_text(), Loader=_Loader)
    except FileNotFoundError as exc:
        raise CompositionError(
            [Problem(source, "", "file not found", "check the path (or create the file)")]
        ) from exc
    except (OSError, yaml.YAMLError) as exc:
        raise CompositionError(
            [Problem(source, "", f"cannot read YAML: {exc}", "fix the YAML syntax")]
        ) from exc


def load_composition(path: Path) -> Composition:
    """Read and validate the composition at *path* and the environment files it names.

    ``file:`` entries are read as YAML, ``pypi-file:`` entries (requirements.txt) as text.
    """
    source = _display(path)
    data = _read_yaml(path, source)
    files: dict[str, object] = {}
    for ref in referenced_files(data):
        target = path.parent / ref
        try:
            files[ref] = yaml.load(target.read_text(), Loader=_Loader)
        except FileNotFoundError:
            files[ref] = FileUnavailable(f"no such file {_display(target)}")
        except (OSError, yaml.YAMLError) as exc:
            files[ref] = FileUnavailable(str(exc))
    for ref in referenced_files(data, "pypi-file"):
        target = path.parent / ref
        try:
            files[ref] = target.read_text()
        except FileNotFoundError:
            files[ref] = FileUnavailable(f"no such file {_display(target)}")
        except (OSError, UnicodeDecodeError) as exc:
            files[ref] = FileUnavailable(str(exc))
    return parse_composition(data, source=source, files=files)


def environment_sources(
    composition: Composition, path: Path, config: ProjectConfig
) -> dict[str, tuple[str, ...]]:
    """Per environment: the composition file and its environment file, root-relative."""
    main = config.relative(path)
    return {
        env.name: (main, *(config.relative(path.parent / ref) for ref in env.sources))
        for env in composition.environments
    }


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class LockPaths:
    """Where the lock files of one composition live."""

    directory: Path

    def conda_lock(self, env: str) -> Path:
        return self.directory / f"{env}{LOCK_SUFFIX}"

    def explicit(self, env: str, platform: str) -> Path:
        return self.directory / f"{env}-{platform}{EXPLICIT_SUFFIX}"

    def existing_files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(
            p for p in self.directory.iterdir() if p.name.endswith((LOCK_SUFFIX, EXPLICIT_SUFFIX))
        )


def read_locks(paths: LockPaths, env_names: Iterable[str]) -> dict[str, EnvironmentLock]:
    """The existing locks of the named environments (absent ones are skipped)."""
    locks: dict[str, EnvironmentLock] = {}
    for name in env_names:
        path = paths.conda_lock(name)
        if path.is_file():
            locks[name] = parse_conda_lock(path.read_text(), source=_display(path))
    return locks


def read_lock_file(path: Path) -> EnvironmentLock:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read lock {path}: {exc}", "check the path") from exc
    return parse_conda_lock(text, source=_display(path))


def read_text(path: Path, what: str) -> str:
    """The text of a file the user named (*what* says which option named it)."""
    try:
        return path.read_text()
    except OSError as exc:
        raise ConfigError(f"{what}: cannot read {path}: {exc.strerror}", "check the path") from exc


def is_git_revision(root: Path, revision: str) -> bool:
    """True when *revision* names a commit of the git repository holding *root*."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
            capture_output=True,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0


def read_git_file(root: Path, revision: str, path: Path) -> str | None:
    """The text of *path* (inside *root*'s repository) at *revision*; None if absent there."""
    try:
        relative = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise LockFileError(
            f"{path}: outside the git repository at {root}, so no revision has it",
            "keep --locks-dir inside the repository to read locks from a git revision",
        ) from None
    done = subprocess.run(
        ["git", "-C", str(root), "show", f"{revision}:./{relative}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout if done.returncode == 0 else None


def read_text_if_exists(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def write_text_atomic(path: Path, text: str) -> bool:
    """Write *text* to *path* via a temporary file and rename; False if unchanged."""
    if read_text_if_exists(path) == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_files(contents: Mapping[Path, str], remove: Iterable[Path] = ()) -> list[Path]:
    """Write every file atomically (unchanged ones are left alone); return those written."""
    written = [path for path, text in contents.items() if write_text_atomic(path, text)]
    for path in remove:
        path.unlink(missing_ok=True)
    return written


def cache_dir() -> Path:
    """$TWINLOCK_CACHE_DIR, else $XDG_CACHE_HOME/twinlock, else ~/.cache/twinlock."""
    if os.environ.get("TWINLOCK_CACHE_DIR"):
        return Path(os.environ["TWINLOCK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "twinlock"


def bundled_channel(name: str) -> Path:
    """Unpack the bundled channel *name* into the cache (once) and return its directory."""
    archive = resources.files("twinlock") / "data" / f"{name}.tar.xz"
    if not archive.is_file():
        raise ChannelError(
            f"no bundled channel named '{name}'",
            "the bundled channel is 'bundled:conda-forge-snapshot'",
        )
    data = archive.read_bytes()
    target = cache_dir() / "channels" / f"{name}-{hashlib.sha256(data).hexdigest()[:16]}"
    if (target / name).is_dir():
        return target / name
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    try:
        archive_path = staging / "archive.tar.xz"
        archive_path.write_bytes(data)
        with tarfile.open(archive_path) as tar:
            tar.extractall(staging / "tree", filter="data")
        os.replace(staging / "tree", target)
    except OSError:
        if not (target / name).is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / name


def local_channel_dir(location: str) -> Path:
    """The channel directory of a mirror location (a path or ``bundled:<name>``)."""
    if location.startswith("bundled:"):
        return bundled_channel(location.removeprefix("bundled:"))
    path = Path(location)
    if not path.is_dir() or not any(path.glob("*/repodata.json")):
        raise ChannelError(
            f"mirror directory {location} is not a conda channel (no <subdir>/repodata.json)",
            "point --mirror (or [mirrors] in twinlock.toml) at a directory indexed for conda",
        )
    return path


def read_conda_meta(prefix: Path) -> list[dict[str, Any]] | None:
    """The ``conda-meta/*.json`` records of an installed prefix (None: no conda-meta)."""
    meta = prefix / "conda-meta"
    if not meta.is_dir():
        return None
    records = []
    for path in sorted(meta.glob("*.json")):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            raise InstallError(
                f"{path}: unreadable conda-meta record: {exc}",
                "the prefix is damaged: reinstall it with twinlock install --force",
            ) from exc
    return records


def is_empty_dir(path: Path) -> bool:
    """True when *path* does not exist or is an empty directory."""
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def sha256_of(path: Path) -> str | None:
    """The sha256 of a regular file, None when it is absent."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return digest.hexdigest()
