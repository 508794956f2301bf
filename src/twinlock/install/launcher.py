"""The kernel launcher twinlock writes next to a payload's kernelspec (standard library only).

Jupyter runs it with the *lab's* Python (``python -I launcher.py {connection_file}``),
so it works even when the payload prefix is gone. It reads the twinlock metadata
of the ``kernel.json`` beside it and compares the payload prefix with the stamp
``twinlock install`` left there (:data:`STAMP`): the lock digest, and a
fingerprint of what is installed (conda-meta records, and each PyPI ``*.dist-info`` directory
with the size of its RECORD: names and sizes only, nothing hashed, so the check
stays within a few milliseconds; in-place edits of other files are
``twinlock verify --deep``'s job). Then:

* unchanged: exec the payload's kernel, silently;
* drifted: exec it all the same, and the first cell shows what changed and that
  ``twinlock verify`` lists everything (an IPython ``pre_run_cell`` hook);
* no payload Python: start the lab's own ipykernel as a fallback whose every cell
  fails with the problem, instead of a kernel that dies unexplained.

twinlock imports this module too (:func:`fingerprint`), so the stamp written at
install time and the launcher's check are the same code. Keep it importable
by any Python 3.8+ and free of third-party imports.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys

STAMP = ".twinlock/stamp.json"
WARNING_VARIABLE = "TWINLOCK_KERNEL_WARNING"
ERROR_VARIABLE = "TWINLOCK_KERNEL_ERROR"
_MAX_LISTED = 5

# Run inside the payload kernel when it drifted: say so once, in the first cell's output.
_WARN_ONCE = (
    "import os as _o, sys as _s\n"
    "def _twinlock_warn(*_a, _m=_o.environ.pop('TWINLOCK_KERNEL_WARNING', '')):\n"
    "    get_ipython().events.unregister('pre_run_cell', _twinlock_warn)\n"
    "    print('twinlock: ' + _m, file=_s.stderr)\n"
    "get_ipython().events.register('pre_run_cell', _twinlock_warn)\n"
)
# Run inside the fallback kernel (the lab's Python): no cell may run as if it were the payload.
_REFUSE_EVERY_CELL = (
    "import os as _o\n"
    "_twinlock_error = _o.environ.get('TWINLOCK_KERNEL_ERROR', '')\n"
    "get_ipython().input_transformers_cleanup.append(\n"
    "    lambda _lines: ['raise RuntimeError(' + repr(_twinlock_error) + ')\\n'])\n"
)


def _entries(directory: str) -> list[tuple[str, int]]:
    try:
        with os.scandir(directory) as found:
            return sorted((e.name, e.stat(follow_symlinks=False).st_size) for e in found)
    except OSError:
        return []


def _site_packages(prefix: str) -> list[str]:
    lib = os.path.join(prefix, "lib")
    found = [os.path.join(lib, n, "site-packages") for n in _names(lib) if n.startswith("python")]
    return [site for site in found if os.path.isdir(site)]


def fingerprint(prefix: str) -> dict[str, list[str]]:
    """What is installed in *prefix*, cheaply: ``{area: ["name size", ...]}``.

    Sizes, not modification times: copying a staged prefix into an image keeps
    sizes but not always times.
    """
    areas = {"conda-meta": [f"{n} {s}" for n, s in _entries(os.path.join(prefix, "conda-meta"))]}
    for site in _site_packages(prefix):
        rows = []
        for name in _names(site):
            if name.endswith(".dist-info"):
                rows.append(f"{name}/RECORD {_size(os.path.join(site, name, 'RECORD'))}")
        areas[os.path.relpath(site, prefix)] = rows
    return areas


def _names(directory: str) -> list[str]:
    try:
        return sorted(os.listdir(directory))
    except OSError:  # not a directory (lib/python-prefix.txt), or unreadable
        return []


def _size(path: str) -> int:
    """A file's size, -1 when it is absent (RECORD lists every file a PyPI install wrote)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return -1


def describe_drift(stamp: dict[str, object], lock_digest: str, prefix: str) -> str | None:
    """What changed in *prefix* since *stamp* was written (None: nothing)."""
    if stamp.get("lock_digest") != lock_digest:
        return f"{prefix} was installed from another lock than the one this kernel was made for"
    then = stamp.get("fingerprint")
    now = fingerprint(prefix)
    if then == now or not isinstance(then, dict):
        return None if then == now else f"{prefix} has an unreadable twinlock stamp"
    changes = []
    for area in sorted(set(then) | set(now)):
        before, after = set(then.get(area, [])), set(now.get(area, []))
        changes += [f"+{r.split(' ')[0]}" for r in sorted(after - before)]
        changes += [f"-{r.split(' ')[0]}" for r in sorted(before - after)]
    shown = ", ".join(changes[:_MAX_LISTED])
    more = f" and {len(changes) - _MAX_LISTED} more" if len(changes) > _MAX_LISTED else ""
    return f"{prefix} changed since it was installed ({shown}{more})"


def _problem(meta: dict[str, str]) -> str | None:
    prefix = meta["prefix"]
    try:
        with open(os.path.join(prefix, STAMP)) as handle:
            stamp = json.load(handle)
    except (OSError, ValueError):
        return f"{prefix} has no twinlock stamp: it was not installed by twinlock install"
    return describe_drift(stamp, meta["lock_digest"], prefix)


def main(argv: list[str]) -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "kernel.json")) as handle:
        meta = json.load(handle)["metadata"]["twinlock"]
    connection = argv[1]
    python = os.path.join(meta["prefix"], "bin", "python")
    if not os.path.exists(python):
        _fallback(connection, f"the payload environment is missing: {python} does not exist")
    problem = _problem(meta)
    args = [python, "-m", "ipykernel_launcher", "-f", connection]
    if problem:
        message = f"{problem}; run 'twinlock verify' to see every difference"
        print(f"twinlock: {message}", file=sys.stderr)
        os.environ[WARNING_VARIABLE] = message
        args.append("--IPKernelApp.exec_lines=" + _WARN_ONCE)
    os.execv(python, args)


def _fallback(connection: str, message: str) -> None:
    print(f"twinlock: {message}", file=sys.stderr)
    os.environ[ERROR_VARIABLE] = f"{message} (this kernel cannot run code; ask the image's admins)"
    if importlib.util.find_spec("ipykernel") is None:
        sys.exit(1)  # the lab has no ipykernel to run a fallback with
    os.execv(
        sys.executable,
        [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            connection,
            "--IPKernelApp.exec_lines=" + _REFUSE_EVERY_CELL,
        ],
    )


if __name__ == "__main__":
    main(sys.argv)
