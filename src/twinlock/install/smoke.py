"""Smoke tests of installed environments (``twinlock test``): what to run, and running it.

Each environment's lock records its ``tests:`` (so a maintenance rebuild carries
the historical image's tests along). A check is an argv run in a subprocess with
the prefix's ``bin`` first on PATH; a kernel check runs :data:`KERNEL_DRIVER` with
the lab's Python, which starts the kernel through the lab's kernelspec with
jupyter_client and runs code in it, exactly as JupyterLab would.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from twinlock.model.composition import Environment, SmokeTests

TIMEOUT_SECONDS = 300
_OUTPUT_LIMIT = 2000

# Run by the lab's Python: argv = kernels dir, kernel name. Prints "ok <prefix>" or the error.
KERNEL_DRIVER = """
import sys
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

ksm = KernelSpecManager(kernel_dirs=[sys.argv[1]], ensure_native_kernel=False)
km = KernelManager(kernel_name=sys.argv[2], kernel_spec_manager=ksm)
km.start_kernel()
kc = km.client()
try:
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    msg_id = kc.execute("import sys", user_expressions={"prefix": "sys.prefix"})
    reply = kc.get_shell_msg(timeout=120)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=120)
    content = reply["content"]
    if content["status"] != "ok":
        print(content.get("ename", ""), content.get("evalue", ""))
        sys.exit(1)
    print("ok", content["user_expressions"]["prefix"]["data"]["text/plain"])
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
"""


@dataclass(frozen=True)
class SmokeCheck:
    """One check to run, and (once run) how it went."""

    environment: str
    kind: str  # "import" | "command" | "kernel"
    subject: str
    argv: tuple[str, ...]
    ok: bool | None = None  # None: not run (skipped, with the reason as output)
    output: str = ""
    seconds: float = 0.0


def plan_checks(
    env: Environment,
    tests: SmokeTests,
    prefix: Path,
    *,
    lab_prefix: Path | None,
    kernels_at_real_paths: bool,
) -> list[SmokeCheck]:
    """The checks of *env* installed at *prefix* (its lab at *lab_prefix*)."""
    python = str(prefix / "bin" / "python")
    out = [
        SmokeCheck(env.name, "import", module, (python, "-c", f"import {module}"))
        for module in tests.imports
    ]
    out += [SmokeCheck(env.name, "command", " ".join(c), c) for c in tests.commands]
    if tests.kernel and env.kernel is not None:
        kernels = (lab_prefix or prefix) / "share" / "jupyter" / "kernels"
        argv = (str((lab_prefix or prefix) / "bin" / "python"), "-c", KERNEL_DRIVER)
        check = SmokeCheck(
            env.name, "kernel", env.kernel.name, (*argv, str(kernels), env.kernel.name)
        )
        if not kernels_at_real_paths:
            why = "skipped: a kernelspec names image paths; run with --root / in the image"
            check = SmokeCheck(env.name, "kernel", env.kernel.name, check.argv, None, why)
        out.append(check)
    return out


def run_check(check: SmokeCheck, prefix: Path, environ: Mapping[str, str]) -> SmokeCheck:
    """Run *check* with *prefix*'s ``bin`` first on PATH; keep the end of its output."""
    if check.ok is None and check.output:
        return check  # skipped when planned
    env = {
        **environ,
        "PATH": f"{prefix / 'bin'}{os.pathsep}{environ.get('PATH', '')}",
        "CONDA_PREFIX": str(prefix),
    }
    start = time.perf_counter()
    try:
        done = subprocess.run(
            list(check.argv),
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
        ok, output = done.returncode == 0, (done.stdout + done.stderr).strip()
    except FileNotFoundError as exc:
        ok, output = False, f"cannot run {check.argv[0]}: {exc.strerror}"
    except subprocess.TimeoutExpired:
        ok, output = False, f"did not finish within {TIMEOUT_SECONDS} s"
    return SmokeCheck(
        check.environment,
        check.kind,
        check.subject,
        check.argv,
        ok,
        output[-_OUTPUT_LIMIT:],
        time.perf_counter() - start,
    )
