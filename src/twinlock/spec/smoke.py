"""The ``tests:`` stanza of an environment: the smoke tests ``twinlock test`` runs (pure)."""

from __future__ import annotations

import re

from twinlock.errors import Problems
from twinlock.model.composition import SmokeTests

SMOKE_KEYS = ("imports", "commands", "kernel")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def parse_smoke_tests(
    value: object, key: str, problems: Problems, *, has_kernel: bool
) -> SmokeTests | None:
    """The ``tests:`` mapping (problems are collected, not raised)."""
    body = problems.mapping(value, key)
    if body is None:
        return None
    problems.unknown_keys(body, SMOKE_KEYS, key)
    imports = problems.string_list(body.get("imports", []), f"{key}.imports") or []
    for module in imports:
        if not _MODULE.match(module):
            problems.add(
                f"{key}.imports",
                f"'{module[:60]}' is not a module name",
                "write dotted module names, e.g. astropy.io.fits",
            )
    commands = _commands(body.get("commands", []), f"{key}.commands", problems)
    kernel = body.get("kernel", False)
    if not isinstance(kernel, bool):
        problems.add(f"{key}.kernel", f"expected true or false, got {str(kernel)[:40]!r}", "")
    elif kernel and not has_kernel:
        problems.add(
            f"{key}.kernel",
            "this environment has no kernel: to start",
            "add a kernel: stanza to the environment, or drop tests.kernel",
        )
    return SmokeTests(tuple(imports), commands, kernel is True)


def _commands(value: object, key: str, problems: Problems) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        problems.add(key, "expected a list of commands", "write each command as [prog, arg, ...]")
        return ()
    out = []
    for i, command in enumerate(value):
        if (
            not isinstance(command, list)
            or not command
            or not all(isinstance(a, str) for a in command)
        ):
            problems.add(
                f"{key}[{i}]",
                "expected a non-empty list of strings (an argv)",
                "e.g. [python, -c, 'import numpy'] — no shell is involved",
            )
            continue
        out.append(tuple(command))
    return tuple(out)
