"""Issue 13's speed table on the bundled example (envs/rsp.yaml), whole processes only.

Every figure is the median of RUNS runs, the processes of one round alternated
(floor, full lock, no-op, ...) so that the load of this shared machine falls on
all of them alike; the spread (min-max) is printed next to it.

* floor: a separate process that imports only rattler and solves the same four
  environment x platform requests, concurrently, on one gateway, from the same
  unpacked snapshot. The requests are built beforehand by twinlock's own
  adapter (``SolveRequest.for_environment``), outside the timing, and written
  to JSON; the floor's package counts are checked equal to the lock's.
* full lock: ``twinlock lock envs/rsp.yaml`` into an empty directory (W1).
* no-op relock: the same command on locks it just wrote (the stamp answers).
* ``python -c pass``: the interpreter alone, for scale.
* ``twinlock check`` of the committed locks; ``twinlock diff`` of two lock dirs of
  the example (locks/rsp and a fresh lock of it), and of the PyPI variant against
  it (hundreds of changed rows, where drawing the tables dominates).
* ``twinlock --help``.
* W7: seven historical rubin-env payloads plus the lab, as eight compositions in
  one ``twinlock lock`` call (bench/data/historical-payloads.json says how the
  spec lists were made solvable against the snapshot), and its own floor: the
  bare rattler process solving W7's ten requests, so that the W7 / W1 target can
  be read against what the solver alone needs for the larger job.
* ``check`` twice: as it runs again (channel records remembered in the cache),
  and with those records forgotten (the first check against a channel state).
* peak RSS and CPU time of the full lock and of the floor (``wait4``'s rusage, from
  a small probe process), in extra runs of each round.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TWINLOCK = str(BIN / "twinlock")
RUNS = int(os.environ.get("TWINLOCK_BENCH_RUNS", "5"))  # >= 5 for the README figures

FLOOR = textwrap.dedent(
    """
    import asyncio, datetime as dt, json, sys
    import rattler

    async def main(jobs):
        gateway = rattler.Gateway()
        async def one(job):
            return await rattler.solve(
                [rattler.Channel(c) for c in job["channels"]],
                job["specs"],
                gateway=gateway,
                platforms=[job["platform"], "noarch"],
                virtual_packages=[
                    rattler.GenericVirtualPackage(
                        rattler.PackageName(n), rattler.Version(v), rattler.BuildString(b)
                    )
                    for n, v, b in job["virtual_packages"]
                ],
                exclude_newer=job["snapshot"] and dt.datetime.fromisoformat(job["snapshot"]),
                timestamp_policy="allow-missing",
            )
        done = await asyncio.gather(*(one(job) for job in jobs))
        counts = {f"{j['environment']} {j['platform']}": len(r) for j, r in zip(jobs, done)}
        print(json.dumps(counts))

    asyncio.run(main(json.load(open(sys.argv[1]))))
    """
)


# Peak RSS is measured from a small process: a child forked from this (large) bench
# process would carry the parent's resident pages in its high-water mark until exec.
RSS_PROBE = textwrap.dedent(
    """
    import os, subprocess, sys
    child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
    """
)


def _requests(out: Path, compositions: list[Path], cwd: Path, name: str) -> Path:
    """The requests of a full lock of *compositions*, as twinlock builds them, in JSON."""
    jobs = [job for path in compositions for job in _jobs(path, cwd)]
    path = out / f"{name}.json"
    path.write_text(json.dumps(jobs))
    return path


def _jobs(composition: Path, cwd: Path) -> list[dict[str, object]]:
    from twinlock.app.project import open_project
    from twinlock.solve.adapter import SolveRequest
    from twinlock.solve.channels import local_channel_dir

    project = open_project(composition, cwd=cwd)
    jobs: list[dict[str, object]] = []
    for env in project.composition.environments:
        for platform in env.platforms:
            req = SolveRequest.for_environment(project.composition, env, platform)
            mirrors = project.config.mirrors
            jobs.append(
                {
                    "environment": env.name,
                    "platform": platform,
                    "specs": list(req.specs),
                    "channels": [
                        str(local_channel_dir(mirrors[c.url])) if c.url in mirrors else c.url
                        for c in req.channels
                    ],
                    "virtual_packages": [
                        [v.name, v.version, v.build] for v in req.virtual_packages
                    ],
                    "snapshot": req.snapshot.isoformat() if req.snapshot else None,
                }
            )
    return jobs


def _w7(out: Path) -> list[str]:
    """Eight compositions (the lab, seven payloads) sharing the example's settings."""
    import yaml

    base = yaml.safe_load((REPO / "envs" / "rsp.yaml").read_text())
    data = json.loads((REPO / "bench" / "data" / "historical-payloads.json").read_text())
    shutil.copy(REPO / "twinlock.toml", out / "twinlock.toml")
    (out / "envs").mkdir()
    base.pop("align", None)
    lab = {**base, "name": "lab", "environments": {"lab": base["environments"]["lab"]}}
    files = {"lab": lab}
    for version, specs in data["payloads"].items():
        name = "rubin-env-" + version.replace(".", "-")
        files[name] = {
            **base,
            "name": name,
            "platforms": ["linux-64"],
            "environments": {"payload": {"prefix": "/opt/payload", "requirements": specs}},
        }
    for name, composition in files.items():
        (out / "envs" / f"{name}.yaml").write_text(yaml.safe_dump(composition, sort_keys=False))
    return [f"envs/{name}.yaml" for name in files]


def _timed(args: list[str], cwd: Path) -> tuple[float, str]:
    """Wall time and stdout of one process."""
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{args} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return seconds, done.stdout.decode()


def _peak_rss(args: list[str], cwd: Path, probe: Path) -> tuple[float, float]:
    """Peak resident set (MiB) and CPU time (user + system, s) of one process."""
    done = subprocess.run(
        [sys.executable, str(probe), *args], cwd=cwd, capture_output=True, check=True
    )
    rss, cpu = done.stdout.split()[-2:]
    return int(rss) / 1024, float(cpu)


def _lock_counts(locks: Path) -> dict[str, int]:
    from twinlock.lock.store import read_lock_file

    counts = {}
    for path in sorted(locks.glob("*.conda-lock.yml")):
        lock = read_lock_file(path)
        counts |= {f"{lock.environment} {p.platform}": len(p.packages) for p in lock.platforms}
    return counts


def _rounds(
    work: Path, requests: Path, w7: list[str], w7_requests: Path
) -> tuple[dict[str, list[float]], dict[str, int]]:
    noop_dir = work / "noop"
    _timed([TWINLOCK, "lock", "envs/rsp.yaml", "--locks-dir", str(noop_dir)], REPO)
    _timed([TWINLOCK, "lock", "envs/rsp.yaml", "--locks-dir", str(noop_dir)], REPO)  # stamps
    floor_script = work / "floor.py"
    floor_script.write_text(FLOOR)
    probe = work / "rss.py"
    probe.write_text(RSS_PROBE)
    jobs: dict[str, Callable[[int], tuple[list[str], Path]]] = {
        "floor": lambda i: ([sys.executable, str(floor_script), str(requests)], REPO),
        "full": lambda i: (
            [TWINLOCK, "lock", "envs/rsp.yaml", "--locks-dir", str(work / f"full{i}")],
            REPO,
        ),
        "noop": lambda i: ([TWINLOCK, "lock", "envs/rsp.yaml", "--locks-dir", str(noop_dir)], REPO),
        "pass": lambda i: ([sys.executable, "-c", "pass"], REPO),
        "help": lambda i: ([TWINLOCK, "--help"], REPO),
        "check": lambda i: ([TWINLOCK, "check", "envs/rsp.yaml"], REPO),
        # the same with the channel records it remembers forgotten (a first check)
        "check-cold": lambda i: ([TWINLOCK, "check", "envs/rsp.yaml"], REPO),
        # two lock dirs of the example: the committed one and a fresh lock of it
        "diff": lambda i: ([TWINLOCK, "diff", "locks/rsp", str(noop_dir / "rsp")], REPO),
        # the conda lab against the PyPI lab: ~420 changed rows drawn as rich tables
        "diff-big": lambda i: ([TWINLOCK, "diff", "locks/rsp-pypi", "locks/rsp"], REPO),
        "w7": lambda i: ([TWINLOCK, "lock", *w7, "--locks-dir", f"w7-{i}"], work / "w7"),
        "w7-floor": lambda i: ([sys.executable, str(floor_script), str(w7_requests)], REPO),
    }
    times: dict[str, list[float]] = {name: [] for name in jobs}
    rss: dict[str, list[float]] = {"full": [], "floor": []}
    cpu: dict[str, list[float]] = {"full": [], "floor": []}
    floor_counts: dict[str, int] = {}
    for i in range(RUNS):
        for name, job in jobs.items():
            if name == "check-cold":
                from twinlock.fileio import cache_dir

                shutil.rmtree(cache_dir() / "records", ignore_errors=True)
            seconds, out = _timed(*job(i))
            times[name].append(seconds)
            if name == "floor":
                floor_counts = json.loads(out)
        for name, peaks in rss.items():
            args, cwd = jobs[name](RUNS + i)
            peak, seconds = _peak_rss(args, cwd, probe)
            peaks.append(peak)
            cpu[name].append(seconds)
    times |= {f"rss-{k}": v for k, v in rss.items()}
    times |= {f"cpu-{k}": v for k, v in cpu.items()}
    return times, floor_counts


def _fmt(values: list[float], unit: str = "s") -> str:
    median = statistics.median(values)
    if unit == "ms":
        return f"{median * 1000:.0f} ms ({min(values) * 1000:.0f}-{max(values) * 1000:.0f})"
    if unit == "MiB":
        return f"{median:.0f} MiB ({min(values):.0f}-{max(values):.0f})"
    return f"{median:.2f} s ({min(values):.2f}-{max(values):.2f})"


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "w7").mkdir()
        requests = _requests(work, [REPO / "envs" / "rsp.yaml"], REPO, "w1")
        w7 = _w7(work / "w7")
        w7_requests = _requests(work, [work / "w7" / c for c in w7], work / "w7", "w7")
        load_before = os.getloadavg()[0]
        t, floor_counts = _rounds(work, requests, w7, w7_requests)
        load_after = os.getloadavg()[0]
        counts = _lock_counts(work / "full0" / "rsp")
    med = {k: statistics.median(v) for k, v in t.items()}
    return [
        (f"runs per figure (median, min-max); load avg {load_before:.1f} -> {load_after:.1f}", ""),
        ("bare rattler solve process (floor)", _fmt(t["floor"])),
        (
            "  package counts equal the lock's",
            f"{floor_counts == counts} {sorted(counts.values())}",
        ),
        ("twinlock lock envs/rsp.yaml, empty dir (W1)", _fmt(t["full"])),
        ("  W1 / floor (target <= 1.15x)", f"{med['full'] / med['floor']:.2f}x"),
        ("  CPU time (user+sys), W1 / floor", f"{_fmt(t['cpu-full'])} / {_fmt(t['cpu-floor'])}"),
        (
            "  CPU ratio (less sensitive to the machine's load)",
            f"{med['cpu-full'] / med['cpu-floor']:.2f}x",
        ),
        ("no-op relock (stamp)", _fmt(t["noop"], "ms")),
        ("  W1 / no-op (target >= 50x)", f"{med['full'] / med['noop']:.0f}x"),
        ("python -c pass", _fmt(t["pass"], "ms")),
        ("  no-op / python -c pass (target ~2x)", f"{med['noop'] / med['pass']:.1f}x"),
        ("twinlock check envs/rsp.yaml (target <= 0.2 s)", _fmt(t["check"])),
        ("  the same, channel records not yet remembered", _fmt(t["check-cold"])),
        ("twinlock diff of two lock dirs of the example (target <= 0.2 s)", _fmt(t["diff"])),
        ("twinlock diff locks/rsp-pypi locks/rsp (420 rows drawn)", _fmt(t["diff-big"])),
        ("twinlock --help (target <= 0.15 s)", _fmt(t["help"])),
        ("7 historical payloads + lab, one call (W7)", _fmt(t["w7"])),
        ("  W7 / W1 (target <= 1.5x)", f"{med['w7'] / med['full']:.2f}x"),
        ("bare rattler solve of W7's ten requests (W7 floor)", _fmt(t["w7-floor"])),
        ("  W7 / W7 floor (twinlock's own cost)", f"{med['w7'] / med['w7-floor']:.2f}x"),
        (
            "  W7 floor / W1 floor (the solver's own ratio)",
            f"{med['w7-floor'] / med['floor']:.2f}x",
        ),
        ("peak RSS, full lock", _fmt(t["rss-full"], "MiB")),
        ("peak RSS, floor", _fmt(t["rss-floor"], "MiB")),
        ("  ratio (target <= 1.1x)", f"{med['rss-full'] / med['rss-floor']:.2f}x"),
    ]


if __name__ == "__main__":
    for label, value in run():
        print(f"  {label:<58} {value}")
