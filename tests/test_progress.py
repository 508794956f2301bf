"""Progress on stderr: drawn on a (fake or pseudo) terminal, absent when piped or --quiet."""

from __future__ import annotations

import io
import os
import pty
import shutil
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from twinlock.app.lock import run_lock
from twinlock.app.progress import CountingSolver, Step
from twinlock.app.project import open_project
from twinlock.cli.progress import progress_display, step_line
from twinlock.solve.adapter import SolveOutcome, SolveRequest

from .conftest import REPO, ProjectFactory, mix_composition

TWINLOCK = str(REPO / ".venv" / "bin" / "twinlock")
STEPS = [
    Step("lab linux-64", "solving", "5 specs"),
    Step("payload linux-64", "reused", "547 packages"),
    Step("lab linux-64", "solved", "166 packages", 1.234),
    Step("lab linux-64", "written", "lab-linux-64.explicit.txt"),
]


def _console(*, terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=100), out


@pytest.fixture(autouse=True)
def _runner_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich reads TERM and NO_COLOR itself: the test runner's must not decide the display."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.mark.parametrize(
    ("environ", "quiet", "terminal", "drawn"),
    [
        pytest.param({}, False, True, True, id="live"),
        pytest.param({"NO_COLOR": "1"}, False, True, True, id="no-color-plain"),
        pytest.param({"TERM": "dumb"}, False, True, True, id="dumb-plain"),
        pytest.param({}, True, True, False, id="quiet"),
        pytest.param({}, False, False, False, id="piped"),
    ],
)
def test_progress_display(
    environ: dict[str, str], quiet: bool, terminal: bool, drawn: bool
) -> None:
    console, out = _console(terminal=terminal)
    with progress_display(quiet=quiet, console=console, environ=environ) as progress:
        for step in STEPS:
            progress(step)
    text = out.getvalue()
    if not drawn:
        assert text == ""
        return
    assert "lab linux-64: solved 166 packages in 1.23 s" in text
    assert "payload linux-64: reused 547 packages" in text
    if environ:
        # Plain lines: one per step, no cursor movement or colour.
        assert text.splitlines() == [step_line(s) for s in STEPS]
    else:
        assert "\x1b[" in text


def test_conflict_search_reports_solves_and_time_left() -> None:
    now = [100.0]
    steps: list[Step] = []

    class Fake:
        def solve_all(self, requests: list[SolveRequest]) -> list[SolveOutcome]:
            now[0] += 4.0
            return [SolveOutcome(r, None, "no", 4.0) for r in requests]

    request = SolveRequest("lab", "linux-64", ("python",), (), ())
    counting = CountingSolver(Fake(), steps.append, 10.0, clock=lambda: now[0])
    counting.solve_all([request, request])
    counting.solve_all([request])
    assert [(s.task, s.state, s.detail) for s in steps] == [
        ("lab linux-64", "searching", "2 solves, 6 s left"),
        ("lab linux-64", "searching", "3 solves, 2 s left"),
    ]


def test_lock_reports_each_environment_and_platform(tmp_path: Path) -> None:
    shutil.copytree(REPO / "locks", tmp_path / "locks")
    project = open_project(REPO / "envs" / "rsp.yaml", locks_dir=tmp_path / "locks")
    steps: list[Step] = []
    run_lock(project, progress=steps.append)
    assert [(s.task, s.state) for s in steps] == [
        ("lab linux-64", "reused"),
        ("lab linux-aarch64", "reused"),
        ("lab osx-arm64", "reused"),
        ("payload linux-64", "reused"),
    ]


def _lock_on_a_pty(locks: Path, *options: str, **env: str) -> tuple[str, str]:
    """Run ``twinlock lock`` with stderr on a pseudo-terminal and stdout on a pipe."""
    return _on_a_pty([*options, "lock", "--locks-dir", str(locks)], REPO, **env)


def _on_a_pty(args: list[str], cwd: Path, **env: str) -> tuple[str, str]:
    """Run twinlock with stderr on a pseudo-terminal and stdout on a pipe."""
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [TWINLOCK, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=follower,
        # The display depends on TERM and NO_COLOR: the caller's, not the test runner's.
        env={
            **{k: v for k, v in os.environ.items() if k not in ("TERM", "NO_COLOR")},
            "TERM": "xterm-256color",
            **env,
        },
    ) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the follower side closed: the process is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        stdout = proc.stdout.read().decode() if proc.stdout else ""
        assert proc.wait() == 0
    os.close(leader)
    return stdout, b"".join(chunks).decode()


def test_real_console_script_draws_on_a_terminal_never_on_stdout(tmp_path: Path) -> None:
    shutil.copytree(REPO / "locks", tmp_path / "locks")
    stdout, stderr = _lock_on_a_pty(tmp_path / "locks", NO_COLOR="1")
    assert "payload linux-64: reused 547 packages" in stderr
    assert "reused 547 packages" not in stdout
    assert "payload linux-64: 547 packages, reused (inputs unchanged)" in stdout
    _, live = _lock_on_a_pty(tmp_path / "locks")
    assert "payload linux-64: reused 547 packages" in live and "\x1b[" in live
    _, quiet = _lock_on_a_pty(tmp_path / "locks", "--quiet", NO_COLOR="1")
    assert quiet == ""


def test_real_console_script_is_silent_when_piped_or_quiet(tmp_path: Path) -> None:
    shutil.copytree(REPO / "locks", tmp_path / "locks")
    for args in (["lock"], ["--quiet", "lock"]):
        done = subprocess.run(
            [TWINLOCK, *args, "--locks-dir", str(tmp_path / "locks")],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0 and done.stderr == ""


def test_pypi_resolution_reports_each_environment_and_platform() -> None:
    from twinlock.app.progress import ReportingResolver
    from twinlock.pypi.plan import PypiOutcome, PypiRequest

    class Fake:
        def resolve_all(self, requests: list[PypiRequest]) -> list[PypiOutcome]:
            return [PypiOutcome(requests[0], (), None, 0.5), PypiOutcome(requests[1], None, "x", 1)]

    steps: list[Step] = []
    requests = [
        PypiRequest("lab", "linux-64", "3.12", ("jupyterlab",)),
        PypiRequest("lab", "osx-arm64", "3.12", ("jupyterlab", "nope")),
    ]
    ReportingResolver(Fake(), steps.append).resolve_all(requests)
    assert [step_line(s) for s in steps] == [
        "lab linux-64: resolving PyPI 1 requirements",
        "lab osx-arm64: resolving PyPI 2 requirements",
        "lab linux-64: PyPI resolved 0 PyPI packages in 0.50 s",
        "lab osx-arm64: failed PyPI layer does not resolve in 1.00 s",
    ]


def test_mirror_reports_each_archive(tmp_path: Path) -> None:
    from twinlock.app.mirror import run_mirror

    from .installfixtures import make_install_project

    ip = make_install_project(tmp_path)
    project = open_project(ip.composition, cwd=ip.root)
    run_lock(project)
    steps: list[Step] = []
    report = run_mirror(project, dest=tmp_path / "mirror", progress=steps.append)
    total = report.copied + report.present
    assert [(s.state, s.done, s.total) for s in steps] == [
        ("fetching", i, total) for i in range(1, total + 1)
    ]


@pytest.mark.slow
def test_explain_reports_its_solves() -> None:
    from twinlock.app.explain import run_explain

    project = open_project(REPO / "envs" / "rsp.yaml")
    steps: list[Step] = []
    analysis = run_explain(
        project, environments=["lab"], platforms=["linux-64"], progress=steps.append
    )
    assert analysis.ok
    assert steps and steps[0].task == "lab linux-64" and steps[0].state == "searching"
    assert steps[0].detail.startswith("1 solve, ")


def test_install_progress_is_plain_lines_under_no_color(tmp_path: Path) -> None:
    from .installfixtures import make_install_project

    ip = make_install_project(tmp_path)
    run_lock(open_project(ip.composition, cwd=ip.root))
    args = ["install", str(ip.composition), "--root", "root", "-p", "linux-64"]
    stdout, stderr = _on_a_pty(args, ip.root, NO_COLOR="1")
    lines = stderr.replace("\r", "").splitlines()
    # verify then link each of the 3 packages: 6 steps; one line per phase start and end
    assert lines == [
        *("lab: verify 1/6", "payload: verify 1/6"),
        *("lab: link 4/6", "lab: link 6/6", "payload: link 4/6", "payload: link 6/6"),
    ]
    assert "\x1b[" not in stderr
    assert "lab: installed 3 packages" in stdout and "link 6/6" not in stdout


def test_solver_reports_solving_then_solved_or_failed() -> None:
    from twinlock.app.progress import ReportingSolver
    from twinlock.model.lock import LockedPackage

    class Fake:
        def solve_all(self, requests: list[SolveRequest]) -> list[SolveOutcome]:
            packages: tuple[LockedPackage, ...] = ()
            return [SolveOutcome(requests[0], packages, None, 0.25)] + [
                SolveOutcome(r, None, "nothing provides x", 0.5) for r in requests[1:]
            ]

    steps: list[Step] = []
    requests = [
        SolveRequest("lab", "linux-64", ("python", "jupyterlab"), (), ()),
        SolveRequest("payload", "linux-64", ("x",), (), ()),
    ]
    ReportingSolver(Fake(), steps.append).solve_all(requests)
    assert [step_line(s) for s in steps] == [
        "lab linux-64: solving 2 specs",
        "payload linux-64: solving 1 specs",
        "lab linux-64: solved 0 packages in 0.25 s",
        "payload linux-64: failed does not solve in 0.50 s",
    ]


@pytest.mark.slow
def test_a_failed_lock_reports_its_conflict_search(make_project: ProjectFactory) -> None:
    from twinlock.explain.model import ConflictsError

    project = make_project(mix_composition(requirements=["python 3.12.*", "numpy <1.20"]))
    steps: list[Step] = []
    with pytest.raises(ConflictsError):
        run_lock(project, progress=steps.append, explain_time_limit=20)
    states = [s.state for s in steps]
    assert states[:2] == ["solving", "failed"]
    assert states[2:] and set(states[2:]) == {"searching"}
    assert steps[-1].detail.endswith("s left") and (steps[-1].done or 0) >= 2


@pytest.mark.parametrize("tty", [pytest.param(False, id="piped"), pytest.param(True, id="tty")])
@pytest.mark.parametrize(
    "environ",
    [
        pytest.param({}, id="plain"),
        pytest.param({"FORCE_COLOR": "1"}, id="force-color"),
        pytest.param({"FORCE_COLOR": ""}, id="force-color-empty"),
        pytest.param({"TTY_COMPATIBLE": "1"}, id="tty-compatible"),
        pytest.param({"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"}, id="tty-incompatible"),
    ],
)
def test_the_rich_free_shortcut_never_hides_progress_rich_would_draw(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], tty: bool
) -> None:
    """Without importing rich, progress_display skips the display only where rich would."""
    from twinlock.cli.progress import _surely_not_a_terminal

    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    leader, follower = pty.openpty()
    stream = os.fdopen(follower, "w") if tty else io.StringIO()
    try:
        monkeypatch.setattr("sys.stderr", stream)
        rich_says = Console(stderr=True).is_terminal
        if _surely_not_a_terminal(os.environ):
            assert not rich_says
        assert _surely_not_a_terminal(os.environ) == (not tty and not any(environ.values()))
    finally:
        stream.close()
        os.close(leader)
        if not tty:
            os.close(follower)
