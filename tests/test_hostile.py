"""A corpus of hostile inputs, each tried against the real console script.

Every case copies a project (the bundled rsp composition and its committed locks,
the PyPI variant, a composition over the real repo2docker environment.yml), spoils
one input in one way, runs ``twinlock`` in a subprocess and requires:

- the documented exit code (2 for bad input; ``check`` reports stale files as findings, 1);
- ``error: ...`` then ``hint: ...`` on stderr (findings name the problem on stdout);
- no traceback, and output of bounded length whatever the input's size;
- not a byte written or changed in the project.

The classes: bytes that are not UTF-8, YAML built to explode or recurse, values that
parse as YAML but not as what they claim, paths of the wrong kind, names that
reference nothing. Unwritable directories (which root, running the tests, can always
write) are provoked by monkeypatching the write in-process, at the end.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twinlock.cli.main import app

REPO = Path(__file__).resolve().parents[1]
TWINLOCK = Path(sys.executable).with_name("twinlock")
R2D = REPO.parent / "shared" / "specs" / "repo2docker" / "repo2docker-environment.py-3.12.yml"
EXPLICIT = (
    REPO / "tests" / "data" / "rebuild" / "repo2docker-environment.py-3.12-linux-64.explicit.txt"
)
MAX_OUTPUT = 6000  # characters on stdout + stderr, whatever the input's size


@dataclass(frozen=True)
class Special:
    """A path that is not a regular file: a symbolic link, a FIFO, or a sparse file of size."""

    link: str = ""
    fifo: bool = False
    size: int = 0

    def make(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        if self.link:
            path.symlink_to(self.link)
        elif self.fifo:
            os.mkfifo(path)
        else:
            with path.open("wb") as handle:
                handle.truncate(self.size)


# new content, a change of the content, a special file, or None: a directory
Edit = bytes | Callable[[bytes], bytes] | Special | None


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    edits: Mapping[str, Edit] = field(default_factory=dict)
    match: str = ""  # regex searched in stderr (exit 2) or stdout (findings, exit 1)
    exit: int = 2


def case(
    id: str, args: str, edits: Mapping[str, Edit] | None = None, match: str = "", exit: int = 2
) -> object:
    return pytest.param(Case(tuple(args.split()), edits or {}, match, exit), id=id)


# --- spoilers -----------------------------------------------------------------------------


def latin1(data: bytes) -> bytes:
    """The file as an editor set to Latin-1 saves it after a comment was added."""
    first, _, rest = data.partition(b"\n")
    return first + b"\n# caf\xe9 (Latin-1)\n" + rest


def replace(old: str, new: str) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        assert old.encode() in data, f"{old!r} is not in the file"
        return data.replace(old.encode(), new.encode(), 1)

    return edit


def with_anchors(edit: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """*edit*, and a first key defining the anchors b0..b3 (10^4 strings once expanded)."""
    return lambda data: anchors(3, "x-anchors").encode() + edit(data)


def append(text: str) -> Callable[[bytes], bytes]:
    return lambda data: data + text.encode()


def anchors(levels: int, key: str = "align") -> str:
    """``key: [&b0 [100 x's] x 10, &b1 [*b0] x 10, ...]``: b<n> expands to 10^(n+1) strings."""
    items = [f"&b0 [{', '.join(['x' * 100] * 10)}]"]
    items += [f"&b{i} [{', '.join([f'*b{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return f"{key}: [{', '.join(items)}]\n"


BOMB = anchors(8)  # 10^9 strings of 100 characters once expanded
COMPOSITION = "name: rsp\nchannels: [conda-forge]\nplatforms: [linux-64]\n"
ENVS = "environments:\n  lab: {prefix: /opt/lab, requirements: [python]}\n"
LOCK_HEAD = "version: 1\n"

NOT_UTF8 = r"not UTF-8 text \(byte 0xe9 at line 2, column 6\)"


CASES = [
    # --- bytes that are not UTF-8 ---------------------------------------------------------
    *(
        case(f"not-utf8-composition-{cmd.split()[0]}", cmd, {"envs/rsp.yaml": latin1}, NOT_UTF8)
        for cmd in (
            "lock",
            "check",
            "explain",
            "sbom",
            "why python --env lab",
            "tree --env lab",
            "graph --env lab",
            "overlap",
            "install --root r",
            "verify --root r",
            "rebuild --from locks/rsp --dry-run",
            "mirror --dest m",
            "export",
        )
    ),
    case("not-utf8-envfile-lock", "lock", {"envs/rsp-payload.environment.yml": latin1}, NOT_UTF8),
    case(
        "not-utf8-real-environment-yml",
        "check envs/r2d.yaml",
        {"envs/r2d.environment.yml": latin1},
        NOT_UTF8,
    ),
    case(
        "not-utf8-pypi-file",
        "check envs/rsp-pypi.yaml",
        {"envs/nublado-lab-2024-10.py312.pypi.txt": latin1},
        NOT_UTF8,
    ),
    case(
        "not-utf8-init-file",
        "init -f envs/rsp-payload.environment.yml --dry-run",
        {"envs/rsp-payload.environment.yml": latin1},
        NOT_UTF8,
    ),
    case(
        "not-utf8-init-virtual-packages",
        "init -f envs/rsp-payload.environment.yml --virtual-package-spec vp.yml --dry-run",
        {"vp.yml": b"subdirs:\n  linux-64:\n    packages: {__glibc: 2.17\xe9}\n"},
        r"vp.yml: not UTF-8 text \(byte 0xe9 at line 3, column 29\)",
    ),
    case(
        "not-utf8-init-lockfile",
        "init -f envs/rsp-payload.environment.yml --lockfile locks/rsp/lab.conda-lock.yml",
        {"locks/rsp/lab.conda-lock.yml": latin1},
        NOT_UTF8,
    ),
    case("not-utf8-toml", "check", {"twinlock.toml": latin1}, NOT_UTF8),
    case("not-utf8-toml-why", "why python --env lab", {"twinlock.toml": latin1}, NOT_UTF8),
    *(
        case(
            f"not-utf8-lock-{cmd.split()[0]}",
            cmd,
            {"locks/rsp/lab.conda-lock.yml": latin1},
            NOT_UTF8,
        )
        for cmd in (
            "lock",
            "check",
            "diff locks/rsp locks/rsp",
            "sbom",
            "why python --env lab",
            "overlap",
            "install --root r",
            "verify --root r",
            "rebuild --from locks/rsp --dry-run",
            "export -f explicit --env lab --platform linux-64",
        )
    ),
    case(
        "not-utf8-explicit-rebuild",
        "rebuild --from locks/rsp --from payload=import.explicit.txt --dry-run",
        {"import.explicit.txt": lambda _: latin1(EXPLICIT.read_bytes())},
        NOT_UTF8,
    ),
    case(
        "not-utf8-explicit-check",
        "check",
        {"locks/rsp/lab-linux-64.explicit.txt": latin1},
        "lab-linux-64.explicit.txt differs from the lock",
        exit=1,
    ),
    # --- YAML built to explode or recurse -------------------------------------------------
    case(
        "alias-bomb-composition",
        "lock",
        {"envs/rsp.yaml": (COMPOSITION + BOMB + ENVS).encode()},
        r"envs/rsp.yaml: line 4: YAML aliases expand to more than 200,000 values",
    ),
    case(
        "alias-bomb-requirements",
        "check",
        {
            "envs/rsp.yaml": (
                COMPOSITION + BOMB + "environments:\n  lab: {prefix: /x, requirements: *b8}\n"
            ).encode()
        },
        "YAML aliases expand",
    ),
    case(
        "alias-bomb-envfile",
        "check",
        {"envs/rsp-payload.environment.yml": (BOMB + "dependencies: *b8\n").encode()},
        "rsp-payload.environment.yml: line 1: YAML aliases expand",
    ),
    case(
        "alias-bomb-lock",
        "sbom",
        {"locks/rsp/lab.conda-lock.yml": (LOCK_HEAD + BOMB + "metadata: *b8\n").encode()},
        r"lab.conda-lock.yml: not readable as a lock \(YAML aliases expand",
    ),
    case(
        "alias-bomb-below-the-cap",  # 10^4 strings: loaded, and still never printed whole
        "check",
        {
            "envs/rsp.yaml": (
                anchors(3, "x-anchors") + "name: *b3\nchannels: *b3\nplatforms: *b3\n"
                "snapshot: *b3\nsystem-requirements: {libc: *b3}\nalign: *b3\n"
                "environments: {lab: {prefix: *b3, requirements: *b3, python: *b3}}\n"
            ).encode()
        },
        r"problems in the composition:[\s\S]*missing or invalid name \[\[",
    ),
    case(
        "alias-bomb-init",
        "init -f bomb.yml --dry-run",
        {"bomb.yml": (BOMB + "dependencies: *b8\n").encode()},
        r"bomb.yml: line 1: YAML aliases expand",
    ),
    case(
        "duplicate-key-init",
        "init -f envs/rsp-payload.environment.yml --dry-run",
        {"envs/rsp-payload.environment.yml": append("channels: [defaults]\n")},
        r"rsp-payload.environment.yml: \(top level\): duplicate key 'channels'",
    ),
    case(
        "recursive-alias",
        "check",
        {"envs/rsp.yaml": (COMPOSITION + "align: &a [*a]\n" + ENVS).encode()},
        "line 4: an alias refers to a value that contains it",
    ),
    case(
        "nested-100-deep",
        "check",
        {"envs/rsp.yaml": (COMPOSITION + "align: " + "[" * 100 + "]" * 100 + "\n").encode()},
        "nested more than 64 levels deep",
    ),
    case(
        "nested-5000-deep",
        "lock",
        {"envs/rsp.yaml": ("name: " + "[" * 5000 + "]" * 5000 + "\n").encode()},
        "line 1: not valid YAML: .*exceeded maximum nesting depth",
    ),
    case(
        "nested-deep-envfile",
        "check",
        {"envs/rsp-payload.environment.yml": ("dependencies: " + "[" * 200 + "]" * 200).encode()},
        "rsp-payload.environment.yml: line .*: nested more than 64 levels deep",
    ),
    case(
        "nested-deep-lock",
        "diff locks/rsp locks/rsp",
        {
            "locks/rsp/lab.conda-lock.yml": (
                "version: 1\nmetadata: " + "[" * 900 + "]" * 900
            ).encode()
        },
        "lab.conda-lock.yml: not a usable twinlock conda-lock file",
    ),
    case(
        "nested-deep-block-lock",
        "diff locks/rsp locks/rsp",
        {
            "locks/rsp/lab.conda-lock.yml": (
                "version: 1\nmetadata:\n"
                + "".join("  " * i + "a:\n" for i in range(1, 3000))
                + "  " * 3000
                + "a: b\n"
            ).encode()
        },
        "lab.conda-lock.yml: (nested too deeply to be a lock|not readable)",
    ),
    case(
        "megabyte-spec",
        "check",
        {"envs/rsp.yaml": replace("- nodejs", "- nodejs " + ">=<" * 400_000)},
        r"requirements\[4\]: a requirement of 1200007 characters: 'nodejs >=<.*'… \(1200007",
    ),
    case(
        "megabyte-package-name",  # a valid match spec: nothing else would stop it
        "lock",
        {"envs/rsp.yaml": replace("- nodejs", "- " + "a" * 1_000_000)},
        r"requirements\[4\]: a requirement of 1000000 characters: 'aaa",
    ),
    case(
        "megabyte-explicit-line",
        "rebuild --from locks/rsp --from payload=import.explicit.txt --dry-run",
        {"import.explicit.txt": ("# platform: linux-64\n@EXPLICIT\n" + "x" * 1_000_000).encode()},
        r"import.explicit.txt:3: 'xxx.*… \(1000000 characters\) is not a package URL",
    ),
    # --- values that parse as YAML but not as what they claim ------------------------------
    case(
        "impossible-date",
        "lock",
        {"envs/rsp.yaml": replace("snapshot: 2026-10-01", "snapshot: 2025-02-30")},
        r"envs/rsp.yaml: snapshot: cannot read '2025-02-30' as a date",
    ),
    case(
        "impossible-datetime",
        "check",
        {"envs/rsp.yaml": replace("snapshot: 2026-10-01", "snapshot: 2026-13-01T25:00:00Z")},
        r"snapshot: cannot read '2026-13-01T25:00:00Z' as a date",
    ),
    *(
        case(
            f"channel-{name}",
            "check",
            {"envs/rsp.yaml": replace("channels: [conda-forge]", f"channels: ['{url}']")},
            rf"channels\[0\]: channel URL '{re.escape(url)}' {problem}",
        )
        for name, url, problem in (
            ("https-no-host", "https://", "has no host"),
            ("http-no-host", "http:///conda-forge", "has no host"),
            ("port-no-host", "https://:8080/conda-forge", "has no host"),
            ("file-no-path", "file://", "does not name a directory"),
            ("file-with-host", "file://server/channel", "does not name a directory"),
            ("ftp", "ftp://example.org/channel", "is not an https, http or file URL"),
            ("bad-ipv6", "https://[::1/conda-forge", "is not a URL"),
        )
    ),
    case(
        "channel-no-host-envfile",
        "check",
        {
            "envs/rsp-payload.environment.yml": replace(
                "channels: [conda-forge]", "channels: [https://]"
            )
        },
        r"rsp-payload.environment.yml: channels\[0\]: channel URL 'https://' has no host",
    ),
    case(
        "duplicate-top-key",
        "check",
        {"envs/rsp.yaml": replace("name: rsp\n", "name: rsp\nname: other\n")},
        r"envs/rsp.yaml: \(top level\): duplicate key 'name' \(lines \d+ and \d+\)",
    ),
    case(
        "duplicate-environment-key",
        "lock",
        {
            "envs/rsp.yaml": replace(
                "    prefix: /opt/lab\n", "    prefix: /opt/lab\n    prefix: /opt/x\n"
            )
        },
        r"environments.lab: duplicate key 'prefix'",
    ),
    case(
        "duplicate-environment",
        "check",
        {"envs/rsp.yaml": append("  lab:\n    prefix: /opt/other\n    requirements: [python]\n")},
        r"environments: duplicate key 'lab' \(lines \d+ and \d+\)",
    ),
    case(
        "duplicate-flow-key",
        "check",
        {"envs/rsp.yaml": replace('libc: "2.28"', '{libc: "2.28", libc: "2.17"}')},
        r"duplicate key 'libc'",
    ),
    case(
        "duplicate-key-real-environment-yml",
        "check envs/r2d.yaml",
        {"envs/r2d.environment.yml": append("channels:\n- defaults\n")},
        r"r2d.environment.yml: \(top level\): duplicate key 'channels' \(lines 4 and \d+\)",
    ),
    *(
        case(
            f"provenance-{name}",
            "check",
            {
                "envs/rsp.yaml": with_anchors(
                    replace("requested-by: RSP platform team", f"requested-by: {value}")
                )
            },
            rf"requirements\[1\].requested-by: expected text, got {kind}",
        )
        for name, value, kind in (
            ("list", "[RSP, platform team]", "list"),
            ("mapping", "{team: RSP}", "dict"),
            ("bool", "yes", "bool"),
            ("bomb", "*b3", "list"),
        )
    ),
    case(
        "provenance-reason-list",
        "check",
        {
            "envs/rsp.yaml": replace(
                "reason: the notebook UI served to every user", "reason: [a, b]"
            )
        },
        r"requirements\[1\].reason: expected text, got list",
    ),
    case(
        "system-requirement-list",
        "check",
        {"envs/rsp.yaml": replace('libc: "2.28"', "libc: [2, 28]")},
        r"system-requirements.libc: expected a version, got list",
    ),
    case(
        "kernel-env-mapping",
        "check",
        {"envs/rsp.yaml": replace("      lab: lab\n", "      lab: lab\n      env: {A: {b: c}}\n")},
        r"kernel.env.A: expected text, got dict",
    ),
    case(
        "toml-mirror-list",
        "check",
        {
            "twinlock.toml": replace(
                'conda-forge = "bundled:conda-forge-snapshot"', "conda-forge = [1]"
            )
        },
        r"mirror 'conda-forge': expected a directory path",
    ),
    case(
        "toml-locks-dir-number",
        "check",
        {"twinlock.toml": replace('locks-dir = "locks"', "locks-dir = 5")},
        r"twinlock.toml: project.locks-dir: expected a path \(a string\), got 5",
    ),
    case(
        "control-character",
        "check",
        {"envs/rsp.yaml": replace("name: rsp", "name: rsp\x00")},
        r"not valid YAML: unacceptable character #x0000: control characters are not allowed\nhint",
    ),
    # --- paths of the wrong kind ------------------------------------------------------------
    *(
        case(
            f"locks-dir-is-a-file-{cmd.split()[0]}",
            f"{cmd} --locks-dir afile",
            {"afile": b"not a directory\n"},
            r"--locks-dir: afile/rsp: afile is a file, not a directory",
        )
        for cmd in (
            "lock",
            "check",
            "sbom",
            "why python --env lab",
            "overlap",
            "install",
            "rebuild --from locks/rsp",
        )
    ),
    case(
        "locks-dir-under-a-file",
        "lock --locks-dir afile/locks",
        {"afile": b"x\n"},
        r"afile/locks/rsp: afile is a file",
    ),
    case("composition-is-a-directory", "check envs", {}, r"envs: is a directory, not a file"),
    case(
        "composition-symlink-loop",
        "lock envs/loop.yaml",
        {"envs/loop.yaml": Special(link="loop.yaml")},
        r"envs/loop.yaml: is a symbolic link that leads back to itself",
    ),
    case(
        "composition-is-a-fifo",  # reading it would wait forever for a writer
        "check envs/fifo.yaml",
        {"envs/fifo.yaml": Special(fifo=True)},
        r"envs/fifo.yaml: is not a regular file",
    ),
    case(
        "envfile-is-dev-zero",  # reading it would never end
        "explain",
        {"envs/rsp-payload.environment.yml": Special(link="/dev/zero")},
        r"rsp-payload.environment.yml: is not a regular file",
    ),
    case(
        "lock-is-a-fifo",
        "why python --env lab",
        {"locks/rsp/lab.conda-lock.yml": Special(fifo=True)},
        r"lab.conda-lock.yml: is not a regular file",
    ),
    case(
        "explicit-is-a-fifo",
        "check",
        {"locks/rsp/lab-linux-64.explicit.txt": Special(fifo=True)},
        r"lab-linux-64.explicit.txt: is not a regular file",
    ),
    case(
        "lock-of-65-mib",
        "diff locks/rsp locks/rsp",
        {"locks/rsp/lab.conda-lock.yml": Special(size=65 << 20)},
        r"lab.conda-lock.yml: is 65 MiB, more than twinlock reads \(64 MiB\)",
    ),
    case(
        "envfile-is-a-directory",
        "check",
        {"envs/rsp-payload.environment.yml": None},
        r"rsp-payload.environment.yml: is a directory, not a file",
    ),
    case(
        "lock-is-a-directory",
        "check",
        {"locks/rsp/lab.conda-lock.yml": None},
        r"lock locks/rsp/lab.conda-lock.yml: is a directory, not a file",
    ),
    case(
        "root-is-a-file-install",
        "install --root afile",
        {"afile": b"x\n"},
        r"--root afile: afile is a file",
    ),
    case(
        "root-is-a-file-verify",
        "verify --root afile/x",
        {"afile": b"x\n"},
        r"--root afile/x: afile is a file",
    ),
    case(
        "mirror-dest-is-a-file",
        "mirror --dest afile",
        {"afile": b"x\n"},
        r"--dest afile: afile is a file",
    ),
    case(
        "init-output-under-a-file",
        "init -f envs/rsp-payload.environment.yml -o afile/x.yaml",
        {"afile": b"x\n"},
        r"cannot write afile/x.yaml: afile: a part of the path is a file",
    ),
    case("sbom-output-is-a-directory", "sbom -o envs", {}, r"cannot write envs: is a directory"),
    case(
        "sbom-output-under-a-file",
        "sbom -o afile/sbom.json",
        {"afile": b"x\n"},
        r"cannot write afile/sbom.json: afile: a part of the path is a file",
    ),
    case(
        "graph-output-is-a-directory",
        "graph --env lab -o envs",
        {},
        r"cannot write envs: is a directory",
    ),
    case(
        "export-output-is-a-directory", "export -o envs", {}, r"cannot write envs: is a directory"
    ),
    case(
        "export-output-under-a-file",
        "export -f explicit -o afile/x",
        {"afile": b"x\n"},
        r"cannot write afile/x/.*: a part of the path is a file",
    ),
    case(
        "rebuild-from-a-directory",
        "rebuild --from locks/rsp --from payload=envs --dry-run",
        {},
        r"envs: is a directory",
    ),
    case(
        "diff-a-composition",
        "diff envs/rsp.yaml locks/rsp",
        {},
        r"envs/rsp.yaml: not a usable twinlock conda-lock file",
    ),
    # --- names that reference nothing -------------------------------------------------------
    case(
        "align-names-nothing",
        "check",
        {
            "envs/rsp.yaml": replace(
                "align: [ca-certificates, openssl, tzdata]",
                "align: [ca-certificates, opensssl, tzdata]",
            )
        },
        r"align +envs/rsp.yaml: align: no environment has 'opensssl' \(did you mean 'openssl'\?\)",
        exit=1,
    ),
    *(
        case(
            f"env-typo-{cmd.split()[0]}",
            f"{cmd} --env lba",
            {},
            r"no environment named 'lba' .*did you mean 'lab'",
        )
        for cmd in (
            "lock",
            "explain",
            "sbom",
            "install --root r",
            "verify --root r",
            "mirror --dest m",
        )
    ),
    case(
        "why-env-typo",
        "why python --env lba",
        {},
        r"no environment named 'lba' .*did you mean 'lab'",
    ),
    case(
        "why-absent-package",
        "why pythn --env lab",
        {},
        r"'pythn' is not in the lock of lab .*did you mean 'python'",
    ),
    case("tree-invert-typo", "tree --env lab --invert nodjs", {}, r"did you mean 'nodejs'"),
    case("graph-focus-typo", "graph --env lab --focus nodjs", {}, r"did you mean 'nodejs'"),
    case(
        "update-typo",
        "lock --update nodjs",
        {},
        r"--update nodjs: no such package .*did you mean 'nodejs'",
    ),
    case(
        "rebuild-update-typo",
        "rebuild --from locks/rsp --update payload:astropyy --dry-run",
        {},
        r"did you mean 'astropy'",
    ),
    case(
        "rebuild-refresh-typo",
        "rebuild --from locks/rsp --refresh lba --dry-run",
        {},
        r"did you mean 'lab'",
    ),
    *(
        case(
            f"platform-typo-{cmd.split()[0]}",
            f"{cmd} --platform linux-46",
            {},
            r"did you mean 'linux-64'",
        )
        for cmd in (
            "why python --env lab",
            "sbom",
            "overlap",
            "explain",
            "install --root r",
            "verify --root r",
            "export -f explicit",
        )
    ),
    case(
        "kernel-lab-typo",
        "check",
        {"envs/rsp.yaml": replace("      lab: lab\n", "      lab: lba\n")},
        r"kernel.lab: no environment named 'lba' \(did you mean 'lab'\?\)",
    ),
    case(
        "diff-path-typo",
        "diff locks/rsp locks/rps",
        {},
        r"locks/rps: no such lock file or directory \(did you mean 'rsp'\?\)",
    ),
]


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's example project (envs, locks, twinlock.toml) plus the real r2d file."""
    root = tmp_path_factory.mktemp("hostile") / "project"
    shutil.copytree(REPO / "envs", root / "envs")
    shutil.copytree(REPO / "locks" / "rsp", root / "locks" / "rsp")
    shutil.copy(REPO / "twinlock.toml", root / "twinlock.toml")
    if R2D.is_file():
        shutil.copy(R2D, root / "envs" / "r2d.environment.yml")
        (root / "envs" / "r2d.yaml").write_text(
            "name: r2d\nchannels: [conda-forge]\nplatforms: [linux-64]\n"
            "environments:\n  notebook: {prefix: /opt/notebook, file: r2d.environment.yml}\n"
        )
    return root


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(template, root)
    return root


def run(project: Path, args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    return subprocess.run(
        [str(TWINLOCK), *args],
        cwd=project,
        capture_output=True,
        text=True,
        errors="replace",
        env=env,
        timeout=600,
        check=False,
    )


def tree_state(root: Path) -> dict[str, str]:
    """Every path under *root* with the digest of its content (or what it is, if no file)."""
    return {
        str(p.relative_to(root)): _state(p)
        for p in sorted(root.rglob("*"))
        if ".git" not in p.relative_to(root).parts
    }


def _state(path: Path) -> str:
    if path.is_symlink():
        return f"link to {os.readlink(path)}"
    if path.is_dir():
        return "dir"
    if not path.is_file():
        return "special"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def apply(project: Path, edits: Mapping[str, Edit]) -> None:
    for rel, edit in edits.items():
        path = project / rel
        if edit is None:
            if path.exists():
                path.unlink()
            path.mkdir(parents=True)
        elif isinstance(edit, Special):
            edit.make(path)
        elif isinstance(edit, bytes):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(edit)
        else:
            path.write_bytes(edit(path.read_bytes() if path.exists() else b""))


def test_the_unspoilt_project_is_fine(project: Path) -> None:
    """The corpus spoils a project that passes: each failure below is the spoiler's."""
    done = run(project, ("check",))
    assert done.returncode == 0, done.stdout + done.stderr
    if R2D.is_file():
        from twinlock.app.project import open_project

        assert open_project(project / "envs" / "r2d.yaml", cwd=project).composition.name == "r2d"


@pytest.mark.parametrize("spoilt", CASES)
def test_hostile_input(project: Path, spoilt: Case) -> None:
    if any("r2d" in a for a in spoilt.args) and not R2D.is_file():
        pytest.skip("../shared is not beside this clone")
    apply(project, spoilt.edits)
    before = tree_state(project)
    done = run(project, spoilt.args)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output[-3000:]
    assert done.returncode == spoilt.exit, output[-3000:]
    assert len(output) < MAX_OUTPUT, output[:3000]
    if spoilt.exit == 2:
        assert done.stderr.startswith("error: "), done.stderr
        assert "\nhint: " in done.stderr, done.stderr
        assert re.search(spoilt.match, done.stderr), done.stderr
    else:
        assert re.search(spoilt.match, done.stdout), done.stdout
    assert tree_state(project) == before, "the command changed the project"


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize(
    ("args", "match"),
    [
        pytest.param(
            "diff --git HEAD locks/rsp", r":locks/rsp/lab.conda-lock.yml: not UTF-8", id="diff"
        ),
        pytest.param(
            "rebuild --from HEAD --dry-run",
            r"HEAD:locks/rsp/lab.conda-lock.yml: not UTF-8",
            id="rebuild",
        ),
    ],
)
def test_a_committed_lock_that_is_not_utf8(project: Path, args: str, match: str) -> None:
    """What git holds is read as untrusted as what is on disk."""
    lock = project / "locks/rsp/lab.conda-lock.yml"
    good = lock.read_bytes()
    lock.write_bytes(latin1(good))
    for command in (
        ("init", "-q", "-b", "main"),
        ("add", "-A"),
        ("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "spoilt"),
    ):
        subprocess.run(["git", "-C", str(project), *command], check=True, capture_output=True)
    lock.write_bytes(good)
    before = tree_state(project)
    done = run(project, tuple(args.split()))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert re.search(match, done.stderr), done.stderr
    assert "\nhint: " in done.stderr
    assert tree_state(project) == before


@pytest.mark.slow
def test_an_align_entry_that_names_nothing_is_a_lock_warning_and_a_check_finding(
    project: Path,
) -> None:
    """Locking goes ahead (the entry constrains nothing); both commands say which name is off."""
    (project / "envs" / "tiny.yaml").write_text(
        "name: tiny\nchannels: [conda-forge]\nplatforms: [linux-64]\nsnapshot: 2026-10-01\n"
        "align: [libzlibb]\nenvironments:\n  a: {prefix: /opt/a, requirements: [zlib]}\n"
    )
    warning = "align: no environment has 'libzlibb' (did you mean 'libzlib'?)"
    locked = run(project, ("lock", "envs/tiny.yaml"))
    assert locked.returncode == 0, locked.stdout + locked.stderr
    assert f"warning: {warning}" in locked.stdout
    checked = run(project, ("check", "envs/tiny.yaml"))
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert f"align        envs/tiny.yaml: {warning}" in checked.stdout


# --- read-only directories (root can write anywhere: the write is made to fail) -----------

runner = CliRunner()


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(PermissionError(errno.EACCES, "Permission denied"), id="read-only-dir"),
        pytest.param(OSError(errno.EROFS, "Read-only file system"), id="read-only-fs"),
        pytest.param(OSError(errno.ENOSPC, "No space left on device"), id="disk-full"),
    ],
)
@pytest.mark.parametrize(
    ("args", "target"),
    [
        pytest.param(("lock",), "locks/rsp/lab-linux-64.explicit.txt", id="lock"),
        pytest.param(("sbom", "-o", "out/sbom.json"), "out/sbom.json", id="sbom"),
        pytest.param(("graph", "--env", "lab", "-o", "out/g.dot"), "out/g.dot", id="graph"),
    ],
)
def test_unwritable_output_is_an_error_naming_it(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: OSError,
    args: tuple[str, ...],
    target: str,
) -> None:
    """The lock must rewrite a missing @EXPLICIT file; sbom and graph write their -o file."""
    (project / "locks/rsp/lab-linux-64.explicit.txt").unlink()
    before = tree_state(project)

    def refuse(*_: object, **__: object) -> None:
        raise type(failure)(failure.errno, failure.strerror, str(project / target))

    monkeypatch.setattr("tempfile.mkstemp", refuse)  # fileio imports tempfile when it writes
    monkeypatch.chdir(project)
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert f"error: cannot write {target}" in result.output
    assert "hint: " in result.output
    assert tree_state(project) == before


def test_an_oserror_no_stage_expected_is_still_an_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's one handler turns an escaping OSError into error/hint and exit 2."""

    def broken(*_: object, **__: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", "/srv/locks/rsp")

    monkeypatch.setattr("twinlock.app.check.run_check", broken)
    monkeypatch.chdir(project)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2
    assert result.output.startswith("error: /srv/locks/rsp: Permission denied\nhint: ")


def test_a_byte_order_mark_and_crlf_lines_are_fine(project: Path) -> None:
    """What Windows editors save is UTF-8 too: the same composition, the same check."""
    for rel in ("envs/rsp.yaml", "envs/rsp-payload.environment.yml", "twinlock.toml"):
        path = project / rel
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    done = run(project, ("check",))
    assert done.returncode == 0, done.stdout + done.stderr
