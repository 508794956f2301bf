"""Jupyter kernel wiring between side-by-side environments (pure).

An environment with a ``kernel:`` key is offered as a kernel inside another
environment, the *lab*: a kernelspec in the lab prefix
(``share/jupyter/kernels/<name>/kernel.json``) starts the payload's own Python.
When asked, a jupyter_server config file in the lab prefix
(``etc/jupyter/jupyter_server_config.d/twinlock.json``) restricts the kernel
list to the wired kernels (``KernelSpecManager.allowed_kernelspecs``) and stops
jupyter from adding the lab's own Python (``ensure_native_kernel``).

This module only computes file contents and warnings; the install workflow
writes them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from types import MappingProxyType

from twinlock.composition import Composition, Environment, Kernel
from twinlock.errors import Problems, did_you_mean
from twinlock.lockmodel import EnvironmentLock

KERNEL_KEYS = ("name", "display-name", "lab", "env", "argv", "hide-native")
SERVER_CONFIG = "etc/jupyter/jupyter_server_config.d/twinlock.json"


@dataclass(frozen=True)
class KernelFile:
    """A file to write into the lab prefix (path relative to that prefix)."""

    lab: str
    path: str
    text: str


def kernel_argv(kernel: Kernel, payload_prefix: str) -> list[str]:
    if kernel.argv:
        return list(kernel.argv)
    python = str(PurePosixPath(payload_prefix) / "bin" / "python")
    return [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def kernelspec(kernel: Kernel, payload_prefix: str) -> dict[str, object]:
    """The kernel.json content that starts the payload's Python."""
    spec: dict[str, object] = {
        "argv": kernel_argv(kernel, payload_prefix),
        "display_name": kernel.display_name,
        "language": "python",
        "metadata": {"debugger": True, "twinlock": {"prefix": payload_prefix}},
    }
    if kernel.env:
        spec["env"] = dict(sorted(kernel.env.items()))
    return spec


def server_config(kernel_names: list[str]) -> dict[str, object]:
    """jupyter_server config allowing only *kernel_names* and no native Python kernel."""
    return {
        "KernelSpecManager": {
            "allowed_kernelspecs": sorted(kernel_names),
            "ensure_native_kernel": False,
        }
    }


def kernel_files(composition: Composition) -> list[KernelFile]:
    """Every kernelspec and server config file the composition asks for, per lab."""
    out: list[KernelFile] = []
    wired: dict[str, list[str]] = {}
    hiding: set[str] = set()
    for env in composition.environments:
        kernel = env.kernel
        if kernel is None:
            continue
        spec = kernelspec(kernel, env.prefix)
        path = f"share/jupyter/kernels/{kernel.name}/kernel.json"
        out.append(KernelFile(kernel.lab, path, _json(spec)))
        wired.setdefault(kernel.lab, []).append(kernel.name)
        if kernel.hide_native:
            hiding.add(kernel.lab)
    # The allow-list must name every kernel wired into that lab, not only the hiding ones.
    for lab in sorted(hiding):
        out.append(KernelFile(lab, SERVER_CONFIG, _json(server_config(wired[lab]))))
    return out


def _json(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def kernel_warnings(composition: Composition, locks: Mapping[str, EnvironmentLock]) -> list[str]:
    """Warnings for kernel environments whose lock lacks ipykernel on some platform."""
    warnings: list[str] = []
    for env in composition.environments:
        lock = locks.get(env.name)
        if env.kernel is None or lock is None or env.kernel.argv:
            continue
        missing = [
            p.platform
            for p in lock.platforms
            if p.package("ipykernel") is None and p.pypi_package("ipykernel") is None
        ]
        if missing:
            warnings.append(_missing_ipykernel(env, missing))
    return warnings


def _missing_ipykernel(env: Environment, platforms: list[str]) -> str:
    return (
        f"{env.name} is wired as kernel '{env.kernel.name if env.kernel else ''}' but its lock "
        f"has no ipykernel on {', '.join(platforms)}: the kernel will not start "
        f"(add ipykernel to {env.name}'s requirements)"
    )


def parse_kernel(value: object, key: str, problems: Problems) -> Kernel | None:
    """The ``kernel:`` mapping of an environment (problems are collected, not raised)."""
    body = problems.mapping(value, key)
    if body is None:
        return None
    problems.unknown_keys(body, KERNEL_KEYS, key)
    texts = {}
    for field in ("name", "display-name", "lab"):
        text = body.get(field)
        if not isinstance(text, str) or not text:
            problems.add(f"{key}.{field}", "missing or empty", f"set '{field}' to a string")
        texts[field] = text if isinstance(text, str) else ""
    if texts["name"] and not texts["name"].replace("-", "").replace("_", "").isalnum():
        problems.add(f"{key}.name", f"'{texts['name']}' is not a valid kernel name", "e.g. payload")
    env = problems.mapping(body.get("env", {}), f"{key}.env") or {}
    argv = problems.string_list(body.get("argv", []), f"{key}.argv") or []
    if argv and "{connection_file}" not in argv:
        problems.add(
            f"{key}.argv", "does not pass {connection_file}", "add '-f', '{connection_file}'"
        )
    hide = body.get("hide-native", True)
    if not isinstance(hide, bool):
        problems.add(f"{key}.hide-native", f"expected true or false, got {hide!r}", "")
    return Kernel(
        name=texts["name"],
        display_name=texts["display-name"],
        lab=texts["lab"],
        env=MappingProxyType({str(k): str(v) for k, v in env.items()}),
        argv=tuple(argv),
        hide_native=hide is not False,
    )


def check_kernels(envs: list[Environment], problems: Problems) -> None:
    """A kernel names another environment of the composition, and kernel names are unique."""
    names = [e.name for e in envs]
    seen: dict[str, str] = {}
    for env in envs:
        if env.kernel is None:
            continue
        key = f"environments.{env.name}.kernel"
        if env.kernel.lab and env.kernel.lab not in names:
            problems.add(
                f"{key}.lab",
                f"no environment named '{env.kernel.lab}' "
                f"{did_you_mean(env.kernel.lab, names)}".rstrip(),
                f"name the lab environment, one of: {', '.join(names)}",
            )
        elif env.kernel.lab == env.name:
            problems.add(f"{key}.lab", "an environment cannot host its own kernel", "name the lab")
        if env.kernel.name in seen:
            problems.add(
                f"{key}.name",
                f"kernel name '{env.kernel.name}' is also used by '{seen[env.kernel.name]}'",
                "give every kernel its own name",
            )
        seen[env.kernel.name] = env.name
