"""Jupyter kernel wiring between side-by-side environments (pure).

An environment with a ``kernel:`` key is offered as a kernel inside another
environment, the *lab*: a kernelspec in the lab prefix
(``share/jupyter/kernels/<name>/kernel.json``) runs twinlock's launcher
(:mod:`twinlock.install.launcher`, copied beside it) with the lab's Python; the
launcher checks the payload prefix against the stamp install left there and
execs the payload's own Python kernel. The kernelspec's ``metadata.twinlock``
names the composition, environment, prefix, lock digest and payload.
When asked, a jupyter_server config file in the lab prefix
(``etc/jupyter/jupyter_server_config.d/twinlock.json``) restricts the kernel
list to the wired kernels (``KernelSpecManager.allowed_kernelspecs``) and stops
jupyter from adding the lab's own Python (``ensure_native_kernel``).

This module only computes file contents (and reads a prefix for its stamp); the
install workflow writes them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from twinlock.install.launcher import fingerprint
from twinlock.model.composition import Composition, Environment, Kernel
from twinlock.model.lock import EnvironmentLock, PlatformLock

SERVER_CONFIG = "etc/jupyter/jupyter_server_config.d/twinlock.json"


@dataclass(frozen=True)
class KernelFile:
    """A file to write into the lab prefix (path relative to that prefix)."""

    lab: str
    path: str
    text: str


LAUNCHER = "twinlock-launch.py"
NO_USER_SITE = "00-twinlock-no-user-site.pth"
# A .pth line starting with "import" runs at start-up, after the user site was added
# (it comes first on sys.path): take it off again, so nothing a user installed with
# "pip install --user" can shadow the lab server's own modules.
_NO_USER_SITE_LINE = (
    "import site, sys; sys.path[:] = [p for p in sys.path "
    "if not (site.ENABLE_USER_SITE and p.startswith(site.getuserbase()))]\n"
)
_NOT_THE_PAYLOAD = {"python", "ipykernel", "pip"}


def kernel_dir(kernel: Kernel) -> str:
    return f"share/jupyter/kernels/{kernel.name}"


def kernel_argv(kernel: Kernel, payload_prefix: str, lab_prefix: str) -> list[str]:
    """The launch command: the lab's Python runs twinlock's launcher, which checks the
    payload and then execs its kernel (a ``kernel: argv:`` of the composition wins)."""
    if kernel.argv:
        return list(kernel.argv)
    lab = PurePosixPath(lab_prefix)
    launcher = lab / kernel_dir(kernel) / LAUNCHER
    return [str(lab / "bin" / "python"), "-I", str(launcher), "{connection_file}"]


def lock_digest(plat: PlatformLock) -> str:
    """A digest of exactly what a platform's lock installs (conda and PyPI artifacts)."""
    rows = [f"conda {p.name} {p.version} {p.build} {p.sha256 or p.md5}" for p in plat.packages]
    rows += [f"pypi {p.name} {p.version} {p.sha256}" for p in plat.pypi]
    return hashlib.sha256("\n".join(sorted(rows)).encode()).hexdigest()


def payload_label(env: Environment, plat: PlatformLock) -> str:
    """What the kernel offers, for people: the first requested package with its locked
    version (``rubin-env 9.0.0``), else the Python version."""
    for req in (*env.requirements, *env.pypi):
        if req.name in _NOT_THE_PAYLOAD:
            continue
        pkg = plat.package(req.name) or plat.pypi_package(req.name)
        if pkg is not None:
            return f"{pkg.name} {pkg.version}"
    python = plat.package("python")
    return f"python {python.version}" if python else env.name


def kernelspec(
    kernel: Kernel, payload: Environment, lab: Environment, metadata: Mapping[str, str]
) -> dict[str, object]:
    """The kernel.json content: the launch command and twinlock's metadata about the payload."""
    spec: dict[str, object] = {
        "argv": kernel_argv(kernel, payload.prefix, lab.prefix),
        "display_name": kernel.display_name,
        "language": "python",
        "metadata": {"debugger": True, "twinlock": dict(metadata)},
    }
    env = {**user_site_env(kernel, payload.name), **kernel.env}
    if env:
        spec["env"] = dict(sorted(env.items()))
    return spec


def user_site_env(kernel: Kernel, environment: str) -> dict[str, str]:
    """The kernel's own user base, so ``pip install --user`` in a notebook lands there and
    nowhere the lab or another kernel of the same Python version looks. jupyter_client
    expands ``${HOME}`` when it starts the kernel; an empty PYTHONNOUSERSITE switches the
    user site back on for the kernel if the lab server runs with it off."""
    if not kernel.isolate_user_site:
        return {}
    return {
        "PYTHONUSERBASE": "${HOME}/" + user_base(environment),
        "PYTHONNOUSERSITE": "",
    }


def user_base(environment: str) -> str:
    """A kernel environment's user base, relative to the home directory."""
    return f".local/twinlock/{environment}"


def no_user_site_pth(python_version: str) -> str:
    """Where the lab's ``.pth`` that drops the user site goes (relative to the lab prefix)."""
    major_minor = ".".join(python_version.split(".")[:2])
    return f"lib/python{major_minor}/site-packages/{NO_USER_SITE}"


def server_config(kernel_names: list[str]) -> dict[str, object]:
    """jupyter_server config allowing only *kernel_names* and no native Python kernel."""
    return {
        "KernelSpecManager": {
            "allowed_kernelspecs": sorted(kernel_names),
            "ensure_native_kernel": False,
        }
    }


def kernel_files(
    composition: Composition, locks: Mapping[str, EnvironmentLock], platform: str
) -> list[KernelFile]:
    """Every kernelspec, launcher and server config file the composition asks for, per lab.

    Environments without a lock for *platform* get no kernel (install refuses them anyway).
    """
    out: list[KernelFile] = []
    wired: dict[str, list[str]] = {}
    hiding: set[str] = set()
    launcher = resources.files("twinlock.install").joinpath("launcher.py").read_text()
    for env in composition.environments:
        kernel = env.kernel
        lock = locks.get(env.name)
        plat = lock.platform(platform) if lock else None
        if kernel is None or plat is None:
            continue
        metadata = {
            "composition": composition.name,
            "environment": env.name,
            "prefix": env.prefix,
            "lock_digest": lock_digest(plat),
            "payload": payload_label(env, plat),
        }
        spec = kernelspec(kernel, env, composition.environment(kernel.lab), metadata)
        out.append(KernelFile(kernel.lab, f"{kernel_dir(kernel)}/kernel.json", _json(spec)))
        if not kernel.argv:
            out.append(KernelFile(kernel.lab, f"{kernel_dir(kernel)}/{LAUNCHER}", launcher))
        wired.setdefault(kernel.lab, []).append(kernel.name)
        if kernel.hide_native:
            hiding.add(kernel.lab)
    # The allow-list must name every kernel wired into that lab, not only the hiding ones.
    for lab in sorted(hiding):
        out.append(KernelFile(lab, SERVER_CONFIG, _json(server_config(wired[lab]))))
    return out + _lab_isolation(composition, locks, platform)


def _lab_isolation(
    composition: Composition, locks: Mapping[str, EnvironmentLock], platform: str
) -> list[KernelFile]:
    """The no-user-site ``.pth`` for every lab hosting a kernel that isolates user sites."""
    labs = {
        e.kernel.lab for e in composition.environments if e.kernel and e.kernel.isolate_user_site
    }
    out = []
    for lab in sorted(labs):
        lock = locks.get(lab)
        plat = lock.platform(platform) if lock else None
        python = plat.package("python") if plat else None
        version = python.version if python else (lock.python if lock else None)
        if version:
            out.append(KernelFile(lab, no_user_site_pth(version), _NO_USER_SITE_LINE))
    return out


def stamp_text(plat: PlatformLock, prefix_path: Path) -> str:
    """The stamp install leaves in a kernel's prefix: its lock digest and what is installed."""
    stamp = {"lock_digest": lock_digest(plat), "fingerprint": fingerprint(str(prefix_path))}
    return json.dumps(stamp, indent=1, sort_keys=True) + "\n"


def _json(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"
