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
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ProjectFactory
from twinlock.app import install as deploy
from twinlock.app.lock import run_lock
from twinlock.app.project import Project
from twinlock.app.smoke import run_smoke_tests
from twinlock.app.verify import run_verify
from twinlock.errors import InterpreterError
from twinlock.pypi.uv import find_interpreter, uv_bin

pytestmark = pytest.mark.slow
SUM_CHECK = "import numpy; assert numpy.arange(5).sum() == 10"

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
        code = sys.argv[2] if len(sys.argv) > 2 else "import sys, numpy"
        msg_id = kc.execute(code, user_expressions=asks)
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
                "tests": {"imports": ["jupyter_client", "jupyter_server"]},
            },
            "payload": {
                "prefix": str(root / "opt" / "payload"),
                "python": "3.11",
                "pypi": ["ipykernel", "numpy"],
                "kernel": {"name": "rubin", "display-name": "Payload (Python 3.11)", "lab": "lab"},
                "tests": {
                    "imports": ["numpy", "ipykernel"],
                    "commands": [
                        ["python", "-c", "import numpy; assert numpy.arange(5).sum() == 10"]
                    ],
                    "kernel": True,
                },
            },
        },
    }


def _user_env(tmp: Path) -> dict[str, str]:
    """A user of the lab: their own home; the user site on (nothing switches it off)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONNOUSERSITE", "PYTHONUSERBASE")}
    return {
        **env,
        "HOME": str(tmp / "home"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp / "data"),
        "IPYTHONDIR": str(tmp / "ipython"),
    }


def _run_driver(
    lab_python: Path, kernels: Path, tmp: Path, code: str | None = None
) -> dict[str, object]:
    # Own session: on a timeout the whole group (driver and kernel) is killed.
    proc = subprocess.Popen(
        [str(lab_python), "-c", _DRIVER, str(kernels), *([code] if code else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_user_env(tmp),
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
    assert run_verify(project, root=Path("/"), platform="linux-64") == []

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
    _user_installs_cannot_break_the_lab(project, root, tmp_path)
    smoke = run_smoke_tests(project, root=Path("/"), platform="linux-64")
    assert [(c.environment, c.kind, c.subject, c.ok) for c in smoke.checks] == [
        ("lab", "import", "jupyter_client", True),
        ("lab", "import", "jupyter_server", True),
        ("payload", "import", "numpy", True),
        ("payload", "import", "ipykernel", True),
        ("payload", "command", f"python -c {SUM_CHECK}", True),
        ("payload", "kernel", "rubin", True),
    ]
    assert str(root / "opt" / "payload") in smoke.checks[-1].output  # code ran in the payload

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
    drift = run_verify(project, root=Path("/"), platform="linux-64")
    assert [(d.environment, d.kind, d.detail.split()[0]) for d in drift] == [
        ("lab", "missing", "tornado")
    ]
    again = deploy.run_install(project, root=Path("/"), platform="linux-64")
    assert [(r.created, r.offline) for r in again.pypi] == [(False, True), (False, True)]
    assert run_verify(project, root=Path("/"), platform="linux-64") == []
    # A module removed from the payload: twinlock test says which one, and how it failed.
    shutil.rmtree(next(payload.glob("lib/python3.*/site-packages/numpy")))
    broken = run_smoke_tests(project, root=Path("/"), environments=["payload"], platform="linux-64")
    failed = {(c.kind, c.subject): c.output for c in broken.failed}
    assert "No module named 'numpy'" in failed[("import", "numpy")]
    assert ("kernel", "rubin") not in failed  # the kernel itself still starts


def _user_installs_cannot_break_the_lab(project: Project, root: Path, tmp: Path) -> None:
    """pip install --user with the lab's Python cannot shadow the lab server's modules; a user
    install from the payload kernel lands in the kernel's own user base, not in the lab."""
    lab_python = root / "opt" / "lab" / "bin" / "python"
    kernels = root / "opt" / "lab" / "share" / "jupyter" / "kernels"
    env = _user_env(tmp)
    lab_user_site = subprocess.run(
        [str(lab_python), "-c", "import site; print(site.getusersitepackages())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    broken = Path(lab_user_site) / "jupyter_client"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('broken by a user install')\n")
    imported = subprocess.run(
        [
            str(lab_python),
            "-c",
            "import jupyter_client, jupyter_server; print(jupyter_client.__file__)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith(str(root / "opt" / "lab"))
    # the same breakage does not reach the lab's drive of the kernel either
    write = (
        "import os, site\nd = site.getusersitepackages()\nos.makedirs(d, exist_ok=True)\n"
        "open(os.path.join(d, 'usermod_twinlock.py'), 'w').write('X = 42\\n')\nprint(d)"
    )
    wrote = _run_driver(lab_python, kernels, tmp, write)
    assert wrote["status"] == "ok"
    own_base = tmp / "home" / ".local" / "twinlock" / "payload"
    assert str(wrote["shown"]).strip().startswith(str(own_base))
    # A venv payload (this test's PyPI-only one) never puts a user site on sys.path (venv
    # rule); a conda payload's Python does, from the kernel's own base: shown here with a
    # plain interpreter given the kernelspec's environment.
    spec = json.loads((kernels / "rubin" / "kernel.json").read_text())
    kernel_env = {**env, **{k: v.replace("${HOME}", env["HOME"]) for k, v in spec["env"].items()}}
    plain = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.base_prefix)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    base_python = Path(plain, "bin", "python3")
    version = subprocess.run(
        [str(base_python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    mirrored = own_base / "lib" / f"python{version}" / "site-packages"
    mirrored.mkdir(parents=True, exist_ok=True)
    written = next(own_base.rglob("usermod_twinlock.py"))
    if written.parent != mirrored:  # the test's interpreter may be another minor version
        shutil.copy(written, mirrored)
    used = subprocess.run(
        [str(base_python), "-c", "import usermod_twinlock as m; print(m.X)"],
        env=kernel_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert used.stdout.strip() == "42", used.stderr
    in_lab = subprocess.run(
        [str(lab_python), "-c", "import usermod_twinlock"],
        env=env,
        capture_output=True,
        check=False,
    )
    assert in_lab.returncode != 0
    shutil.rmtree(broken)
