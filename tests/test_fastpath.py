"""The fast paths: the stdlib-only front, the no-op stamp, and what each command imports.

Every test runs the real console script in a subprocess with ``python -X
importtime``, which lists each module the process imported: what a command
imports is what it pays for at start-up. (Timings are bench/'s business.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from twinlock.app import noop
from twinlock.cli.front import parse
from twinlock.fileio import cache_dir

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "twinlock"
# Imported by a command only when it needs them (the list, plus typer's own weight).
HEAVY = {"rattler", "networkx", "cyclonedx", "asyncio", "yaml", "conda_lock", "pydantic", "rich"}
HELP_MODULE_BUDGET = 200  # `twinlock --help` imports 160 modules today, interpreter included


def run_script(*args: str, cwd: Path = REPO) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the console script under ``-X importtime``; return it and every module imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(SCRIPT), *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    return done, importtime_modules(done.stderr)


def importtime_modules(stderr: str) -> set[str]:
    """Every module a ``python -X importtime`` run lists on *stderr*."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    } - {"imported package"}


def interpreter_modules() -> set[str]:
    """What the interpreter imports on its own (site, .pth hooks): ``python -c pass``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"],
        check=True,
        capture_output=True,
        text=True,
    )
    return importtime_modules(done.stderr)


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_help_stays_within_its_module_budget() -> None:
    done, modules = run_script("--help")
    assert done.returncode == 0
    assert "Commands:" in done.stdout
    assert not top_level(modules) & HEAVY
    assert len(modules) <= HELP_MODULE_BUDGET, sorted(modules)


@pytest.mark.parametrize(
    ("args", "absent"),
    [
        pytest.param(
            ["diff", "tests/data/diff/old", "tests/data/diff/new"],
            # rattler orders versions, yaml resolves plain scalars, rich draws the tables
            HEAVY - {"rich", "yaml", "rattler"},
            id="diff",
        ),
        pytest.param(
            ["check", "envs/rsp.yaml"], HEAVY - {"rattler", "yaml", "asyncio"}, id="check"
        ),
    ],
)
def test_hot_commands_import_nothing_they_do_not_need(args: list[str], absent: set[str]) -> None:
    done, modules = run_script(*args)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert not top_level(modules) & (absent | {"typer", "conda_lock"})


@pytest.fixture
def locked_copy(tmp_path: Path) -> Path:
    """A copy of the bundled example's locks: a no-op relock needs no solve."""
    locks = tmp_path / "locks"
    shutil.copytree(REPO / "locks" / "rsp", locks / "rsp")
    return locks


def test_a_noop_relock_is_answered_from_the_stamp_with_the_same_summary(locked_copy: Path) -> None:
    args = ["lock", "envs/rsp.yaml", "--locks-dir", str(locked_copy)]
    full, full_modules = run_script(*args)
    assert full.returncode == 0, full.stderr[-2000:]
    assert "yaml" in top_level(full_modules)  # the full path read the locks
    fast, fast_modules = run_script(*args)
    assert fast.returncode == 0
    assert fast.stdout == full.stdout
    assert "reused (inputs unchanged)" in fast.stdout
    own = fast_modules - interpreter_modules()
    third_party = {m for m in top_level(own) if m not in sys.stdlib_module_names}
    assert third_party == {"twinlock"}
    assert {m for m in fast_modules if m.startswith("twinlock")} <= {
        "twinlock",
        "twinlock.app",
        "twinlock.app.noop",
        "twinlock.cli",
        "twinlock.cli.front",
        "twinlock.cli.main",
    }


def _damage_hash(path: Path) -> None:
    """Change one character of the first sha256 of the package list."""
    text = path.read_text()
    at = text.index("sha256: ", text.index("\npackage:")) + len("sha256: ")
    path.write_text(text[:at] + ("0" if text[at] != "0" else "1") + text[at + 1 :])


def test_a_damaged_lock_is_never_taken_by_the_noop_path(locked_copy: Path) -> None:
    args = ["lock", "envs/rsp.yaml", "--locks-dir", str(locked_copy)]
    assert run_script(*args)[0].returncode == 0  # stamps
    argv = args
    assert noop.cached_output("lock", argv, str(REPO)) is not None
    _damage_hash(locked_copy / "rsp" / "payload.conda-lock.yml")
    assert noop.cached_output("lock", argv, str(REPO)) is None
    done, modules = run_script(*args)
    # The full path ran (not the stamp) and refused the lock the channel contradicts.
    assert "yaml" in top_level(modules)
    assert done.returncode == 2 and "reused" not in done.stdout
    assert "_openmp_mutex" in done.stderr


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: (d / "rsp" / "orphan.explicit.txt").write_text("x"), id="new-file"),
        pytest.param(lambda d: (d / "rsp" / "lab-osx-arm64.explicit.txt").unlink(), id="removed"),
        pytest.param(
            lambda d: (d / "rsp" / "lab.conda-lock.yml").write_text(
                (d / "rsp" / "lab.conda-lock.yml").read_text() + "\n"
            ),
            id="one-byte-added",
        ),
    ],
)
def test_any_change_to_the_locks_falls_through(locked_copy: Path, change: object) -> None:
    args = ["lock", "envs/rsp.yaml", "--locks-dir", str(locked_copy)]
    assert run_script(*args)[0].returncode == 0
    assert noop.cached_output("lock", args, str(REPO)) is not None
    assert callable(change)
    change(locked_copy)
    assert noop.cached_output("lock", args, str(REPO)) is None


def test_the_stamp_is_written_only_after_a_successful_run(tmp_path: Path) -> None:
    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / "bad.yaml").write_text("name: bad\nchanels: [conda-forge]\n")
    args = ["lock", "envs/bad.yaml", "--locks-dir", str(tmp_path / "locks")]
    done, _ = run_script(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert "error:" in done.stderr
    assert not Path(noop.stamp_path("lock", args, str(tmp_path))).exists()
    assert noop.cached_output("lock", args, str(tmp_path)) is None


def test_an_unstamped_option_or_other_directory_takes_the_full_path(locked_copy: Path) -> None:
    args = ["lock", "envs/rsp.yaml", "--locks-dir", str(locked_copy)]
    assert run_script(*args)[0].returncode == 0
    assert noop.cached_output("lock", [*args, "-e", "lab"], str(REPO)) is None
    assert noop.cached_output("lock", args, str(locked_copy)) is None


@pytest.mark.parametrize(
    "environ",
    [
        pytest.param({"TWINLOCK_CACHE_DIR": "/x/cache"}, id="explicit"),
        pytest.param({"XDG_CACHE_HOME": "/x/xdg"}, id="xdg"),
        pytest.param({}, id="home"),
    ],
)
def test_the_stamp_lives_in_the_cache_directory(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TWINLOCK_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert noop.cache_root() == str(cache_dir())


@pytest.mark.parametrize(
    ("argv", "parsed"),
    [
        pytest.param(["lock"], ("lock", [], [], False), id="lock"),
        pytest.param(
            ["lock", "a.yaml", "b.yaml", "-e", "lab", "--env=payload", "--full"],
            ("lock", ["a.yaml", "b.yaml"], ["lab", "payload"], True),
            id="lock-many",
        ),
        pytest.param(["check", "envs/rsp.yaml"], ("check", ["envs/rsp.yaml"], [], False), id="chk"),
        pytest.param(["diff", "a", "b", "-f", "json"], ("diff", ["a", "b"], [], False), id="diff"),
        pytest.param(["lock", "--help"], None, id="help"),
        pytest.param(["lock", "--bogus"], None, id="unknown-option"),
        pytest.param(["lock", "--env"], None, id="missing-value"),
        pytest.param(["lock", "--full=yes"], None, id="flag-with-value"),
        pytest.param(["check", "a", "b"], None, id="check-two-compositions"),
        pytest.param(["diff", "a", "b", "c"], None, id="diff-three"),
        pytest.param(["-v", "lock"], None, id="global-option"),
        pytest.param(["why", "payload", "x"], None, id="other-command"),
        pytest.param([], None, id="nothing"),
    ],
)
def test_the_front_parses_only_what_it_fully_understands(
    argv: list[str], parsed: tuple[str, list[str], list[str], bool] | None
) -> None:
    args = parse(argv)
    if parsed is None:
        assert args is None
        return
    assert args is not None
    assert (args.command, args.compositions, args.env, args.full) == parsed


@pytest.mark.parametrize(
    ("args", "code", "stream", "text"),
    [
        pytest.param(["lock", "--bogus"], 2, "stderr", "No such option", id="typer-usage"),
        pytest.param(["check", "envs/missing.yaml"], 2, "stderr", "error:", id="bad-input"),
        pytest.param(["diff", "nowhere", "locks/rsp"], 2, "stderr", "hint:", id="diff-bad"),
        pytest.param(
            ["diff", "tests/data/diff/old", "tests/data/diff/new", "--exit-code"],
            3,
            "stdout",
            "HASH ALARM",
            id="diff-alarm",
        ),
    ],
)
def test_exit_codes_through_the_front(args: list[str], code: int, stream: str, text: str) -> None:
    done, _ = run_script(*args)
    assert done.returncode == code
    assert text in getattr(done, stream)


def test_edited_code_does_not_reuse_stamps(
    locked_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["lock", "envs/rsp.yaml", "--locks-dir", str(locked_copy)]
    assert run_script(*args)[0].returncode == 0
    assert noop.cached_output("lock", args, str(REPO)) is not None
    monkeypatch.setattr(noop, "code_fingerprint", lambda: "twinlock, edited")
    assert noop.cached_output("lock", args, str(REPO)) is None


def test_the_fingerprint_follows_every_source_file() -> None:
    before = noop.code_fingerprint()
    source = Path(noop.__file__)
    stat = source.stat()
    try:
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert noop.code_fingerprint() != before
    finally:
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert noop.code_fingerprint() == before


@pytest.mark.slow
@pytest.mark.parametrize("blocked", ["noop", "records"])
def test_an_unusable_cache_directory_only_costs_speed(tmp_path: Path, blocked: str) -> None:
    """A cache that cannot be written (here a file where a directory belongs) is no error."""
    from twinlock.solve.channels import bundled_channel

    bundled_channel("conda-forge-snapshot")  # unpacked once, shared through a symlink
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "channels").symlink_to(cache_dir() / "channels")
    (cache / blocked).write_text("a file where the cache keeps a directory\n")
    env = {**os.environ, "TWINLOCK_CACHE_DIR": str(cache)}
    locks = str(tmp_path / "locks")
    for args in (["lock", "--locks-dir", locks], ["check", "--locks-dir", locks]):
        done = subprocess.run(
            [str(SCRIPT), args[0], "envs/rsp.yaml", *args[1:]],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "error" not in done.stderr


def test_a_fifo_in_place_of_the_stamp_is_ignored_not_read(locked_copy: Path) -> None:
    args = ["lock", "envs/rsp.yaml", "--locks-dir", str(locked_copy)]
    path = Path(noop.stamp_path("lock", args, str(REPO)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    assert noop.cached_output("lock", args, str(REPO)) is None  # returns: no blocking read
