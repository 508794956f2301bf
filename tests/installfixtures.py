"""A two-environment test composition (lab + payload kernel) over a home-built channel.

Shared by the install tests and bench/bench_install.py: :func:`make_install_project`
builds the packages of :mod:`condapkg` into ``<base>/channel``, writes a project whose
``twinlock.toml`` maps the channel name ``twinlock-test`` to that directory, and
returns its paths. Locks record ``https://conda.anaconda.org/twinlock-test/...``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests import condapkg as cp

CHANNEL = "twinlock-test"

COMPOSITION = {
    "name": "duo",
    "channels": [CHANNEL],
    "platforms": ["linux-64"],
    "environments": {
        "lab": {
            "prefix": "/opt/lab",
            "requirements": ["python 3.12.*", "jupyterlab", "ipykernel"],
        },
        "payload": {
            "prefix": "/opt/payload",
            "requirements": ["python 3.11.*", "ipykernel", "zlib"],
            "kernel": {
                "name": "payload",
                "display-name": "Payload (Python 3.11)",
                "lab": "lab",
                "env": {"PAYLOAD_MODE": "science"},
            },
        },
    },
}


def packages(extra: int = 0) -> list[cp.PkgSpec]:
    """The channel's packages; *extra* adds that many filler packages to the payload."""
    specs = [
        cp.python_like("3.12.0"),
        cp.python_like("3.11.0"),
        cp.ipykernel_like(),
        cp.simple("jupyterlab", "4.2.0", depends=["python >=3.12"]),
        cp.simple("zlib", "1.3.1", fmt=".tar.bz2"),
    ]
    specs += [cp.simple(f"filler{i}", files_count=20) for i in range(extra)]
    return specs


@dataclass(frozen=True)
class InstallProject:
    root: Path
    channel: Path
    composition: Path


def make_install_project(
    base: Path, *, specs: Sequence[cp.PkgSpec] | None = None, composition: dict | None = None
) -> InstallProject:
    channel = base / "channel"
    cp.build_channel(channel, list(specs if specs is not None else packages()))
    root = base / "project"
    (root / "envs").mkdir(parents=True, exist_ok=True)
    (root / "twinlock.toml").write_text(f'[mirrors]\n{CHANNEL} = "{channel}"\n')
    path = root / "envs" / "duo.yaml"
    path.write_text(yaml.safe_dump(composition or COMPOSITION, sort_keys=False))
    return InstallProject(root, channel, path)
