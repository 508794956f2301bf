"""A first composition for a conda-lock user: the lab + payload split, written as YAML.

``twinlock init`` hands this module what it read from a conda-lock project (the
environment files, a ``virtual-packages.yml``, the platforms of an existing
``conda-lock.yml``); it answers with the composition text. The environment files
become the *payload* (by reference, unchanged); a *lab* environment with JupyterLab
is suggested next to it, the payload is offered to the lab as a Jupyter kernel, and
the packages every environment should share (certificates, TLS, time zones) are
aligned. The text is validated with :func:`~twinlock.spec.parse.parse_composition`
before it is returned, so ``init`` never writes a composition ``lock`` refuses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from twinlock.errors import CompositionError, Problem
from twinlock.model.composition import Composition
from twinlock.spec.condalock import unify_sources
from twinlock.spec.parse import parse_composition

# What the bundled example's lab holds (envs/rsp.yaml): JupyterLab 4 on Python 3.12,
# the single-user server JupyterHub spawns, ipykernel, nodejs for lab extensions.
LAB_REQUIREMENTS: tuple[str, ...] = (
    "jupyterlab >=4,<5",
    "jupyterhub-singleuser",
    "ipykernel",
    "nodejs",
)
ALIGN: tuple[str, ...] = ("ca-certificates", "openssl", "tzdata")
DEFAULT_PLATFORMS: tuple[str, ...] = ("linux-64",)


@dataclass(frozen=True)
class ScaffoldInputs:
    """What ``init`` learnt from the conda-lock inputs (data only, paths already relative)."""

    name: str
    # file name as the composition will refer to it -> its loaded YAML
    files: Mapping[str, object]
    platforms: tuple[str, ...] = ()
    system_requirements: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    snapshot: str | None = None
    lab_python: str = "3.12"
    payload: str = "payload"


def composition_name(files: Sequence[object], fallback: str) -> str:
    """The first environment file's ``name:`` (else *fallback*), made a valid name."""
    names = [d.get("name") for d in files if isinstance(d, Mapping)]
    for name in [*names, fallback]:
        cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") if isinstance(name, str) else ""
        if cleaned:
            return cleaned
    return "composition"


def file_platforms(files: Sequence[object]) -> tuple[str, ...]:
    """The union of the files' conda-lock ``platforms`` keys, in order."""
    found: list[str] = []
    for data in files:
        listed = data.get("platforms") if isinstance(data, Mapping) else None
        found += [p for p in listed or [] if isinstance(p, str) and p not in found]
    return tuple(found)


def scaffold(inputs: ScaffoldInputs) -> tuple[str, Composition]:
    """The composition text for *inputs*, and the composition it parses to."""
    if not re.fullmatch(r"3\.\d{1,2}", inputs.lab_python):
        raise CompositionError(
            [
                Problem(
                    "--lab-python",
                    "",
                    f"'{inputs.lab_python}' is not a Python 3 version",
                    "e.g. --lab-python 3.12",
                )
            ]
        )
    platforms = inputs.platforms or file_platforms(list(inputs.files.values()))
    platforms = platforms or DEFAULT_PLATFORMS
    data: dict[str, Any] = {
        "name": inputs.name,
        "channels": _channels(inputs.files.values()),
        "platforms": list(platforms),
    }
    if inputs.snapshot:
        data["snapshot"] = inputs.snapshot
    system = _system_requirements(inputs.system_requirements, platforms)
    if system:
        data["system-requirements"] = system
    data["align"] = list(ALIGN)
    refs = list(inputs.files)
    payload: dict[str, Any] = {
        "prefix": f"/opt/{inputs.payload}",
        "file": refs[0] if len(refs) == 1 else refs,
        "kernel": {
            "name": inputs.payload,
            "display-name": f"{inputs.name} ({inputs.payload})",
            "lab": "lab",
        },
    }
    data["environments"] = {
        "lab": {
            "prefix": "/opt/lab",
            "requirements": [f"python {inputs.lab_python}.*", *LAB_REQUIREMENTS],
        },
        inputs.payload: payload,
    }
    text = _HEADER + yaml.safe_dump(data, sort_keys=False, width=100)
    composition = parse_composition(
        yaml.safe_load(text), source=f"envs/{inputs.name}.yaml", files=inputs.files
    )
    return text, composition


_HEADER = """\
# Written by 'twinlock init' from conda-lock inputs. Review, then run 'twinlock lock'.
# - lab: JupyterLab in its own Python (suggested; edit freely)
# - payload: your environment file(s), unchanged, offered to the lab as a Jupyter kernel
"""


def _channels(files: Any) -> list[str]:
    """The files' channels merged as conda-lock merges them (nodefaults dropped): the lab
    solves from the same channels as the payload."""
    lists = []
    for data in files:
        listed = data.get("channels") if isinstance(data, Mapping) else None
        lists.append([c for c in listed or [] if isinstance(c, str) and c != "nodefaults"])
    merged = unify_sources(lists) or next((names for names in lists if names), [])
    return list(merged) or ["conda-forge"]


def _system_requirements(
    per_platform: Mapping[str, Mapping[str, str]], platforms: Sequence[str]
) -> dict[str, Any]:
    """Values every platform shares at the top, the rest per platform."""
    relevant = {p: dict(per_platform.get(p, {})) for p in platforms if per_platform.get(p)}
    if not relevant:
        return {}
    keys = sorted({k for values in relevant.values() for k in values})
    common: dict[str, str] = {}
    if len(relevant) == len(platforms):
        for key in keys:
            seen = {values.get(key) for values in relevant.values()}
            if len(seen) == 1 and None not in seen:
                common[key] = str(seen.pop())
    out: dict[str, Any] = dict(common)
    for platform, values in relevant.items():
        rest = {k: v for k, v in sorted(values.items()) if k not in common}
        if rest:
            out[platform] = rest
    return out
