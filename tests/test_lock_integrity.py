"""Lock integrity on every read, on a copy of the real locks/rsp.

A damaged lock (a hash character changed, the file cut at a line, a hash
replaced by decimal digits) must be caught by every reader: ``check`` exits 1
naming the package (2 when the file no longer parses as YAML or lost its
twinlock metadata), ``diff --exit-code`` exits 3 (2 likewise), ``lock`` never
reuses it, ``sbom`` and ``install`` refuse it. Library-level loops cover every
hash position and a dense sample of cut points (every line of the metadata and
of whole entries, so every kind of line); the real console script covers a
representative subset of exit codes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from twinlock.app.check import run_check
from twinlock.app.lock import run_lock
from twinlock.app.project import Project, open_project
from twinlock.audit.diff import compare_packages, diff_lock_sets
from twinlock.audit.sources import read_lock_set
from twinlock.errors import LockFileError
from twinlock.lock.format import read_conda_lock, render_conda_lock
from twinlock.lock.validate import validate_lock_data
from twinlock.lock.verify import compare_with_record, verify_against_channel
from twinlock.lock.yamldata import load_lock_data
from twinlock.model.composition import Channel
from twinlock.model.lock import EnvironmentLock, LockedPackage
from twinlock.solve.records import PackageRef

REPO = Path(__file__).resolve().parents[1]
RSP = REPO / "locks" / "rsp"
LAB_TEXT = (RSP / "lab.conda-lock.yml").read_text()
LINES = LAB_TEXT.splitlines(keepends=True)
PACKAGE_LINE = LINES.index("package:\n")
TWINLOCK = Path(sys.executable).parent / "twinlock"


@pytest.fixture(scope="module")
def lab() -> EnvironmentLock:
    return read_conda_lock(LAB_TEXT, source="lab").lock


def _project(root: Path) -> Project:
    return open_project(root / "envs" / "rsp.yaml", cwd=root)


def _twinlock(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TWINLOCK), *args], cwd=root, capture_output=True, text=True, check=False
    )


# --- reading: text stays text, the writer quotes what needs it --------------------------


def test_hashes_and_versions_are_read_as_the_text_written() -> None:
    text = LAB_TEXT.replace(
        "    md5: a9f577daf3de00bca7c3c76c0ecbd1de\n", "    md5: 01234567890123456789012345678901\n"
    ).replace("  version: '4.5'\n", "  version: 4.50\n", 1)
    data: Any = load_lock_data(text, source="lab")
    entry = data["package"][0]
    assert entry["hash"]["md5"] == "01234567890123456789012345678901"
    assert entry["version"] == "4.50"
    assert data["version"] == "1"


def test_the_writer_quotes_hashes_that_look_like_numbers(lab: EnvironmentLock) -> None:
    plat = lab.platforms[0]
    first = replace(plat.packages[0], md5="0" + "1" * 31, sha256="9" * 64)
    lock = lab.with_platforms([replace(plat, packages=(first, *plat.packages[1:]))])
    text = render_conda_lock(lock)
    assert f"md5: '0{'1' * 31}'" in text and f"sha256: '{'9' * 64}'" in text
    assert read_conda_lock(text, source="x").lock == lock


# --- the validator, rule by rule --------------------------------------------------------


def _entry(data: Any, name: str = "_openmp_mutex") -> dict[str, Any]:
    entry: dict[str, Any] = next(e for e in data["package"] if e["name"] == name)
    return entry


def _set(path: str, value: object) -> Callable[[Any], None]:
    def mutate(data: Any) -> None:
        *keys, last = path.split(".")
        target = _entry(data)
        for key in keys:
            target = target[key]
        target[last] = value

    return mutate


def _drop(key: str) -> Callable[[Any], None]:
    return lambda data: _entry(data).pop(key)


def _meta(key: str, value: object) -> Callable[[Any], None]:
    def mutate(data: Any) -> None:
        data["metadata"][key] = value

    return mutate


def _custom(key: str, value: str) -> Callable[[Any], None]:
    def mutate(data: Any) -> None:
        data["metadata"]["custom_metadata"][key] = value

    return mutate


def _duplicate(data: Any) -> None:
    data["package"].append(dict(_entry(data)))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(_set("hash.md5", 12345), "hash.md5: expected text, got int", id="int-md5"),
        pytest.param(_set("hash.md5", "a" * 31), "hash.md5: malformed", id="short-md5"),
        pytest.param(_set("hash.md5", "A" * 32), "hash.md5: malformed", id="upper-md5"),
        pytest.param(_set("hash.sha256", "z" * 64), "hash.sha256: malformed", id="z-sha256"),
        pytest.param(_set("hash", {}), "hash.md5: missing", id="no-md5"),
        pytest.param(_set("version", 4.5), "version: expected text, got float", id="float-ver"),
        pytest.param(_drop("build"), "missing build", id="no-build"),
        pytest.param(_drop("optional"), "optional: missing", id="no-optional"),
        pytest.param(_set("manager", "npm"), "manager: expected conda or pip", id="manager"),
        pytest.param(_set("platform", "win-64"), "not one of the lock's platforms", id="plat"),
        pytest.param(_set("build", "21_gnu"), "is not _openmp_mutex-4.5-21_gnu", id="url-build"),
        pytest.param(_set("version", "4.6"), "is not _openmp_mutex-4.6-20_gnu", id="url-ver"),
        pytest.param(
            _set(
                "url",
                "https://conda.anaconda.org/conda-forge/osx-64/_openmp_mutex-4.5-20_gnu.conda",
            ),
            "subdir osx-64 is neither linux-64 nor noarch",
            id="url-subdir",
        ),
        pytest.param(_set("url", "ftp://x/linux-64/a"), "http(s) or file URL", id="url-scheme"),
        pytest.param(_set("dependencies", ["a"]), "dependencies: expected", id="deps"),
        pytest.param(_duplicate, "locked twice", id="duplicate"),
        pytest.param(_meta("content_hash", {"linux-64": "x"}), "one input hash", id="content"),
        pytest.param(_meta("platforms", "linux-64"), "non-empty list of platforms", id="plats"),
        pytest.param(_meta("channels", [{"url": 5}]), "list of channel URLs", id="channels"),
        pytest.param(
            _custom("twinlock.requirements", "[oops"), "expected JSON (list)", id="requirements"
        ),
        pytest.param(
            _custom("twinlock.virtual-packages.linux-64", "__glibc"),
            "expected name=version=build",
            id="virtual",
        ),
        pytest.param(lambda d: d.pop("version"), "unsupported lock version None", id="version"),
    ],
)
def test_validator_names_each_problem(mutate: Callable[[Any], None], message: str) -> None:
    data = load_lock_data(LAB_TEXT, source="lab")
    assert validate_lock_data(data) == []
    mutate(data)
    problems = [str(p) for p in validate_lock_data(data)]
    assert any(message in p for p in problems), problems


PYPI_LAB = (REPO / "locks" / "rsp-pypi" / "lab.conda-lock.yml").read_text()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param(
            "https://files.pythonhosted.org/x/aiodns-4.0.5-py3-none-any.whl",
            "url: wheel aiodns-4.0.5-py3-none-any.whl is not aiodns 4.0.4",
            id="wheel-version",
        ),
        pytest.param(
            "https://files.pythonhosted.org/x/aiohttp-4.0.4-py3-none-any.whl",
            "is not aiodns 4.0.4",
            id="wheel-project",
        ),
        pytest.param(
            "https://files.pythonhosted.org/x/AioDNS-4.0.4.0-py3-none-any.whl",
            None,
            id="normalised",
        ),
        pytest.param(
            "https://github.com/saghul/aiodns/archive/v4.0.4.tar.gz", None, id="direct-ref"
        ),
        pytest.param("git+https://github.com/saghul/aiodns", "http(s) or file URL", id="vcs"),
    ],
)
def test_pypi_urls(url: str, message: str | None) -> None:
    data: Any = load_lock_data(PYPI_LAB, source="lab")
    assert validate_lock_data(data) == []
    next(e for e in data["package"] if e["name"] == "aiodns")["url"] = url
    problems = [str(p) for p in validate_lock_data(data)]
    assert problems == ([] if message is None else [problems[0]])
    assert message is None or message in problems[0]


# --- every hash character, every kind of cut --------------------------------------------


@pytest.fixture(scope="module")
def channel_record(lab: EnvironmentLock) -> Callable[[LockedPackage], LockedPackage | None]:
    from twinlock.solve.adapter import RattlerSolver
    from twinlock.solve.channels import local_channel_dir

    finder = RattlerSolver({lab.channels[0]: "bundled:conda-forge-snapshot"}, local_channel_dir)

    def record(pkg: LockedPackage) -> LockedPackage | None:
        ref = PackageRef(Channel(pkg.channel, pkg.channel), pkg.subdir, pkg.file_name)
        return finder.find_packages([ref]).get(ref)

    return record


@pytest.mark.parametrize("kind", ["md5", "sha256"])
def test_every_single_hash_character_change_is_caught(
    kind: str,
    lab: EnvironmentLock,
    channel_record: Callable[[LockedPackage], LockedPackage | None],
) -> None:
    data: Any = load_lock_data(LAB_TEXT, source="lab")
    entry = _entry(data, "jupyterlab")
    original = next(p for p in lab.platforms[0].packages if p.name == "jupyterlab")
    record = channel_record(original)
    assert record is not None and compare_with_record(original, record) is None
    digest: str = entry["hash"][kind]
    for position, char in enumerate(digest):
        for other in ("f" if char != "f" else "0", "g", char.upper() if char.isalpha() else "Z"):
            changed = digest[:position] + other + digest[position + 1 :]
            entry["hash"][kind] = changed
            problems = validate_lock_data(data)
            if other in "0123456789abcdef":  # well-formed: the channel and diff catch it
                assert problems == []
                pkg = replace(original, **{kind: changed})
                verdict = compare_with_record(pkg, record)
                assert verdict is not None and verdict[0] == "mismatch"
                assert f"lock says {changed}" in verdict[1]
                change = compare_packages(original, pkg, root=True)
                assert change is not None and change.alarm
            else:
                assert [p.package for p in problems] == ["jupyterlab"], (position, other)
    entry["hash"][kind] = digest


def _cut_points() -> list[int]:
    """Every line of the metadata and of the first and last entries, and a spread between."""
    end = len(LINES)
    points = set(range(1, PACKAGE_LINE + 45)) | set(range(end - 20, end))
    points |= set(range(PACKAGE_LINE + 45, end - 20, 331))
    return sorted(points)


def test_a_lock_cut_at_any_line_is_caught(tmp_path: Path, lab: EnvironmentLock) -> None:
    names = {p.name for plat in lab.platforms for p in plat.packages}
    old = read_lock_set(RSP / "lab.conda-lock.yml")
    path = tmp_path / "lab.conda-lock.yml"
    unreadable = 0
    for cut in _cut_points():
        path.write_text("".join(LINES[:cut]))
        try:
            new = read_lock_set(path)  # what diff and check read
        except LockFileError as exc:  # no longer YAML, or the twinlock metadata is gone
            assert cut < PACKAGE_LINE and exc.hint, cut
            unreadable += 1
            continue
        assert new.damage, f"cut after line {cut} passes validation"
        if cut > PACKAGE_LINE:
            assert any(name in problem for problem in new.damage for name in names), cut
        assert diff_lock_sets(old, new).exit_code == 3, cut
    assert 0 < unreadable < PACKAGE_LINE


def test_lock_does_not_reuse_a_cut_lock(repo_copy: Path) -> None:
    path = repo_copy / "locks" / "rsp" / "lab.conda-lock.yml"
    for cut in (PACKAGE_LINE + 1, PACKAGE_LINE + 12, len(LINES) - 1):
        path.write_text("".join(LINES[:cut]))
        with pytest.raises(LockFileError, match="damaged") as caught:
            run_lock(_project(repo_copy))
        assert "twinlock lock --full" in caught.value.hint
        assert path.read_text() == "".join(LINES[:cut])  # nothing rewritten


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(b"[\n", id="not-yaml"),
        pytest.param(b"- a\n- list\n", id="list"),
        pytest.param(b"just text\n", id="scalar"),
        pytest.param(b"metadata: 5\n", id="bad-metadata"),
        pytest.param(b"", id="empty"),
        pytest.param(LAB_TEXT.encode().replace(b"_openmp_mutex", b"\xff\xfe", 1), id="not-utf8"),
    ],
)
def test_lock_and_check_answer_garbage_with_an_error(repo_copy: Path, text: bytes) -> None:
    (repo_copy / "locks" / "rsp" / "lab.conda-lock.yml").write_bytes(text)
    with pytest.raises(LockFileError, match=r"lab\.conda-lock\.yml") as caught:
        run_lock(_project(repo_copy))
    assert caught.value.hint
    with pytest.raises(LockFileError, match=r"lab\.conda-lock\.yml"):
        run_check(_project(repo_copy))


def test_a_damaged_explicit_file_is_a_finding_and_lock_rewrites_it(repo_copy: Path) -> None:
    explicit = repo_copy / "locks" / "rsp" / "lab-linux-64.explicit.txt"
    good = explicit.read_bytes()
    lines = good.splitlines(keepends=True)
    explicit.write_bytes(b"".join(lines[:-1]) + b"\xff" + lines[-1][1:])
    (finding,) = run_check(_project(repo_copy))
    assert finding.kind == "stale" and "lab-linux-64.explicit.txt differs" in finding.detail
    assert "lacks nodejs-26.2.0" in finding.detail  # the damaged (last) line names the file
    report = run_lock(_project(repo_copy))
    assert report.written == (explicit,) and explicit.read_bytes() == good


# --- check against the channel ----------------------------------------------------------


A, B, C, D = "a" * 32, "b" * 64, "c" * 64, "d" * 32


@pytest.mark.parametrize(
    ("mine", "theirs", "verdict", "text"),
    [
        pytest.param((A, B), (A, B), None, "", id="agree"),
        pytest.param((A, B), (A, C), "mismatch", f"lock says {B}, channel says {C}", id="sha"),
        pytest.param((D, B), (A, B), "mismatch", f"md5: lock says {D}", id="md5"),
        pytest.param((A, None), (A, B), "mismatch", "sha256: lock says (none)", id="none"),
        pytest.param((A, B), (A, None), "unverifiable", "record has no sha256", id="no-sha"),
        pytest.param((A, B), None, "unverifiable", "has no record of", id="no-record"),
    ],
)
def test_compare_with_the_channel_record(
    lab: EnvironmentLock,
    mine: tuple[str, str | None],
    theirs: tuple[str, str | None] | None,
    verdict: str | None,
    text: str,
) -> None:
    pkg = replace(lab.platforms[0].packages[0], md5=mine[0], sha256=mine[1])
    record = None if theirs is None else replace(pkg, md5=theirs[0], sha256=theirs[1])
    got = compare_with_record(pkg, record)
    assert (got[0] if got else None) == verdict
    assert text in (got[1] if got else "")


def test_check_reports_a_file_the_channel_does_not_hold_as_unverifiable(repo_copy: Path) -> None:
    path = repo_copy / "locks" / "rsp" / "lab.conda-lock.yml"
    path.write_text(
        LAB_TEXT.replace("_openmp_mutex-4.5-20_gnu", "_openmp_mutex-4.5-99_gnu", 1).replace(
            "  build: 20_gnu\n", "  build: 99_gnu\n", 1
        )
    )
    findings = run_check(_project(repo_copy))
    unverifiable = [f for f in findings if f.kind == "unverifiable"]
    assert [(f.environment, f.platform) for f in unverifiable] == [("lab", "linux-64")]
    assert "_openmp_mutex 4.5 99_gnu: the channel has no record" in unverifiable[0].detail


def test_check_of_a_damaged_lock_still_compares_its_readable_files(repo_copy: Path) -> None:
    (repo_copy / "locks" / "rsp" / "lab.conda-lock.yml").write_text(
        _damage("md5-decimal").replace(JUPYTERLAB_SHA, "    sha256: " + "z" * 64, 1)
    )
    findings = {(f.kind, f.detail.split(":")[0]) for f in run_check(_project(repo_copy))}
    assert findings == {("damaged", "jupyterlab"), ("hash", "_openmp_mutex 4.5 20_gnu")}


def test_the_whole_rsp_example_agrees_with_the_bundled_snapshot(repo_copy: Path) -> None:
    project = _project(repo_copy)
    with project.solver() as finder:
        assert verify_against_channel(project.read_locks().values(), finder) == []
    assert run_check(project) == []


# --- the real console script ------------------------------------------------------------

JUPYTERLAB_SHA = "    sha256: " + next(
    line.split()[-1] for line in LINES[3220:3250] if line.startswith("    sha256: ")
)
BUILD_LINE = next(
    i for i in range(PACKAGE_LINE + 40, len(LINES)) if LINES[i].startswith("  build:")
)
CUT_ENTRY = next(
    LINES[i].removeprefix("- name: ").strip()
    for i in range(BUILD_LINE, 0, -1)
    if LINES[i].startswith("- name: ")
)


def _flip_last(line: str) -> str:
    body = line.rstrip("\n")
    return body[:-1] + ("0" if body[-1] != "0" else "1") + "\n"


def _damage(kind: str) -> str:
    if kind == "sha-char":
        return LAB_TEXT.replace(JUPYTERLAB_SHA + "\n", _flip_last(JUPYTERLAB_SHA), 1)
    if kind == "md5-decimal":
        return LAB_TEXT.replace(
            "    md5: a9f577daf3de00bca7c3c76c0ecbd1de\n",
            "    md5: 12345678901234567890123456789012\n",
        )
    if kind == "sha-decimal":
        return LAB_TEXT.replace(JUPYTERLAB_SHA, "    sha256: " + "7" * 64, 1)
    if kind == "sha-malformed":
        return LAB_TEXT.replace(JUPYTERLAB_SHA, "    sha256: " + "z" * 64, 1)
    if kind == "cut-before-build":
        return "".join(LINES[:BUILD_LINE])
    assert kind == "cut-in-metadata"
    return "".join(LINES[:50])


@pytest.mark.parametrize(
    ("kind", "check_code", "named", "diff_code"),
    [
        pytest.param("sha-char", 1, "jupyterlab", 3, id="sha256-char"),
        pytest.param("md5-decimal", 1, "_openmp_mutex", 3, id="md5-decimal-digits"),
        pytest.param("sha-decimal", 1, "jupyterlab", 3, id="sha256-decimal-digits"),
        pytest.param("sha-malformed", 1, "jupyterlab", 3, id="sha256-malformed"),
        pytest.param("cut-before-build", 1, CUT_ENTRY, 3, id="cut-before-build"),
        pytest.param("cut-in-metadata", 2, None, 2, id="cut-in-metadata"),
    ],
)
def test_cli_exit_codes_on_a_damaged_lock(
    repo_copy: Path, kind: str, check_code: int, named: str | None, diff_code: int
) -> None:
    path = repo_copy / "locks" / "rsp" / "lab.conda-lock.yml"
    damaged = _damage(kind)
    assert damaged != LAB_TEXT
    path.write_text(damaged)
    check = _twinlock(repo_copy, "check")
    assert check.returncode == check_code, check.stdout + check.stderr
    assert "Traceback" not in check.stderr
    if check_code == 1:
        assert named is not None and named in check.stdout
    else:
        assert check.stderr.startswith("error:") and "hint:" in check.stderr
    diff = _twinlock(repo_copy, "diff", str(RSP), "locks/rsp", "--exit-code")
    assert diff.returncode == diff_code, diff.stdout + diff.stderr
    lock = _twinlock(repo_copy, "lock")
    assert lock.returncode == 2 and "reused" not in lock.stdout
    assert "hint:" in lock.stderr and "Traceback" not in lock.stderr
    assert path.read_text() == damaged


@pytest.mark.parametrize("kind", ["sha-malformed", "cut-before-build"])
def test_cli_sbom_and_install_refuse_a_damaged_lock(repo_copy: Path, kind: str) -> None:
    (repo_copy / "locks" / "rsp" / "lab.conda-lock.yml").write_text(_damage(kind))
    sbom = _twinlock(repo_copy, "sbom", "-o", "sbom.json")
    assert sbom.returncode == 2 and "damaged" in sbom.stderr and "hint:" in sbom.stderr
    assert not (repo_copy / "sbom.json").exists()
    install = _twinlock(repo_copy, "install", "--root", "stage")
    assert install.returncode == 2 and "damaged" in install.stderr
    assert not (repo_copy / "stage").exists()


@pytest.mark.slow
def test_update_takes_the_channel_record_for_a_contradicted_pin(repo_copy: Path) -> None:
    path = repo_copy / "locks" / "rsp" / "lab.conda-lock.yml"
    path.write_text(_damage("sha-char"))
    with pytest.raises(LockFileError, match="differ from the channel") as caught:
        run_lock(_project(repo_copy))
    assert "--update jupyterlab" in caught.value.hint
    run_lock(_project(repo_copy), update=["jupyterlab"])
    assert path.read_text() == LAB_TEXT
