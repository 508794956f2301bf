"""The JSON Schema of the composition format, built from the parser's own key tables.

Editors (yaml-language-server: VS Code's YAML extension, JetBrains, helix, neovim)
complete keys and flag typos with it. Every mapping's keys come from the tables the
parser checks (:data:`~twinlock.spec.parse.TOP_KEYS`, ``ENV_KEYS``,
:data:`~twinlock.spec.kernels.KERNEL_KEYS`, ``REQUIREMENT_KEYS``,
:data:`~twinlock.spec.smoke.SMOKE_KEYS`, the platform table),
so the two cannot drift: a key added to a table without a schema entry here fails
:func:`composition_schema` (and the test suite). The package ships the result as
``twinlock/data/composition.schema.json`` (a test keeps it equal to this function's
output); ``twinlock schema`` prints it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from twinlock.errors import TwinlockError
from twinlock.model.platforms import KNOWN_PLATFORMS, SYSTEM_REQUIREMENT_KEYS
from twinlock.spec.kernels import KERNEL_KEYS
from twinlock.spec.parse import ENV_KEYS, TOP_KEYS
from twinlock.spec.requirements import REQUIREMENT_KEYS
from twinlock.spec.smoke import SMOKE_KEYS

SCHEMA_ID = "https://twinlock.invalid/composition.schema.json"
SCHEMA_FILE = "composition.schema.json"

_STRING = {"type": "string"}
_STRINGS = {"type": "array", "items": _STRING}
_ONE_OR_MORE_FILES = {"oneOf": [_STRING, {"type": "array", "items": _STRING, "minItems": 1}]}
_PLATFORMS = {"type": "array", "items": {"enum": list(KNOWN_PLATFORMS)}, "minItems": 1}
_CHANNELS = {
    "type": "array",
    "items": _STRING,
    "minItems": 1,
    "description": "Channel names (conda-forge, conda-forge/label/x, defaults) or URLs.",
}
_REQUIREMENT_ENTRY = {"oneOf": [_STRING, {"$ref": "#/$defs/requirement"}]}

_TOP: dict[str, dict[str, Any]] = {
    "name": {**_STRING, "description": "Names the lock directory <locks-dir>/<name>/."},
    "channels": _CHANNELS,
    "platforms": {**_PLATFORMS, "description": "Target platforms of every environment."},
    "snapshot": {
        **_STRING,
        "description": "Ignore packages published later (ISO date or date-time; a date is "
        "00:00 UTC).",
    },
    "system-requirements": {"$ref": "#/$defs/system-requirements"},
    "align": {
        **_STRINGS,
        "description": "Packages that must resolve to one build in every environment.",
    },
    "environments": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {"$ref": "#/$defs/environment"},
        "description": "The environments, by name.",
    },
}
_ENVIRONMENT: dict[str, dict[str, Any]] = {
    "prefix": {
        **_STRING,
        "description": "Absolute install path; not shared, not nested "
        "(a layer may say 'same': its base's prefix).",
    },
    "requirements": {
        "type": "array",
        "items": _REQUIREMENT_ENTRY,
        "description": "conda match specs, optionally {spec, requested-by, reason}.",
    },
    "file": {
        **_ONE_OR_MORE_FILES,
        "description": "conda environment.yml file(s) next to the composition.",
    },
    "channels": _CHANNELS,
    "platforms": {**_PLATFORMS, "description": "Narrows the composition's platform list."},
    "kernel": {"$ref": "#/$defs/kernel"},
    "pypi": {
        "type": "array",
        "items": _REQUIREMENT_ENTRY,
        "description": "PEP 508 requirements of the PyPI layer.",
    },
    "pypi-file": {
        **_ONE_OR_MORE_FILES,
        "description": "requirements.txt file(s) next to the composition.",
    },
    "python": {
        **_STRING,
        "description": 'PyPI-only environment: its Python version (quote it: "3.12").',
    },
    "python-interpreter": {**_STRING, "description": "Python to build a PyPI-only venv with."},
    "tests": {"$ref": "#/$defs/tests"},
    "extends": {
        **_STRING,
        "description": "A layer: the base environment whose locked pins it holds fixed.",
    },
}
_KERNEL: dict[str, dict[str, Any]] = {
    "name": {**_STRING, "description": "Kernelspec directory name."},
    "display-name": {**_STRING, "description": "Name shown in JupyterLab's launcher."},
    "lab": {**_STRING, "description": "The environment whose JupyterLab offers the kernel."},
    "env": {
        "type": "object",
        "additionalProperties": _STRING,
        "description": "Environment variables of the kernel.",
    },
    "argv": {**_STRINGS, "description": "Replaces twinlock's launcher."},
    "hide-native": {"type": "boolean", "description": "Hide the lab's own Python kernel."},
    "isolate-user-site": {
        "type": "boolean",
        "description": "Give the kernel its own user base (default true).",
    },
}
_TESTS: dict[str, dict[str, Any]] = {
    "imports": {**_STRINGS, "description": "Modules `twinlock test` imports in the prefix."},
    "commands": {
        "type": "array",
        "items": {"type": "array", "items": _STRING, "minItems": 1},
        "description": "Commands (argv lists, no shell) run inside the prefix.",
    },
    "kernel": {
        "type": "boolean",
        "description": "Start the kernel from the lab's kernelspec and run code in it.",
    },
}
_REQUIREMENT: dict[str, dict[str, Any]] = {
    "spec": {**_STRING, "description": "The match spec (or PEP 508 requirement)."},
    "requested-by": {**_STRING, "description": "Who asked for it (kept in the lock)."},
    "reason": {**_STRING, "description": "Why (kept in the lock)."},
}
_VERSION = {"type": "string", "description": 'A version, e.g. libc: "2.28".'}


def _mapping(
    keys: Sequence[str], entries: Mapping[str, dict[str, Any]], *, required: Sequence[str] = ()
) -> dict[str, Any]:
    """An object schema with exactly *keys* (the parser's table), in the table's order."""
    unknown = sorted(set(keys) ^ set(entries))
    if unknown:
        raise TwinlockError(
            f"the composition schema and the parser disagree about keys: {', '.join(unknown)}",
            "give each key of the parser's table a schema entry in twinlock/spec/schema.py",
        )
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {k: entries[k] for k in keys},
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


def _system_requirements() -> dict[str, Any]:
    versions = {k: _VERSION for k in SYSTEM_REQUIREMENT_KEYS}
    per_platform = _mapping(SYSTEM_REQUIREMENT_KEYS, versions)
    entries = {**versions, **{p: per_platform for p in KNOWN_PLATFORMS}}
    schema = _mapping((*SYSTEM_REQUIREMENT_KEYS, *KNOWN_PLATFORMS), entries)
    schema["description"] = "Virtual packages of the target machines (per platform: a mapping)."
    return schema


def composition_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a composition file."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "twinlock composition",
        "description": "Side-by-side conda environments solved and locked together.",
        **_mapping(TOP_KEYS, _TOP, required=("name", "channels", "platforms", "environments")),
        "$defs": {
            "environment": _mapping(ENV_KEYS, _ENVIRONMENT, required=("prefix",)),
            "kernel": _mapping(KERNEL_KEYS, _KERNEL),
            "requirement": _mapping(REQUIREMENT_KEYS, _REQUIREMENT, required=("spec",)),
            "tests": _mapping(SMOKE_KEYS, _TESTS),
            "system-requirements": _system_requirements(),
        },
    }


def schema_text() -> str:
    """The schema as the package ships it (``twinlock schema`` prints this)."""
    return json.dumps(composition_schema(), indent=2) + "\n"
