"""The ``kernel:`` stanza of an environment: parse and validate it (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from twinlock.errors import Problems, did_you_mean, kind_of, shorten
from twinlock.model.composition import Environment, Kernel

KERNEL_KEYS = (
    "name",
    "display-name",
    "lab",
    "env",
    "argv",
    "hide-native",
    "isolate-user-site",
)


def parse_kernel(value: object, key: str, problems: Problems) -> Kernel | None:
    """The ``kernel:`` mapping of an environment (problems are collected, not raised)."""
    body = problems.mapping(value, key)
    if body is None:
        return None
    problems.unknown_keys(body, KERNEL_KEYS, key)
    texts = {}
    for field in ("name", "display-name", "lab"):
        text = body.get(field)
        if not isinstance(text, str) or not text:
            problems.add(f"{key}.{field}", "missing or empty", f"set '{field}' to a string")
        texts[field] = text if isinstance(text, str) else ""
    if texts["name"] and not texts["name"].replace("-", "").replace("_", "").isalnum():
        problems.add(
            f"{key}.name", f"{shorten(texts['name'])} is not a valid kernel name", "e.g. payload"
        )
    env = problems.mapping(body.get("env", {}), f"{key}.env") or {}
    argv = problems.string_list(body.get("argv", []), f"{key}.argv") or []
    if argv and "{connection_file}" not in argv:
        problems.add(
            f"{key}.argv", "does not pass {connection_file}", "add '-f', '{connection_file}'"
        )
    for name, text in env.items():
        if isinstance(text, bool) or not isinstance(text, (str, int, float)):
            problems.add(
                f"{key}.env.{name}",
                f"expected text, got {kind_of(text)}",
                "environment variables are strings: quote the value",
            )
    hide = _flag(body, "hide-native", key, problems)
    isolate = _flag(body, "isolate-user-site", key, problems)
    return Kernel(
        name=texts["name"],
        display_name=texts["display-name"],
        lab=texts["lab"],
        env=MappingProxyType({str(k): str(v) for k, v in env.items()}),
        argv=tuple(argv),
        hide_native=hide,
        isolate_user_site=isolate,
    )


def _flag(body: Mapping[str, object], field: str, key: str, problems: Problems) -> bool:
    """A true/false key of the stanza (default true)."""
    value = body.get(field, True)
    if not isinstance(value, bool):
        problems.add(f"{key}.{field}", f"expected true or false, got {str(value)[:40]!r}", "")
    return value is not False


def check_kernels(envs: list[Environment], problems: Problems) -> None:
    """A kernel names another environment of the composition, and kernel names are unique."""
    names = [e.name for e in envs]
    seen: dict[str, str] = {}
    for env in envs:
        if env.kernel is None:
            continue
        key = f"environments.{env.name}.kernel"
        if env.kernel.lab and env.kernel.lab not in names:
            problems.add(
                f"{key}.lab",
                f"no environment named '{env.kernel.lab}' "
                f"{did_you_mean(env.kernel.lab, names)}".rstrip(),
                f"name the lab environment, one of: {', '.join(names)}",
            )
        elif env.kernel.lab == env.name:
            problems.add(f"{key}.lab", "an environment cannot host its own kernel", "name the lab")
        if env.kernel.name in seen:
            problems.add(
                f"{key}.name",
                f"kernel name '{env.kernel.name}' is also used by '{seen[env.kernel.name]}'",
                "give every kernel its own name",
            )
        seen[env.kernel.name] = env.name
