"""Pure parts of installing: kernel parsing, archive member safety, prefix decisions, drift."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from twinlock.errors import CompositionError, InstallError
from twinlock.install import kernels
from twinlock.install.archives import Digests, Member, digest_problem, unsafe_members
from twinlock.install.plan import (
    InstalledPackage,
    InstalledPath,
    decide,
    file_drift,
    package_drift,
    prefix_state,
)
from twinlock.install.usersite import shadowing
from twinlock.model.composition import Composition, SmokeTests
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock
from twinlock.spec.parse import parse_composition


def _composition(kernel: Any, **payload: Any) -> dict[str, Any]:
    return {
        "name": "duo",
        "channels": ["conda-forge"],
        "platforms": ["linux-64"],
        "environments": {
            "lab": {"prefix": "/opt/lab", "requirements": ["python"]},
            "payload": {
                "prefix": "/opt/payload",
                "requirements": ["python"],
                "kernel": kernel,
                **payload,
            },
        },
    }


GOOD_KERNEL = {"name": "payload", "display-name": "Payload", "lab": "lab", "env": {"A": 1}}


def test_kernel_is_parsed_with_defaults() -> None:
    comp = parse_composition(_composition(GOOD_KERNEL), source="c.yaml")
    kernel = comp.environment("payload").kernel
    assert kernel is not None
    assert (kernel.name, kernel.display_name, kernel.lab) == ("payload", "Payload", "lab")
    assert dict(kernel.env) == {"A": "1"}
    assert kernel.hide_native and kernel.argv == ()


@pytest.mark.parametrize(
    ("kernel", "match"),
    [
        pytest.param(
            {**GOOD_KERNEL, "lab": "lap"},
            "no environment named 'lap'.*did you mean 'lab'",
            id="unknown-lab",
        ),
        pytest.param({**GOOD_KERNEL, "lab": "payload"}, "cannot host its own kernel", id="self"),
        pytest.param({"display-name": "x", "lab": "lab"}, r"kernel\.name: missing", id="no-name"),
        pytest.param(
            {**GOOD_KERNEL, "argv": ["python"]}, "does not pass {connection_file}", id="argv"
        ),
        pytest.param(
            {**GOOD_KERNEL, "display_name": "x"}, "did you mean 'display-name'", id="typo"
        ),
        pytest.param({**GOOD_KERNEL, "hide-native": "yes"}, "expected true or false", id="hide"),
        pytest.param({**GOOD_KERNEL, "name": "a b"}, "not a valid kernel name", id="bad-name"),
        pytest.param("payload", "expected a mapping", id="not-mapping"),
    ],
)
def test_bad_kernel_is_refused(kernel: Any, match: str) -> None:
    with pytest.raises(CompositionError, match=match):
        parse_composition(_composition(kernel), source="c.yaml")


def _locks(comp: Composition) -> dict[str, EnvironmentLock]:
    """Locks with one package per environment (the requested one), on linux-64."""
    out = {}
    for env in comp.environments:
        pkg = LockedPackage(
            env.requirements[-1].name, "9.0.0", "0", "linux-64", "https://x/y.conda", "c", "0" * 32
        )
        plat = PlatformLock("linux-64", "h", (), (pkg,))
        out[env.name] = EnvironmentLock(comp.name, env.name, env.prefix, (), (), (plat,))
    return out


def test_kernelspec_runs_the_launcher_with_the_lab_python() -> None:
    comp = parse_composition(_composition(GOOD_KERNEL), source="c.yaml")
    locks = _locks(comp)
    out = {f.path: f for f in kernels.kernel_files(comp, locks, "linux-64")}
    spec = json.loads(out["share/jupyter/kernels/payload/kernel.json"].text)
    assert spec["argv"] == [
        "/opt/lab/bin/python",
        "-I",
        "/opt/lab/share/jupyter/kernels/payload/twinlock-launch.py",
        "{connection_file}",
    ]
    assert (
        spec["metadata"]["twinlock"]["payload"]
        == f"{comp.environment('payload').requirements[-1].name} 9.0.0"
    )
    assert spec["env"] == {
        "A": "1",
        "PYTHONNOUSERSITE": "",
        "PYTHONUSERBASE": "${HOME}/.local/twinlock/payload",
    }
    assert set(out) == {
        "share/jupyter/kernels/payload/kernel.json",
        "share/jupyter/kernels/payload/twinlock-launch.py",
        kernels.SERVER_CONFIG,
        "lib/python9.0/site-packages/00-twinlock-no-user-site.pth",
    }
    assert all(f.lab == "lab" for f in out.values())
    assert '"ensure_native_kernel": false' in out[kernels.SERVER_CONFIG].text
    assert kernels.kernel_files(comp, {}, "linux-64") == []  # nothing locked, nothing wired


def test_native_kernel_stays_when_not_hidden() -> None:
    comp = parse_composition(_composition({**GOOD_KERNEL, "hide-native": False}), source="c.yaml")
    assert [f.path for f in kernels.kernel_files(comp, _locks(comp), "linux-64")] == [
        "share/jupyter/kernels/payload/kernel.json",
        "share/jupyter/kernels/payload/twinlock-launch.py",
        "lib/python9.0/site-packages/00-twinlock-no-user-site.pth",
    ]


def test_user_site_isolation_can_be_switched_off() -> None:
    kernel = {**GOOD_KERNEL, "isolate-user-site": False}
    comp = parse_composition(_composition(kernel), source="c.yaml")
    files = {f.path: f for f in kernels.kernel_files(comp, _locks(comp), "linux-64")}
    assert not [p for p in files if p.endswith(".pth")]
    spec = json.loads(files["share/jupyter/kernels/payload/kernel.json"].text)
    assert spec["env"] == {"A": "1"}


def test_no_user_site_pth_drops_only_the_user_base(tmp_path: Path) -> None:
    """The lab's .pth, run by a real interpreter: the user site is gone, the rest stays."""
    comp = parse_composition(_composition(GOOD_KERNEL), source="c.yaml")
    pth = next(
        f for f in kernels.kernel_files(comp, _locks(comp), "linux-64") if f.path.endswith(".pth")
    )
    site = tmp_path / "site"
    site.mkdir()
    (site / kernels.NO_USER_SITE).write_text(pth.text)
    home = tmp_path / "home"
    probe = (
        "import site, sys; site.addsitedir(sys.argv[1]); "
        "print(any(p.startswith(site.getuserbase()) for p in sys.path))"
    )
    env = {"HOME": str(home), "PYTHONUSERBASE": str(home / ".local"), "PATH": os.environ["PATH"]}
    user = Path(
        subprocess.run(
            [sys.executable, "-c", "import site; print(site.getusersitepackages())"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    user.mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-c", probe, str(site)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False"


def test_allow_list_names_every_kernel_wired_into_the_lab() -> None:
    # One payload hides the native kernel, a second one does not: both stay visible.
    data = _composition(GOOD_KERNEL)
    data["environments"]["ml"] = {
        "prefix": "/opt/ml",
        "requirements": ["python"],
        "kernel": {"name": "ml", "display-name": "ML", "lab": "lab", "hide-native": False},
    }
    comp = parse_composition(data, source="c.yaml")
    config = {f.path: f for f in kernels.kernel_files(comp, _locks(comp), "linux-64")}[
        kernels.SERVER_CONFIG
    ]
    assert '"allowed_kernelspecs": [\n      "ml",\n      "payload"\n    ]' in config.text


@pytest.mark.parametrize(
    ("member", "problem"),
    [
        pytest.param(Member("bin/python", "file"), None, id="plain"),
        pytest.param(Member("lib/x/../y", "file"), None, id="inner-dotdot"),
        pytest.param(Member("../escape", "file"), "escapes the prefix", id="dotdot"),
        pytest.param(Member("a/../../escape", "file"), "escapes the prefix", id="deep-dotdot"),
        pytest.param(Member("/etc/passwd", "file"), "escapes the prefix", id="absolute"),
        pytest.param(Member("lib/l", "symlink", "../lib/x"), None, id="symlink-inside"),
        pytest.param(Member("lib/l", "symlink", "../../etc"), "points outside", id="symlink-out"),
        pytest.param(Member("lib/l", "symlink", "/etc/shadow"), "points outside", id="symlink-abs"),
        pytest.param(Member("lib/h", "hardlink", "../x"), "points outside", id="hardlink-out"),
        pytest.param(Member("dev/null", "other"), "special file", id="device"),
    ],
)
def test_unsafe_members(member: Member, problem: str | None) -> None:
    found = unsafe_members([member])
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0]


@pytest.mark.parametrize(
    ("sha", "md5", "problem"),
    [
        pytest.param("aa", "bb", None, id="match"),
        pytest.param("AA", "", None, id="sha-only-case"),
        pytest.param("ab", "bb", "sha256 is aa", id="sha-differs"),
        pytest.param(None, "bc", "md5 is bb", id="md5-differs"),
        pytest.param(None, "", "no hash", id="no-hash"),
    ],
)
def test_digest_problem(sha: str | None, md5: str, problem: str | None) -> None:
    found = digest_problem(Digests("aa", "bb"), sha, md5)
    assert found == problem if problem is None else problem in (found or "")


def _locked(name: str, version: str = "1.0", build: str = "0") -> LockedPackage:
    url = f"https://conda.anaconda.org/c/linux-64/{name}-{version}-{build}.conda"
    return LockedPackage(name, version, build, "linux-64", url, "https://conda.anaconda.org/c", "")


def _installed(name: str, version: str = "1.0", build: str = "0") -> InstalledPackage:
    return InstalledPackage(name, version, build)


@pytest.mark.parametrize(
    ("installed", "empty", "state"),
    [
        pytest.param(None, True, "absent", id="absent"),
        pytest.param(None, False, "foreign", id="foreign"),
        pytest.param([_installed("a"), _installed("b")], False, "same", id="same"),
        pytest.param([_installed("a")], False, "different", id="missing-one"),
        pytest.param([_installed("a"), _installed("b", "2.0")], False, "different", id="version"),
    ],
)
def test_prefix_state(installed: Any, empty: bool, state: str) -> None:
    assert prefix_state(installed, empty, [_locked("a"), _locked("b")]) == state


@pytest.mark.parametrize(
    ("state", "force", "action"),
    [
        pytest.param("absent", False, "install", id="absent"),
        pytest.param("same", False, "skip", id="rerun"),
        pytest.param("same", True, "replace", id="force-same"),
        pytest.param("different", True, "replace", id="force-different"),
        pytest.param("foreign", True, "replace", id="force-foreign"),
    ],
)
def test_decide(state: Any, force: bool, action: str) -> None:
    assert decide("lab", "/r/opt/lab", state, force=force) == action


@pytest.mark.parametrize(
    ("state", "match"),
    [
        pytest.param("different", "another conda environment", id="different"),
        pytest.param("foreign", "files twinlock did not put", id="foreign"),
    ],
)
def test_decide_refuses_without_force(state: Any, match: str) -> None:
    with pytest.raises(InstallError, match=match):
        decide("lab", "/r/opt/lab", state, force=False)


def test_package_drift_names_missing_extra_and_changed() -> None:
    drift = package_drift(
        "lab",
        [_locked("a"), _locked("b", "2.0"), _locked("c")],
        [_installed("b", "1.0"), _installed("c"), _installed("d")],
    )
    assert [(d.kind, d.detail.split()[0]) for d in drift] == [
        ("missing", "a"),
        ("changed", "b:"),
        ("extra", "d"),
    ]


def test_file_drift_uses_hash_in_prefix_and_skips_links() -> None:
    pkg = InstalledPackage(
        "p",
        "1",
        "0",
        (
            InstalledPath("ok", "h1", "hardlink"),
            InstalledPath("edited", "h2", "hardlink"),
            InstalledPath("gone", "h3", "hardlink"),
            InstalledPath("link", None, "softlink"),
        ),
    )
    actual = {"ok": "h1", "edited": "zz"}
    drift = file_drift("lab", [pkg], actual.get)
    assert [(d.kind, d.detail) for d in drift] == [
        ("modified", "edited (from p)"),
        ("deleted", "gone (from p)"),
    ]


def test_conda_meta_prefers_sha256_in_prefix() -> None:
    record = {
        "name": "p",
        "version": "1",
        "build": "0",
        "paths_data": {
            "paths": [
                {"_path": "a", "sha256": "orig", "sha256_in_prefix": "patched"},
                {"_path": "b", "sha256": "plain"},
                {"_path": "c", "path_type": "softlink", "sha256": "x"},
            ]
        },
    }
    pkg = InstalledPackage.from_conda_meta(record)
    assert [p.sha256 for p in pkg.paths] == ["patched", "plain", None]


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        pytest.param(["numpy-2.0.0.dist-info"], ["numpy 2.0.0"], id="conda-package"),
        pytest.param(["Typing_Extensions-4.0.dist-info"], ["typing-extensions 4.0"], id="pep503"),
        pytest.param(["mine-1.0.dist-info", "numpy"], [], id="not-locked"),
        pytest.param(["README.txt"], [], id="no-dist-info"),
    ],
)
def test_user_site_packages_that_shadow_locked_ones(
    entries: list[str], expected: list[str]
) -> None:
    numpy = LockedPackage("numpy", "2.1.0", "0", "linux-64", "https://x/n.conda", "c", "0" * 32)
    te = LockedPackage(
        "typing-extensions", "4.12", "0", "noarch", "https://x/t.conda", "c", "0" * 32
    )
    plat = PlatformLock("linux-64", "h", (), (numpy, te))
    found = shadowing("payload", "~/.local/lib/python3.11/site-packages", entries, plat)
    assert [" ".join(d.detail.split()[:2]) for d in found] == expected
    assert all(d.kind == "shadowed" and "pip install --user" in d.detail for d in found)


@pytest.mark.parametrize(
    ("tests", "match"),
    [
        pytest.param({"imports": ["numpy", "astropy.io.fits"], "kernel": True}, None, id="good"),
        pytest.param({"imports": ["numpy; rm -rf /"]}, "is not a module name", id="not-module"),
        pytest.param({"commands": ["python -c 1"]}, "expected a non-empty list", id="string"),
        pytest.param({"commands": [[]]}, "expected a non-empty list", id="empty-argv"),
        pytest.param({"kernel": "yes"}, "expected true or false", id="kernel-not-bool"),
        pytest.param({"import": ["numpy"]}, "did you mean 'imports'", id="typo"),
        pytest.param(["numpy"], "expected a mapping", id="not-mapping"),
    ],
)
def test_smoke_tests_stanza(tests: Any, match: str | None) -> None:
    data = _composition(GOOD_KERNEL, tests=tests)
    if match is None:
        env = parse_composition(data, source="c.yaml").environment("payload")
        assert env.tests is not None and env.tests.kernel
        assert env.tests.imports == ("numpy", "astropy.io.fits")
        return
    with pytest.raises(CompositionError, match=match):
        parse_composition(data, source="c.yaml")


def test_kernel_smoke_test_needs_a_kernel() -> None:
    data = _composition(GOOD_KERNEL)
    data["environments"]["lab"]["tests"] = {"kernel": True}
    with pytest.raises(CompositionError, match="this environment has no kernel: to start"):
        parse_composition(data, source="c.yaml")


@pytest.mark.parametrize(
    ("lock", "composition", "covered"),
    [
        pytest.param(SmokeTests(("a", "b")), SmokeTests(("a",)), True, id="superset"),
        pytest.param(SmokeTests(("a",)), SmokeTests(("a", "b")), False, id="missing-import"),
        pytest.param(SmokeTests(kernel=False), SmokeTests(kernel=True), False, id="kernel"),
        pytest.param(SmokeTests((), (("x",),)), SmokeTests(), True, id="extra-command"),
    ],
)
def test_lock_tests_cover_the_compositions(
    lock: SmokeTests, composition: SmokeTests, covered: bool
) -> None:
    """check: a lock is stale only when it lacks a test the composition declares."""
    assert lock.covers(composition) is covered
    assert lock.merged_with(composition).covers(composition)
