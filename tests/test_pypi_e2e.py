"""End to end with real interpreters and real PyPI packages: a Python 3.12 lab starts a
Python 3.11 payload kernel.

Both environments are PyPI-only: locked with uv, installed by ``twinlock install``
(uv venvs) into prefixes under a temporary directory (the composition's prefixes
point there, so the kernelspec's absolute launch command is real), the payload's
``kernel:`` written into the lab prefix; then the lab's own Python starts the
payload kernel through that kernelspec with jupyter_client and runs code in it.

Needs network access to PyPI (or a warm uv cache) and Python 3.11 and 3.12 on
the machine (PATH, uv, or pyenv); skips cleanly when an interpreter is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ProjectFactory
from twinlock.app import install as deploy
from twinlock.app.lock import run_lock
from twinlock.errors import InterpreterError
from twinlock.pypi.uv import find_interpreter, uv_bin

pytestmark = pytest.mark.slow

# Run by the lab's Python: start the payload kernel through its kernelspec and ask it.
_DRIVER = textwrap.dedent(
    """
    import json, sys
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    ksm = KernelSpecManager(kernel_dirs=[sys.argv[1]], ensure_native_kernel=False)
    km = KernelManager(kernel_name="rubin", kernel_spec_manager=ksm)
    km.start_kernel()
    kc = km.client()
    try:
        kc.start_channels()
        kc.wait_for_ready(timeout=90)
        asks = {
            "python": "'%d.%d.%d' % sys.version_info[:3]",
            "numpy": "numpy.__version__",
            "executable": "sys.executable",
            "product": "int(numpy.arange(5).sum())",
        }
        msg_id = kc.execute("import sys, numpy", user_expressions=asks)
        reply = kc.get_shell_msg(timeout=90)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=90)
        content = reply["content"]
        shown = []  # what the notebook shows under the cell: streams and errors
        while True:
            msg = kc.get_iopub_msg(timeout=90)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                shown.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                shown.append(msg["content"]["ename"] + ": " + msg["content"]["evalue"])
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        answers = {
            k: v["data"]["text/plain"].strip("'")
            for k, v in content.get("user_expressions", {}).items()
            if v.get("status") == "ok"
        }
        print(json.dumps({
            "status": content["status"],
            "lab": "%d.%d.%d" % sys.version_info[:3],
            "kernel": answers,
            "specs": sorted(ksm.find_kernel_specs()),
            "shown": "".join(shown),
        }))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    """
)


def _interpreter_or_skip(version: str) -> Path:
    try:
        return find_interpreter("e2e", version)
    except InterpreterError as exc:
        pytest.skip(f"no Python {version} on this machine: {exc.message}")


def _composition(root: Path) -> dict[str, object]:
    return {
        "name": "twins",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "environments": {
            "lab": {
                "prefix": str(root / "opt" / "lab"),
                "python": "3.12",
                # ipykernel: the launcher's fallback kernel runs on the lab's Python
                "pypi": ["jupyter_client", "jupyter_server", "ipykernel"],
            },
            "payload": {
                "prefix": str(root / "opt" / "payload"),
                "python": "3.11",
                "pypi": ["ipykernel", "numpy"],
                "kernel": {"name": "rubin", "display-name": "Payload (Python 3.11)", "lab": "lab"},
            },
        },
    }


def _run_driver(lab_python: Path, kernels: Path, tmp: Path) -> dict[str, object]:
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp / "data"),
        "IPYTHONDIR": str(tmp / "ipython"),
        "PYTHONNOUSERSITE": "1",
    }
    # Own session: on a timeout the whole group (driver and kernel) is killed.
    proc = subprocess.Popen(
        [str(lab_python), "-c", _DRIVER, str(kernels)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the lab's driver did not finish within 240 s")
    assert proc.returncode == 0, err
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def test_lab_312_starts_payload_311_kernel(make_project: ProjectFactory, tmp_path: Path) -> None:
    _interpreter_or_skip("3.12")
    _interpreter_or_skip("3.11")
    root = tmp_path / "root"
    project = make_project(_composition(root))

    report = run_lock(project)
    locks = project.read_locks()
    payload_numpy = locks["payload"].platforms[0].pypi_package("numpy")
    assert payload_numpy is not None
    assert locks["lab"].platforms[0].pypi_package("jupyter-client") is not None
    assert {s.pypi > 0 for s in report.result.summaries} == {True}

    report = deploy.run_install(project, root=Path("/"), platform="linux-64")
    assert report.results == ()  # no conda layer anywhere
    assert [(r.prefix, r.created) for r in report.pypi] == [
        (root / "opt" / "lab", True),
        (root / "opt" / "payload", True),
    ]
    kernel_json = root / "opt" / "lab" / "share" / "jupyter" / "kernels" / "rubin" / "kernel.json"
    assert kernel_json in report.kernel_files
    assert deploy.run_verify(project, root=Path("/"), platform="linux-64") == []

    lab_python = root / "opt" / "lab" / "bin" / "python"
    answer = _run_driver(
        lab_python, root / "opt" / "lab" / "share" / "jupyter" / "kernels", tmp_path
    )

    assert answer["status"] == "ok"
    assert str(answer["lab"]).startswith("3.12.")
    kernel = answer["kernel"]
    assert isinstance(kernel, dict)
    assert kernel["python"].startswith("3.11.")
    assert kernel["numpy"] == payload_numpy.version
    assert kernel["executable"].startswith(str(root / "opt" / "payload"))
    assert kernel["product"] == "10"
    assert "rubin" in answer["specs"]  # beside the lab ipykernel's own python3
    assert answer["shown"] == ""  # a sound payload starts silently

    kernels = root / "opt" / "lab" / "share" / "jupyter" / "kernels"
    payload = root / "opt" / "payload"
    # A user's install into the payload: the kernel still starts, and the first cell says so.
    site = next(payload.glob("lib/python3.*/site-packages"))
    (site / "evil-1.0.dist-info").mkdir()
    (site / "evil-1.0.dist-info" / "METADATA").write_text("Name: evil\nVersion: 1.0\n")
    drifted = _run_driver(lab_python, kernels, tmp_path)
    assert drifted["status"] == "ok" and drifted["kernel"]["numpy"] == payload_numpy.version
    assert "twinlock: " in drifted["shown"] and "+evil-1.0.dist-info/RECORD" in drifted["shown"]
    assert "twinlock verify" in drifted["shown"]
    shutil.rmtree(site / "evil-1.0.dist-info")
    # No payload at all: a fallback kernel that explains, instead of a dead kernel.
    payload.rename(payload.with_name("payload-gone"))
    missing = _run_driver(lab_python, kernels, tmp_path)
    payload.with_name("payload-gone").rename(payload)
    assert missing["status"] == "error"
    assert "the payload environment is missing" in str(missing["shown"])

    # Drift after a user uninstall is reported; a rerun repairs it from uv's cache.
    subprocess.run(
        [uv_bin(), "pip", "uninstall", "--python", str(lab_python), "tornado", "--quiet"],
        check=True,
    )
    drift = deploy.run_verify(project, root=Path("/"), platform="linux-64")
    assert [(d.environment, d.kind, d.detail.split()[0]) for d in drift] == [
        ("lab", "missing", "tornado")
    ]
    again = deploy.run_install(project, root=Path("/"), platform="linux-64")
    assert [(r.created, r.offline) for r in again.pypi] == [(False, True), (False, True)]
    assert deploy.run_verify(project, root=Path("/"), platform="linux-64") == []
