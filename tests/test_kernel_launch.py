"""The kernel launcher: the drift it reports, and what it execs (no Jupyter needed).

The end-to-end check with real kernels is in test_pypi_e2e.py; here the payload's
``bin/python`` is a stand-in script that records how it was started.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from twinlock.install import launcher

Change = Callable[[Path], None]


def _prefix(root: Path) -> Path:
    prefix = root / "payload"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "conda-meta" / "numpy-2.1.0-py311_0.json").write_text("{}")
    dist = prefix / "lib/python3.11/site-packages/astropy-7.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "RECORD").write_text("astropy/__init__.py,,\n")
    return prefix


def _stamp(prefix: Path, digest: str = "d1") -> None:
    (prefix / ".twinlock").mkdir(exist_ok=True)
    stamp = {"lock_digest": digest, "fingerprint": launcher.fingerprint(str(prefix))}
    (prefix / launcher.STAMP).write_text(json.dumps(stamp))


def _add_dist(prefix: Path) -> None:
    extra = prefix / "lib/python3.11/site-packages/evil-1.0.dist-info"
    extra.mkdir()
    (extra / "METADATA").write_text("x")


def _grow_record(prefix: Path) -> None:
    with (prefix / "lib/python3.11/site-packages/astropy-7.0.dist-info/RECORD").open("a") as f:
        f.write("astropy/evil.py,,\n")


def _drop_record(prefix: Path) -> None:
    (prefix / "conda-meta" / "numpy-2.1.0-py311_0.json").unlink()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(lambda p: None, None, id="unchanged"),
        pytest.param(_add_dist, "(+evil-1.0.dist-info/RECORD)", id="pip-install"),
        pytest.param(_grow_record, "(+astropy-7.0.dist-info/RECORD, -astropy", id="reinstall"),
        pytest.param(_drop_record, "(-numpy-2.1.0-py311_0.json)", id="conda-remove"),
    ],
)
def test_drift_is_described(tmp_path: Path, change: Change, expected: str | None) -> None:
    prefix = _prefix(tmp_path)
    _stamp(prefix)
    change(prefix)
    stamp = json.loads((prefix / launcher.STAMP).read_text())
    found = launcher.describe_drift(stamp, "d1", str(prefix))
    assert (found is None) if expected is None else expected in (found or "")


def test_another_lock_is_drift(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    _stamp(prefix, digest="old")
    stamp = json.loads((prefix / launcher.STAMP).read_text())
    assert "installed from another lock" in (launcher.describe_drift(stamp, "new", "p") or "")


def _kernel(tmp_path: Path, prefix: Path) -> Path:
    """A kernel dir with the launcher and a kernel.json, and a payload python that records."""
    kdir = tmp_path / "kernels" / "payload"
    kdir.mkdir(parents=True)
    shutil.copy(launcher.__file__, kdir / "twinlock-launch.py")
    meta = {"prefix": str(prefix), "lock_digest": "d1"}
    (kdir / "kernel.json").write_text(json.dumps({"metadata": {"twinlock": meta}}))
    if prefix.is_dir():
        python = prefix / "bin" / "python"
        python.parent.mkdir(exist_ok=True)
        record = tmp_path / "started.json"
        python.write_text(
            f"#!{sys.executable}\nimport json, os, sys\n"
            f"json.dump({{'argv': sys.argv[1:], 'warning': os.environ.get("
            f"'{launcher.WARNING_VARIABLE}')}}, open({str(record)!r}, 'w'))\n"
        )
        python.chmod(0o755)
    return kdir / "twinlock-launch.py"


def _launch(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", str(script), "/run/conn.json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_sound_payload_is_started_silently(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    script = _kernel(tmp_path, prefix)
    _stamp(prefix)
    done = _launch(script)
    assert done.returncode == 0 and done.stderr == ""
    started = json.loads((tmp_path / "started.json").read_text())
    assert started == {
        "argv": ["-m", "ipykernel_launcher", "-f", "/run/conn.json"],
        "warning": None,
    }


def test_drifted_payload_starts_with_a_warning(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    script = _kernel(tmp_path, prefix)
    _stamp(prefix)
    _add_dist(prefix)
    done = _launch(script)
    started = json.loads((tmp_path / "started.json").read_text())
    assert started["argv"][:4] == ["-m", "ipykernel_launcher", "-f", "/run/conn.json"]
    assert started["argv"][4].startswith("--IPKernelApp.exec_lines=")
    assert "+evil-1.0.dist-info/RECORD" in started["warning"]
    assert "twinlock verify" in started["warning"] and "twinlock: " in done.stderr


def test_unstamped_payload_is_drift(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    script = _kernel(tmp_path, prefix)
    _launch(script)
    started = json.loads((tmp_path / "started.json").read_text())
    assert "was not installed by twinlock install" in started["warning"]


def test_missing_payload_without_lab_ipykernel_says_why(tmp_path: Path) -> None:
    script = _kernel(tmp_path, tmp_path / "gone")
    done = _launch(script)
    if done.returncode == 0:
        pytest.skip("this Python has ipykernel: the fallback kernel ran (see test_pypi_e2e)")
    assert done.returncode == 1
    assert "the payload environment is missing" in done.stderr


def test_launcher_parses_as_python_38() -> None:
    """The launcher is copied into labs of any age and runs with their Python."""
    source = Path(launcher.__file__).read_text()
    ast.parse(source, feature_version=(3, 8))


def test_fingerprint_skips_what_is_not_a_site_packages(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    (prefix / "lib/python-prefix.txt").write_text("a file whose name starts with python")
    assert sorted(launcher.fingerprint(str(prefix))) == [
        "conda-meta",
        "lib/python3.11/site-packages",
    ]
