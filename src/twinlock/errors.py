"""The error vocabulary of twinlock.

Every failure a user can cause or fix is a :class:`TwinlockError`. Each one
says which input is at fault, what is wrong with it and how to fix it; the CLI
has a single handler that renders ``error: ...`` plus ``hint: ...`` and exits
with the error's ``exit_code`` (2 for bad input, 1 for an unsolvable request).
Library code never prints or exits.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One validation problem: where it is, what is wrong, how to fix it."""

    source: str
    key: str
    message: str
    hint: str = ""

    def location(self) -> str:
        return f"{self.source}: {self.key}" if self.key else self.source


class Problems:
    """Collects the problems found in one source file, so all are reported at once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[Problem] = []

    def add(self, key: str, message: str, hint: str = "", source: str | None = None) -> None:
        self.items.append(Problem(source or self.source, key, message, hint))

    def unknown_keys(self, data: Mapping[str, Any], allowed: tuple[str, ...], key: str) -> None:
        for name in data:
            if name not in allowed:
                where = f"{key}.{name}" if key else str(name)
                self.add(
                    where,
                    f"unknown key '{name}' {did_you_mean(str(name), allowed)}".rstrip(),
                    f"allowed keys here: {', '.join(allowed)}",
                )

    def mapping(self, value: object, key: str) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return value
        if value is None:
            # Nothing at all: an empty file, or a key with nothing (or nothing indented) under it.
            if key:
                self.add(key, "empty: expected a mapping", "write its keys indented under it")
            else:
                self.add(key, "the file is empty", "write its content, or stop referring to it")
            return None
        self.add(key, f"expected a mapping, got {kind_of(value)}", "indent the keys under it")
        return None

    def string_list(self, value: object, key: str) -> list[str] | None:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        self.add(
            key, f"expected a list of strings, got {kind_of(value)}", "write it as [a, b, ...]"
        )
        return None


def listed(items: Sequence[str], limit: int) -> list[str]:
    """``  - item`` lines for the first *limit* items, then ``  ... and N more``."""
    lines = [f"  - {item}" for item in items[:limit]]
    if len(items) > limit:
        lines.append(f"  ... and {len(items) - limit} more")
    return lines


def kind_of(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxtuple, _SHORT.maxset = 2, 4, 4, 4, 4
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 60, 60, 40


def shorten(value: object, limit: int = 80, *, quote: bool = True) -> str:
    """A bounded repr of *value* for messages: work and length stay small for any input.

    User data can be huge (a 10 MB line) or explode when printed (a YAML alias bomb
    whose repr is gigabytes), so messages never ``repr()`` it directly.
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value) if quote else value
        head = repr(value[:limit]) if quote else value[:limit]
        return f"{head}… ({len(value)} characters)"
    shown = _SHORT.repr(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


class TwinlockError(Exception):
    """Root of all errors twinlock reports to users."""

    exit_code = 2

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class _ProblemsError(TwinlockError):
    """An error carrying every problem found, so a user fixes them all in one round.

    At most :data:`MAX_SHOWN` are listed: a hostile file can hold millions of bad entries.
    """

    what = "the composition"
    MAX_SHOWN = 25

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        if len(self.problems) == 1:
            super().__init__(f"{first.location()}: {first.message}", first.hint)
            return
        lines = [f"{len(self.problems)} problems in {self.what}:"]
        for p in self.problems[: self.MAX_SHOWN]:
            lines.append(f"  - {p.location()}: {p.message}")
            if p.hint:
                lines.append(f"      fix: {p.hint}")
        if len(self.problems) > self.MAX_SHOWN:
            lines.append(f"  ... and {len(self.problems) - self.MAX_SHOWN} more")
        super().__init__("\n".join(lines), "fix every problem listed above; nothing was written")


class CompositionError(_ProblemsError):
    """A composition (or a file it references) is invalid."""


class InputFileError(_ProblemsError):
    """A file cannot be read as the text or YAML it should be.

    Absent, the wrong kind (a directory), unreadable, not UTF-8, not YAML, or YAML
    that must not be trusted: aliases expanding past a bound, nesting too deep,
    duplicate mapping keys. Readers of a particular kind of file (compositions,
    locks) turn its problems into their own error.
    """

    what = "the file"


class OutputFileError(TwinlockError):
    """A file or directory twinlock must write cannot be written (wrong kind, read-only)."""


class ConfigError(TwinlockError):
    """The twinlock configuration (mirrors, project file) is invalid."""


class ChannelError(TwinlockError):
    """A channel or its local mirror cannot be used."""


class LockFileError(TwinlockError):
    """An existing lock file cannot be read or does not belong to the composition."""


class PypiError(TwinlockError):
    """The PyPI layer (uv) cannot be resolved or installed for a reason the user must fix."""


class InterpreterError(TwinlockError):
    """No Python interpreter of the version a PyPI-only environment needs."""


class InstallError(TwinlockError):
    """A prefix or a package archive cannot be installed as asked."""


class SolveError(TwinlockError):
    """The solver failed for a reason other than an unsatisfiable request."""


class _SolveFailures(TwinlockError):
    """Environment x platform requests without a solution: exit code 1.

    The input is well-formed; the requirements just cannot be met together.
    """

    exit_code = 1
    fix = "relax or remove the clashing requirements named above"

    def __init__(self, failures: Sequence[tuple[str, str, str]]) -> None:
        self.failures = tuple(failures)
        parts = [
            f"cannot solve {env} on {platform}:\n{_indent(text)}"
            for env, platform, text in failures
        ]
        super().__init__("\n".join(parts), f"{self.fix}; the previous locks were left untouched")


class UnsolvableError(_SolveFailures):
    """The conda solver found no solution (conflict reports explain these)."""


class PypiUnsolvableError(_SolveFailures):
    """uv found no PyPI layer satisfying the requirements.

    Not an :class:`UnsolvableError`: the conda conflict analysis has nothing to add.
    """

    fix = "relax or remove the clashing PyPI requirements named above"


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.strip().splitlines())


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A 'did you mean' suffix for *word*, or '' when nothing is close."""
    import difflib  # only on the error path: a hint for a misspelt name

    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"(did you mean '{matches[0]}'?)" if matches else ""


class AlignmentError(TwinlockError):
    """Packages listed under ``align`` cannot take one build in every environment.

    Exit code 1, like an unsolvable request: the composition is well-formed,
    its environments just disagree about an aligned package.
    """

    exit_code = 1

    def __init__(
        self,
        package: str,
        platform: str,
        pins: Mapping[str, str],
        refusals: Sequence[tuple[str, str, str]],
    ) -> None:
        self.package = package
        self.platform = platform
        self.pins = dict(pins)
        self.refusals = tuple(refusals)
        lines = [
            f"cannot align '{package}' on {platform}: no single build is accepted by "
            f"every environment that has it ({', '.join(sorted(pins))})",
            *(f"  {env} locks {package} {pin}" for env, pin in sorted(pins.items())),
        ]
        for env, candidate, why in refusals:
            first = why.strip().splitlines()[:6]
            lines.append(f"  {env} cannot take {package} {candidate}:")
            lines += [f"      {line}" for line in first]
        super().__init__(
            "\n".join(lines),
            f"relax the requirements that hold {package} apart in "
            f"{' and '.join(sorted(pins))}, or drop '{package}' from 'align'",
        )


class ExternalToolError(TwinlockError):
    """An external program twinlock relies on (Graphviz ``dot``) is absent or failed."""
