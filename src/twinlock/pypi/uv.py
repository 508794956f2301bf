"""The uv adapter: the one place that runs ``uv`` (resolve, find Pythons, install).

uv comes from PyPI as a dependency of twinlock; its binary is found with
``uv.find_uv_bin()``. Three jobs:

* :class:`UvResolver` resolves :class:`~twinlock.pypi.plan.PypiRequest` values
  with ``uv pip compile`` for a Python version and platform (hashes on, header
  off), previous pins given as preferences and ``--upgrade-package`` for
  ``--update``; tests may substitute any object with the same ``resolve_all``.
  The resolution is async (uv runs as asyncio subprocesses); ``resolve_all`` is its
  sync face (:func:`twinlock.aio.run`), which also works inside a running event loop.
* :func:`find_interpreter` finds a Python of a given version the way a user's
  machine would: an explicit path, then ``pythonX.Y`` / ``python3`` / ``python``
  on PATH, then ``uv python find``, then pyenv's versions directory. Every
  candidate is run to confirm its version (a pyenv shim may exist yet fail).
* :func:`install_layer` installs locked PyPI packages into a prefix with
  ``uv pip`` (``--require-hashes``, ``--no-deps``), offline from uv's cache
  first, creating the prefix with ``uv venv`` for a PyPI-only environment.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from subprocess import PIPE

from twinlock import aio
from twinlock.errors import InterpreterError, PypiError
from twinlock.model.composition import normalize_pypi_name
from twinlock.model.lock import PypiPackage
from twinlock.model.pypi_indexes import PypiIndexes, strip_credentials
from twinlock.pypi.plan import PypiOutcome, PypiRequest, build_packages, condense_uv_error

_VERSION_PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3])"


def uv_bin() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def _uv_env() -> dict[str, str]:
    # Interpreters come from the machine: a managed-Python download attempt only costs time
    # (uv would otherwise try one whenever the target version is not installed).
    return {**os.environ, "NO_COLOR": "1", "UV_NO_PROGRESS": "1", "UV_PYTHON_DOWNLOADS": "never"}


def _run(args: Sequence[str], *, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [uv_bin(), *args],
            capture_output=True,
            text=True,
            env=_uv_env(),
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PypiError(f"cannot run uv {args[0]}: {exc}", "check that uv is installed") from exc


async def _run_async(
    args: Sequence[str], *, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """:func:`_run` as a coroutine: uv runs while the event loop waits for other work."""
    try:
        proc = await asyncio.create_subprocess_exec(
            uv_bin(), *args, stdout=PIPE, stderr=PIPE, env=_uv_env()
        )
    except OSError as exc:
        raise PypiError(f"cannot run uv {args[0]}: {exc}", "check that uv is installed") from exc
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError as exc:
        raise PypiError(
            f"cannot run uv {args[0]}: no answer after {timeout:g} s", "check that uv is installed"
        ) from exc
    finally:
        if proc.returncode is None:  # timed out or cancelled: leave no uv behind
            proc.kill()
            await proc.wait()
    code = await proc.wait()
    return subprocess.CompletedProcess([uv_bin(), *args], code, _text(out), _text(err))


def _text(data: bytes) -> str:
    return data.decode(errors="replace").replace("\r\n", "\n")


class UvResolver:
    """Resolve PyPI requests with ``uv pip compile``, two at a time.

    The work is async (:meth:`resolve_all_async`); :meth:`resolve_all` runs it through
    :func:`twinlock.aio.run`, so it also works inside a running event loop.
    """

    CONCURRENCY = 2

    def resolve_all(self, requests: Sequence[PypiRequest]) -> list[PypiOutcome]:
        return aio.run(self.resolve_all_async(requests)) if requests else []

    async def resolve_all_async(self, requests: Sequence[PypiRequest]) -> list[PypiOutcome]:
        slots = asyncio.Semaphore(self.CONCURRENCY)

        async def one(request: PypiRequest) -> PypiOutcome:
            async with slots:
                return await self.resolve_async(request)

        return await aio.gather_all([one(r) for r in requests])

    async def resolve_async(self, request: PypiRequest) -> PypiOutcome:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="twinlock-uv-") as tmp:
            work = Path(tmp)
            (work / "requirements.in").write_text("\n".join(request.requirements) + "\n")
            (work / "constraints.txt").write_text("\n".join(request.constraint_lines()) + "\n")
            # uv keeps the pins of an existing output file unless told to upgrade them.
            (work / "pins.txt").write_text("\n".join(request.preference_lines()) + "\n")
            target = _target_args(request)
            upgrade = [a for name in sorted(request.upgrade) for a in ("--upgrade-package", name)]
            compile_args = ["pip", "compile", "--no-header", "--quiet", "--directory", tmp, *target]
            inputs = ["requirements.in", "-c", "constraints.txt", "-o", "pins.txt"]
            pins = await _run_async([*compile_args, *inputs, "--generate-hashes", *upgrade])
            if pins.returncode != 0:
                return PypiOutcome(
                    request, None, condense_uv_error(pins.stderr), time.perf_counter() - start
                )
            pylock = ["pins.txt", "--no-deps", "--format", "pylock.toml", "-o", "pylock.toml"]
            lock = await _run_async([*compile_args, *pylock])
            if lock.returncode != 0:
                raise PypiError(
                    f"{request.environment} on {request.platform}: uv could not list the "
                    f"artifacts of its own pins: {condense_uv_error(lock.stderr)}",
                    "report this with the composition attached",
                )
            packages = build_packages(
                request, (work / "pins.txt").read_text(), (work / "pylock.toml").read_text()
            )
        return PypiOutcome(request, packages, None, time.perf_counter() - start)


def _target_args(request: PypiRequest) -> list[str]:
    args = ["--python-version", request.python_version, "--python-platform", request.uv_platform]
    if request.exclude_newer:
        args += ["--exclude-newer", request.exclude_newer]
    return args + index_args(request.indexes, request.environment)


def index_args(indexes: PypiIndexes, environment: str) -> list[str]:
    """uv's index options for conda-lock's pip-repositories / allow-pypi-requests.

    ``$VARIABLES`` in the URLs (conda-lock's way of passing credentials) are expanded
    from the environment here, at the last moment; the expanded URLs only reach uv's
    command line, never a file twinlock writes.
    """
    urls = [_expanded(url, environment) for url in indexes.urls]
    if not indexes.allow_pypi:
        # the first repository replaces pypi.org, the others come on top
        first, rest = urls[:1], urls[1:]
        return [*(a for u in first for a in ("--index-url", u)), *_extra(rest)]
    return _extra(urls)


def _extra(urls: Sequence[str]) -> list[str]:
    return [a for u in urls for a in ("--extra-index-url", u)]


def _expanded(url: str, environment: str) -> str:
    expanded = os.path.expandvars(url)
    missing = re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", expanded)
    if missing:
        raise PypiError(
            f"{environment}: pip-repositories URL {strip_credentials(url)} needs the "
            f"environment variable {', '.join(dict.fromkeys(missing))}, which is not set",
            "export it before running twinlock (credentials come from the environment, "
            "as with conda-lock; they are never written into the lock)",
        )
    return expanded


def interpreter_version(path: str | Path) -> str | None:
    """The X.Y.Z version of the Python at *path*, or None when it does not run."""
    try:
        done = subprocess.run(
            [str(path), "-c", _VERSION_PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _matches(found: str | None, wanted: str) -> bool:
    return found is not None and (found == wanted or found.startswith(wanted + "."))


def interpreter_candidates(version: str) -> list[tuple[str, str]]:
    """(how it was found, path) for every place a Python *version* may live, in search order."""
    major_minor = ".".join(version.split(".")[:2])
    out: list[tuple[str, str]] = []
    for name in (f"python{major_minor}", "python3", "python"):
        path = shutil.which(name)
        if path:
            out.append((f"PATH ({name})", path))
    found = _run(["python", "find", "--no-python-downloads", version], timeout=60)
    if found.returncode == 0 and found.stdout.strip():
        out.append(("uv python find", found.stdout.strip()))
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for bin_dir in sorted(pyenv.glob(f"{major_minor}*/bin"), reverse=True):
        out.append(("pyenv", str(bin_dir / f"python{major_minor}")))
    return out


def find_interpreter(environment: str, version: str, explicit: str | None = None) -> Path:
    """A Python *version* interpreter (explicit path, PATH, uv, pyenv); raise when none works."""
    if explicit is not None:
        found = interpreter_version(explicit)
        if _matches(found, version):
            return Path(explicit)
        raise InterpreterError(
            f"{environment}: python-interpreter {explicit} "
            + (f"is Python {found}, not {version}" if found else "does not run"),
            f"point python-interpreter at a Python {version}, or remove it to search the machine",
        )
    tried = []
    for how, path in interpreter_candidates(version):
        found = interpreter_version(path)
        if _matches(found, version):
            return Path(path)
        tried.append(f"{path} ({how}): {found or 'does not run'}")
    raise InterpreterError(
        f"{environment}: no Python {version} found on this machine"
        + "".join(f"\n  tried {t}" for t in tried),
        f"install Python {version} (e.g. uv python install {version}) or set python-interpreter",
    )


@dataclass(frozen=True)
class LayerResult:
    """What :func:`install_layer` did to one prefix."""

    prefix: Path
    packages: int
    created: bool
    offline: bool
    seconds: float


def install_layer(
    prefix: Path,
    packages: Sequence[PypiPackage],
    *,
    interpreter: Path | None = None,
    environment: str = "",
) -> LayerResult:
    """Install exactly the locked *packages* into *prefix* (a venv made from *interpreter*).

    With *interpreter*, the prefix is a PyPI-only environment: when absent (or a
    venv of another Python version) it is built in a staging directory next to it
    (``uv venv --relocatable``) and moved into place only once complete; an
    existing one is synced (packages not in the lock are removed). Without, the
    packages go on top of the conda layer already in *prefix* (``--no-deps``,
    nothing removed).
    """
    start = time.perf_counter()
    is_venv = (prefix / "pyvenv.cfg").is_file()
    if interpreter is None or (is_venv and _same_python(prefix / "bin" / "python", interpreter)):
        offline = _install(prefix, packages, synced=interpreter is not None, env=environment)
        return LayerResult(prefix, len(packages), False, offline, time.perf_counter() - start)
    if not is_venv and prefix.exists() and any(prefix.iterdir()):
        raise PypiError(
            f"{environment}: {prefix} exists and is not a virtual environment",
            "remove it, or choose another prefix",
        )
    # New, or a venv of another Python (the lock's version changed): build it aside.
    prefix.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{prefix.name}.", dir=prefix.parent))
    try:
        _create_venv(staging, interpreter, environment)
        offline = _install(staging, packages, synced=True, env=environment)
        if prefix.exists():
            shutil.rmtree(prefix)  # empty, or a venv of the wrong Python
        os.replace(staging, prefix)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return LayerResult(prefix, len(packages), True, offline, time.perf_counter() - start)


def _same_python(venv_python: Path, interpreter: Path) -> bool:
    """Does the venv run the same X.Y as *interpreter*?"""
    have, want = interpreter_version(venv_python), interpreter_version(interpreter)
    return have is not None and want is not None and have.split(".")[:2] == want.split(".")[:2]


def _install(prefix: Path, packages: Sequence[PypiPackage], *, synced: bool, env: str) -> bool:
    """uv pip sync/install from the lock, offline first; True when uv's cache sufficed."""
    python = prefix / "bin" / "python"
    if not python.exists():
        raise PypiError(
            f"{env}: no Python at {python} to install the PyPI layer into",
            "install the conda layer (with python) first",
        )
    with tempfile.TemporaryDirectory(prefix="twinlock-uv-") as tmp:
        reqs = Path(tmp) / "requirements.txt"
        reqs.write_text("".join(p.requirement_line() + "\n" for p in packages))
        verb = (
            ["pip", "sync", str(reqs)]
            if synced
            else ["pip", "install", "--no-deps", "-r", str(reqs)]
        )
        args = [*verb, "--python", str(python), "--require-hashes", "--quiet"]
        offline = True
        done = _run([*args, "--offline"])
        if done.returncode != 0:
            offline = False  # something is not in uv's cache yet: fetch it
            done = _run(args)
    if done.returncode != 0:
        raise PypiError(
            f"{env}: installing the PyPI layer into {prefix} failed:\n"
            f"{condense_uv_error(done.stderr)}",
            "check network access to the index, or warm uv's cache where it is reachable",
        )
    return offline


def installed_distributions(prefix: Path) -> dict[str, str] | None:
    """{normalised name: version} of what the prefix's Python sees, None without a Python."""
    import json

    python = prefix / "bin" / "python"
    if not python.exists():
        return None
    done = _run(["pip", "list", "--python", str(python), "--format", "json", "--quiet"])
    if done.returncode != 0:
        raise PypiError(
            f"cannot list the Python packages of {prefix}: {condense_uv_error(done.stderr)}",
            "check that the prefix's Python runs",
        )
    return {normalize_pypi_name(d["name"]): d["version"] for d in json.loads(done.stdout)}


def _create_venv(prefix: Path, interpreter: Path, environment: str) -> None:
    venv = ["venv", "--python", str(interpreter), "--no-python-downloads", "--relocatable"]
    done = _run([*venv, "--quiet", str(prefix)])
    if done.returncode != 0:
        raise PypiError(
            f"{environment}: uv venv {prefix} failed: {condense_uv_error(done.stderr)}",
            "check the interpreter and that the prefix's parent is writable",
        )
