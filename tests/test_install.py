"""Installing a locked two-environment composition from a home-built channel, end to end.

The channel is made of real (tiny) conda packages built by :mod:`condapkg`; the
composition is locked against it through a ``twinlock.toml`` mirror, so the locks
record canonical ``https://conda.anaconda.org/twinlock-test`` URLs and the install
must find every archive through the mirror (nothing is downloaded).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests import condapkg as cp
from tests.installfixtures import (
    CHANNEL,
    COMPOSITION,
    InstallProject,
    make_install_project,
    packages,
)
from twinlock.app import install as deploy
from twinlock.app.lock import run_lock
from twinlock.app.mirror import run_mirror
from twinlock.app.project import Project, open_project
from twinlock.app.verify import run_verify
from twinlock.cli.main import app
from twinlock.errors import InstallError
from twinlock.fileio import cache_dir
from twinlock.install import kernels, launcher
from twinlock.install import linker as installer
from twinlock.install.frozen import FROZEN_MARKER, frozen_drift

pytestmark = pytest.mark.slow
CANONICAL = f"https://conda.anaconda.org/{CHANNEL}"


def _open(ip: InstallProject, mirrors: list[str] | None = None) -> Project:
    return open_project(ip.composition, mirrors=mirrors or [], cwd=ip.root)


def _locked(tmp_path: Path, **kw: Any) -> tuple[InstallProject, Project]:
    ip = make_install_project(tmp_path, **kw)
    project = _open(ip)
    run_lock(project)
    return ip, project


@pytest.fixture
def installed(tmp_path: Path) -> tuple[Project, Path, deploy.InstallReport]:
    _, project = _locked(tmp_path)
    root = tmp_path / "root"
    report = deploy.run_install(project, root=root, platform="linux-64")
    return project, root, report


def _leftovers(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*") if ".twinlock-" in p.name]


def test_lock_records_canonical_urls(tmp_path: Path) -> None:
    _, project = _locked(tmp_path)
    locks = project.read_locks()
    urls = [p.url for lock in locks.values() for plat in lock.platforms for p in plat.packages]
    assert urls and all(u.startswith(f"{CANONICAL}/linux-64/") for u in urls)


def test_install_creates_both_prefixes_and_kernel(
    installed: tuple[Project, Path, deploy.InstallReport],
) -> None:
    _, root, report = installed
    assert [(r.environment, r.action, r.packages) for r in report.results] == [
        ("lab", "install", 3),
        ("payload", "install", 3),
    ]
    lab, payload = root / "opt/lab", root / "opt/payload"
    assert (lab / "conda-meta").is_dir() and (payload / "conda-meta").is_dir()
    assert (payload / "share/zlib/file0.txt").is_file()  # from the .tar.bz2 package
    spec = json.loads((lab / "share/jupyter/kernels/payload/kernel.json").read_text())
    kernel_dir = "/opt/lab/share/jupyter/kernels/payload"
    assert spec["argv"] == [
        "/opt/lab/bin/python",
        "-I",
        f"{kernel_dir}/twinlock-launch.py",
        "{connection_file}",
    ]
    assert (root / kernel_dir.lstrip("/") / "twinlock-launch.py").is_file()
    project = installed[0]
    plat = project.read_locks()["payload"].platform("linux-64")
    assert plat is not None
    assert spec["metadata"]["twinlock"] == {
        "composition": "duo",
        "environment": "payload",
        "prefix": "/opt/payload",
        "lock_digest": kernels.lock_digest(plat),
        "payload": spec["metadata"]["twinlock"]["payload"],
    }
    stamp = json.loads((payload / ".twinlock/stamp.json").read_text())
    assert stamp["lock_digest"] == kernels.lock_digest(plat)
    assert stamp["fingerprint"] == launcher.fingerprint(str(payload))
    assert spec["env"] == {
        "PAYLOAD_MODE": "science",
        "PYTHONNOUSERSITE": "",  # on again for the kernel, with a user base of its own
        "PYTHONUSERBASE": "${HOME}/.local/twinlock/payload",
    }
    assert spec["display_name"] == "Payload (Python 3.11)"
    config = json.loads((lab / kernels.SERVER_CONFIG).read_text())
    assert config["KernelSpecManager"] == {
        "allowed_kernelspecs": ["payload"],
        "ensure_native_kernel": False,
    }
    assert _leftovers(root) == []


def test_placeholder_is_rewritten_to_the_final_prefix(
    installed: tuple[Project, Path, deploy.InstallReport],
) -> None:
    """--root is a staging root: files name /opt/payload, where the tree lives in the image."""
    _, root, _ = installed
    text = (root / "opt/payload/lib/python-prefix.txt").read_text()
    assert text == "installed in /opt/payload\nlib: /opt/payload/lib\n"
    assert cp.PLACEHOLDER not in text and str(root) not in text


def test_entry_point_script_names_its_own_python(
    installed: tuple[Project, Path, deploy.InstallReport],
) -> None:
    _, root, _ = installed
    for env in ("lab", "payload"):
        script = root / f"opt/{env}/bin/ipykernel-launch"
        assert script.read_text().splitlines()[0] == f"#!/opt/{env}/bin/python"
        assert script.stat().st_mode & stat.S_IXUSR


def test_prefix_is_world_readable_and_conda_meta_canonical(
    installed: tuple[Project, Path, deploy.InstallReport],
) -> None:
    _, root, _ = installed
    lab = root / "opt/lab"
    assert lab.stat().st_mode & 0o055 == 0o055 & ~_umask()
    record = json.loads(next((lab / "conda-meta").glob("jupyterlab-*.json")).read_text())
    assert record["url"] == f"{CANONICAL}/linux-64/jupyterlab-4.2.0-0.conda"
    assert not (lab / "CACHEDIR.TAG").exists()
    # Files are copies: editing one in the prefix can never alter the package cache.
    files_ = [p for p in lab.rglob("*") if p.is_file() or p.is_symlink()]
    assert files_ and [p for p in files_ if p.is_symlink() or p.stat().st_nlink > 1] == []


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_rerun_is_idempotent(
    installed: tuple[Project, Path, deploy.InstallReport],
) -> None:
    project, root, _ = installed
    marker = root / "opt/lab/bin/python"
    before = marker.stat().st_mtime_ns
    again = deploy.run_install(project, root=root, platform="linux-64")
    assert [r.action for r in again.results] == ["skip", "skip"]
    assert again.kernel_files == ()
    assert marker.stat().st_mtime_ns == before


def test_verify_clean_then_drift(
    installed: tuple[Project, Path, deploy.InstallReport],
) -> None:
    project, root, _ = installed
    assert run_verify(project, root=root, platform="linux-64", deep=True) == []
    with (root / "opt/payload/lib/python-prefix.txt").open("a") as handle:
        handle.write("pip install something\n")
    (root / "opt/lab/share/jupyterlab/file0.txt").unlink()
    assert run_verify(project, root=root, platform="linux-64") == []
    deep = run_verify(project, root=root, platform="linux-64", deep=True)
    assert [(d.environment, d.kind, d.detail) for d in deep] == [
        ("lab", "deleted", "share/jupyterlab/file0.txt (from jupyterlab)"),
        ("payload", "modified", "lib/python-prefix.txt (from python)"),
    ]


def test_verify_finds_package_drift(
    installed: tuple[Project, Path, deploy.InstallReport],
) -> None:
    project, root, _ = installed
    next((root / "opt/payload/conda-meta").glob("zlib-*.json")).unlink()
    drift = run_verify(project, root=root, platform="linux-64")
    assert [(d.environment, d.kind, d.detail) for d in drift] == [
        ("payload", "missing", "zlib 1.3.1 0")
    ]


def test_install_freezes_each_conda_prefix(
    installed: tuple[Project, Path, deploy.InstallReport],
) -> None:
    project, root, report = installed
    marker = root / "opt/payload" / FROZEN_MARKER
    assert sorted(p.relative_to(root).as_posix() for p in report.frozen) == [
        "opt/lab/conda-meta/frozen",
        "opt/payload/conda-meta/frozen",
    ]
    message = json.loads(marker.read_text())["message"]
    assert "environment 'payload' of the twinlock composition 'duo'" in message
    assert "twinlock install" in message
    marker.unlink()
    drift = run_verify(project, root=root, platform="linux-64")
    assert [(d.environment, d.kind) for d in drift] == [("payload", "unfrozen")]
    assert "conda-meta/frozen is missing" in drift[0].detail
    assert run_verify(project, root=root, platform="linux-64", frozen=False) == []
    again = deploy.run_install(project, root=root, platform="linux-64")
    assert again.frozen == (marker,) and json.loads(marker.read_text())["message"] == message


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        pytest.param("", True, id="empty-marker"),
        pytest.param('{"message": "ask the admins"}', True, id="message"),
        pytest.param('{"message": ""}', False, id="empty-message"),
        pytest.param("[1, 2]", False, id="not-an-object"),
        pytest.param("frozen!", False, id="not-json"),
    ],
)
def test_frozen_marker_forms(text: str, ok: bool) -> None:
    assert (frozen_drift("payload", text) == []) is ok


def test_no_freeze_leaves_conda_free_to_change_the_prefix(tmp_path: Path) -> None:
    _, project = _locked(tmp_path)
    root = tmp_path / "root"
    report = deploy.run_install(project, root=root, platform="linux-64", freeze=False)
    assert report.frozen == ()
    assert not (root / "opt/lab" / FROZEN_MARKER).exists()


def test_verify_reports_absent_prefix(tmp_path: Path) -> None:
    _, project = _locked(tmp_path)
    drift = run_verify(project, root=tmp_path / "empty", platform="linux-64")
    assert [d.kind for d in drift] == ["no-prefix", "no-prefix"]


def test_existing_prefix_is_refused_unless_forced(tmp_path: Path) -> None:
    _, project = _locked(tmp_path)
    root = tmp_path / "root"
    (root / "opt/lab").mkdir(parents=True)
    (root / "opt/lab/precious.txt").write_text("mine\n")
    with pytest.raises(InstallError, match="files twinlock did not put"):
        deploy.run_install(project, root=root, platform="linux-64")
    assert (root / "opt/lab/precious.txt").is_file()
    assert not (root / "opt/payload").exists()  # refused before anything was installed
    report = deploy.run_install(project, root=root, platform="linux-64", force=True)
    assert [r.action for r in report.results] == ["replace", "install"]
    assert not (root / "opt/lab/precious.txt").exists()
    assert run_verify(project, root=root, platform="linux-64", deep=True) == []
    assert _leftovers(root) == []


def _tamper(archive: Path) -> None:
    """Rebuild the archive with other content under the same file name."""
    spec = cp.PkgSpec(
        "zlib", "1.3.1", files=(cp.PkgFile("share/zlib/file0.txt", "evil\n"),), fmt=".tar.bz2"
    )
    rebuilt = cp.build_package(archive.parent.parent, spec)
    assert rebuilt == archive


def test_tampered_archive_is_refused_and_nothing_left(tmp_path: Path) -> None:
    ip, project = _locked(tmp_path)
    _tamper(ip.channel / "linux-64/zlib-1.3.1-0.tar.bz2")
    root = tmp_path / "root"
    with pytest.raises(InstallError, match=r"zlib 1\.3\.1.*sha256 is .*tampered or corrupt"):
        deploy.run_install(project, root=root, environments=["payload"], platform="linux-64")
    assert not (root / "opt/payload").exists()
    assert not root.exists() or _leftovers(root) == []


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        pytest.param(cp.RawMember("../escape.txt", b"x"), "'../escape.txt' escapes", id="dotdot"),
        pytest.param(cp.RawMember("/tmp/abs.txt", b"x"), "escapes the prefix", id="absolute"),
        pytest.param(
            cp.RawMember("lib/evil", symlink_to="../../../etc/passwd"), "points outside", id="link"
        ),
    ],
)
@pytest.mark.parametrize("fmt", [".conda", ".tar.bz2"])
def test_escaping_member_is_refused(
    tmp_path: Path, raw: cp.RawMember, match: str, fmt: str
) -> None:
    evil = cp.PkgSpec("zlib", "1.3.1", files=(cp.PkgFile("a.txt", "a\n"),), raw=(raw,), fmt=fmt)
    specs = [s for s in packages() if s.name != "zlib"] + [evil]
    _, project = _locked(tmp_path, specs=specs)
    root = tmp_path / "root"
    with pytest.raises(InstallError, match=match):
        deploy.run_install(project, root=root, platform="linux-64")
    assert not (root / "opt").exists() or list((root / "opt").iterdir()) == []
    assert not (tmp_path / "escape.txt").exists()


def test_symlink_inside_the_package_stays_a_symlink(tmp_path: Path) -> None:
    link = cp.RawMember("share/zlib/current.txt", symlink_to="file0.txt", listed=True)
    zlib = cp.PkgSpec(
        "zlib", "1.3.1", files=(cp.PkgFile("share/zlib/file0.txt", "z\n"),), raw=(link,)
    )
    specs = [s for s in packages() if s.name != "zlib"] + [zlib]
    _, project = _locked(tmp_path, specs=specs)
    root = tmp_path / "root"
    deploy.run_install(project, root=root, environments=["payload"], platform="linux-64")
    installed = root / "opt/payload/share/zlib/current.txt"
    assert installed.is_symlink() and os.readlink(installed) == "file0.txt"
    assert run_verify(project, root=root, environments=["payload"], deep=True) == []


def test_failed_link_leaves_no_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, project = _locked(tmp_path)

    def broken(stage: Path, packages: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(installer, "_canonical_conda_meta", broken)
    root = tmp_path / "root"
    with pytest.raises(InstallError, match=r"installing lab into .* failed: disk full"):
        deploy.run_install(project, root=root, platform="linux-64")
    assert list((root / "opt").iterdir()) == []


def test_archives_found_in_a_package_cache(tmp_path: Path) -> None:
    ip, project = _locked(tmp_path)
    cache = tmp_path / "pkgs"
    cache.mkdir()
    for archive in [*ip.channel.rglob("*.conda"), *ip.channel.rglob("*.tar.bz2")]:
        archive.rename(cache / archive.name)
    root = tmp_path / "root"
    deploy.run_install(project, root=root, platform="linux-64", caches=[cache])
    assert run_verify(project, root=root, platform="linux-64", deep=True) == []


def test_missing_archive_names_where_it_looked(tmp_path: Path) -> None:
    ip, project = _locked(tmp_path)
    (ip.channel / "linux-64/zlib-1.3.1-0.tar.bz2").unlink()
    with pytest.raises(InstallError, match=r"no usable archive for zlib.*not found in"):
        deploy.run_install(project, root=tmp_path / "root", platform="linux-64")


def test_mirror_then_install_air_gapped(tmp_path: Path) -> None:
    ip, project = _locked(tmp_path)
    dest = tmp_path / "mirror"
    report = run_mirror(project, dest=dest)
    assert (report.copied, report.present, report.channels) == (5, 0, (CANONICAL,))
    assert (dest / "linux-64/repodata.json").is_file()
    again = run_mirror(project, dest=dest)
    assert (again.copied, again.present) == (0, 5)
    # The original channel disappears: only the mirror remains.
    for archive in ip.channel.rglob("*.conda"):
        archive.unlink()
    for archive in ip.channel.rglob("*.tar.bz2"):
        archive.unlink()
    gapped = _open(ip, mirrors=[f"{CHANNEL}={dest}"])
    root = tmp_path / "root"
    deploy.run_install(gapped, root=root, platform="linux-64")
    assert run_verify(gapped, root=root, platform="linux-64", deep=True) == []


def test_file_url_channel_installs_in_place(tmp_path: Path) -> None:
    channel = tmp_path / "channel"
    composition = json.loads(json.dumps(COMPOSITION))
    composition["channels"] = [channel.as_uri()]
    ip = make_install_project(tmp_path, composition=composition)
    (ip.root / "twinlock.toml").write_text("")
    project = _open(ip)
    run_lock(project)
    lock = project.read_locks()["payload"]
    assert all(p.url.startswith(channel.as_uri()) for p in lock.platforms[0].packages)
    deploy.run_install(project, root=tmp_path / "root", platform="linux-64")
    assert (tmp_path / "root/opt/payload/share/zlib/file0.txt").is_file()


@pytest.fixture
def http_channel(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A channel directory served over HTTP on localhost (a stand-in for a remote channel)."""
    channel = tmp_path / "served"
    channel.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(channel))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield channel, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


def test_remote_archives_are_downloaded_verified_and_cached(
    tmp_path: Path, http_channel: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A private cache, so the downloads cannot stand in for archives in other tests.
    monkeypatch.setenv("TWINLOCK_CACHE_DIR", str(tmp_path / "cache"))
    served, url = http_channel
    composition = json.loads(json.dumps(COMPOSITION))
    composition["channels"] = [url]
    ip = make_install_project(tmp_path, composition=composition)
    cp.build_channel(served, packages())
    (ip.root / "twinlock.toml").write_text("")
    project = _open(ip)
    run_lock(project)
    root = tmp_path / "root"
    deploy.run_install(project, root=root, platform="linux-64")
    assert run_verify(project, root=root, platform="linux-64", deep=True) == []
    cached = cache_dir() / "archives" / "zlib-1.3.1-0.tar.bz2"
    assert cached.read_bytes() == (served / "linux-64/zlib-1.3.1-0.tar.bz2").read_bytes()
    # A tampered server copy is never installed (the good cached copy still is).
    cached.unlink()
    _tamper(served / "linux-64/zlib-1.3.1-0.tar.bz2")
    with pytest.raises(InstallError, match=r"zlib.*sha256 is .* the lock says"):
        deploy.run_install(project, root=tmp_path / "root2", platform="linux-64")
    assert not cached.exists()


@pytest.mark.parametrize("via", ["mirror-url", "channel-alias"])
def test_channel_read_and_installed_through_a_url(
    tmp_path: Path, http_channel: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, via: str
) -> None:
    """A [mirrors] URL, or conda's channel_alias, serves repodata and archives; the locks
    still record the canonical conda.anaconda.org URLs."""
    monkeypatch.setenv("TWINLOCK_CACHE_DIR", str(tmp_path / "cache"))
    served, url = http_channel
    ip = make_install_project(tmp_path)
    cp.build_channel(served / CHANNEL, packages())
    if via == "mirror-url":
        (ip.root / "twinlock.toml").write_text(f'[mirrors]\n{CHANNEL} = "{url}/{CHANNEL}/"\n')
    else:
        (ip.root / "twinlock.toml").write_text("")
        (tmp_path / "condarc").write_text(f"channel_alias: {url}\n")
        monkeypatch.setenv("CONDARC", str(tmp_path / "condarc"))
    project = _open(ip)
    run_lock(project)
    lock = project.read_locks()["payload"].platform("linux-64")
    assert lock is not None
    assert {p.url.rsplit("/", 2)[0] for p in lock.packages} == {CANONICAL}
    root = tmp_path / "root"
    deploy.run_install(project, root=root, platform="linux-64")
    assert run_verify(project, root=root, platform="linux-64", deep=True) == []
    assert (cache_dir() / "archives" / "zlib-1.3.1-0.tar.bz2").is_file()  # downloaded


def test_lock_warns_when_kernel_env_lacks_ipykernel(tmp_path: Path) -> None:
    composition = json.loads(json.dumps(COMPOSITION))
    composition["environments"]["payload"]["requirements"] = ["python 3.11.*", "zlib"]
    ip = make_install_project(tmp_path, composition=composition)
    result = CliRunner().invoke(app, ["lock", str(ip.composition)])
    assert result.exit_code == 0, result.output
    assert "warning: payload is wired as kernel 'payload'" in result.output
    assert "no ipykernel on linux-64" in result.output
    assert result.output.count("warning: payload is wired as kernel") == 1


def test_lock_has_no_warning_with_ipykernel(tmp_path: Path) -> None:
    ip = make_install_project(tmp_path)
    assert run_lock(_open(ip)).warnings == ()


def test_cli_install_verify_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ip, _ = _locked(tmp_path)
    monkeypatch.chdir(ip.root)
    runner = CliRunner()
    args = [str(ip.composition), "--root", "build/root", "--platform", "linux-64"]
    result = runner.invoke(app, ["install", *args])
    assert result.exit_code == 0, result.output
    assert "lab: installed 3 packages" in result.output
    assert "wrote build/root/opt/lab/share/jupyter/kernels/payload/kernel.json" in result.output
    result = runner.invoke(app, ["verify", *args, "--deep"])
    assert result.exit_code == 0 and "all 2 environment(s) match" in result.output
    (ip.root / "build/root/opt/lab/bin/python").write_text("#!/bin/sh\n")
    result = runner.invoke(app, ["verify", *args, "--deep"])
    assert result.exit_code == 1 and "modified   lab: bin/python" in result.output
    result = runner.invoke(app, ["mirror", str(ip.composition), "--dest", "build/mirror"])
    assert result.exit_code == 0, result.output
    assert f"--mirror {CANONICAL}=build/mirror" in result.output
    _tamper(ip.channel / "linux-64/zlib-1.3.1-0.tar.bz2")
    result = runner.invoke(app, ["install", *args, "--force"])
    assert result.exit_code == 2 and "error: no usable archive for zlib" in result.output
    assert "hint:" in result.output


def test_smoke_tests_run_against_installed_prefixes(tmp_path: Path) -> None:
    """Declared tests are recorded in the lock and run by twinlock test (real console script)."""
    composition = json.loads(json.dumps(COMPOSITION))
    zlib_file = ["sh", "-c", 'test -f "$CONDA_PREFIX/share/zlib/file0.txt"']
    composition["environments"]["payload"]["tests"] = {"commands": [zlib_file, ["true"]]}
    ip, project = _locked(tmp_path, composition=composition)
    lock = project.read_locks()["payload"]
    assert lock.tests is not None and lock.tests.commands[0] == tuple(zlib_file)
    root = tmp_path / "root"
    deploy.run_install(project, root=root, platform="linux-64")
    twinlock = Path(sys.executable).with_name("twinlock")
    args = [str(twinlock), "test", str(ip.composition), "--root", str(root)]
    args += ["--platform", "linux-64"]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*args, *extra], cwd=ip.root, capture_output=True, text=True, check=False
        )

    passed = run()
    assert passed.returncode == 0, passed.stderr
    assert "2 passed, 0 failed" in passed.stdout
    assert "note lab: its lock records no tests" in passed.stdout
    (root / "opt/payload/share/zlib/file0.txt").unlink()
    failed = run("--json")
    assert failed.returncode == 1
    data = json.loads(failed.stdout)
    assert data["ok"] is False and data["version"] == 1
    assert [c["status"] for c in data["checks"]] == ["failed", "passed"]
    assert data["checks"][0]["subject"] == " ".join(zlib_file)
