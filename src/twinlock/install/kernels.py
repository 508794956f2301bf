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
from dataclasses import dataclass
from pathlib import PurePosixPath

from twinlock.model.composition import Composition, Kernel

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
