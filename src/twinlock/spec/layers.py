"""Layered environments: ``extends: BASE`` and ``prefix: same``, checked and resolved.

A layer is parsed like any environment, then completed from its base (bases
first, so a layer on a layer sees its base complete): its requirements become
the base's followed by its own (``additions``), it inherits the base's channels
and platforms unless it narrows them, and with ``prefix: same`` it takes the
base's prefix (else it takes the base's PyPI requirements and indexes too; uv
resolves them anew, the base's PyPI pins are not held).

Every problem is added to the composition's :class:`Problems`: an unknown base
(with a near miss), a cycle, a PyPI-only base or layer, platforms beyond the
base's, channels lacking the base's, ``prefix: same`` without ``extends``, two
same-prefix layers of one base, a PyPI layer in a same-prefix layer, a second
kernel for one prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from twinlock.errors import Problems, did_you_mean
from twinlock.model.composition import Environment

SAME_PREFIX = "same"


def layer_keys(body: Mapping[str, Any], key: str, problems: Problems) -> tuple[str | None, bool]:
    """The ``extends`` name and whether ``prefix: same`` was asked for."""
    extends = body.get("extends")
    if extends is not None and (not isinstance(extends, str) or not extends):
        problems.add(
            f"{key}.extends",
            f"expected an environment name, got {type(extends).__name__}",
            "write extends: NAME, naming another environment of this composition",
        )
        extends = None
    same = body.get("prefix") == SAME_PREFIX
    if same and extends is None and "extends" not in body:
        problems.add(
            f"{key}.prefix",
            "'prefix: same' needs a base to share the prefix with",
            "add extends: BASE, or give the environment its own absolute prefix",
        )
    return extends, same


def resolve_layers(
    envs: list[Environment], bodies: Mapping[str, Mapping[str, Any]], problems: Problems
) -> list[Environment]:
    """*envs* with every layer completed from its base (composition order kept)."""
    by_name = {e.name: e for e in envs}
    if not _check_bases(envs, by_name, set(bodies), problems):
        return envs
    done: dict[str, Environment] = {}

    def complete(env: Environment) -> Environment:
        if env.name in done:
            return done[env.name]
        if env.extends is None:
            done[env.name] = env
            return env
        base = complete(by_name[env.extends])
        done[env.name] = _on_base(env, base, bodies.get(env.name, {}), problems)
        return done[env.name]

    resolved = [complete(e) for e in envs]
    _check_same_prefix_siblings(resolved, problems)
    return resolved


def _check_bases(
    envs: list[Environment],
    by_name: Mapping[str, Environment],
    written: set[str],
    problems: Problems,
) -> bool:
    """Every base exists and no chain of bases loops; False when resolving is impossible."""
    ok = True
    for env in envs:
        if env.extends is None:
            continue
        key = f"environments.{env.name}.extends"
        if env.extends in written and env.extends not in by_name:
            ok = False  # the base is there but invalid: its own problems say why
            continue
        if env.extends not in by_name:
            others = [n for n in by_name if n != env.name]
            problems.add(
                key,
                f"no environment named '{env.extends}' "
                f"{did_you_mean(env.extends, others)}".rstrip(),
                f"name the environment this one extends, one of: {', '.join(others)}",
            )
            ok = False
            continue
        chain = [env.name]
        current: str | None = env.extends
        while current is not None and current not in chain:
            chain.append(current)
            current = by_name[current].extends if current in by_name else None
        if current is not None:
            problems.add(
                key,
                f"layers form a cycle: {' -> '.join([*chain, current])}",
                "a layer's base must not extend the layer, directly or through others",
            )
            ok = False
    return ok


def _on_base(
    env: Environment, base: Environment, body: Mapping[str, Any], problems: Problems
) -> Environment:
    key = f"environments.{env.name}"
    if base.pypi_only or env.pypi_only:
        problems.add(
            f"{key}.extends",
            f"'{env.name if env.pypi_only else base.name}' is PyPI-only (python:): "
            "a layer holds conda pins of its base",
            "extend an environment with conda requirements, without python:",
        )
    beyond = [p for p in env.platforms if p not in base.platforms]
    if "platforms" in body and beyond:
        problems.add(
            f"{key}.platforms",
            f"{', '.join(beyond)} not among the platforms of its base '{base.name}'",
            f"a layer may only narrow its base's platforms ({', '.join(base.platforms)})",
        )
    missing = [c.name for c in base.channels if c not in env.channels]
    if "channels" in body and missing:
        problems.add(
            f"{key}.channels",
            f"lacks {', '.join(missing)}, where the pins of its base '{base.name}' come from",
            "list the base's channels first, then the layer's own",
        )
    if env.same_prefix and env.pypi:
        problems.add(
            f"{key}.pypi",
            f"'{env.name}' shares the prefix of '{base.name}': uv would install a second "
            "PyPI layer over the first",
            "move the PyPI requirements to the base, or give the layer a prefix of its own",
        )
    if env.same_prefix and env.kernel is not None and base.kernel is not None:
        problems.add(
            f"{key}.kernel",
            f"'{env.name}' shares the prefix of '{base.name}', whose kernel already runs it",
            "drop this kernel, or give the layer a prefix of its own",
        )
    own = tuple(r for r in env.requirements if r not in base.requirements)
    # A layer in a prefix of its own is the base plus additions, PyPI layer included
    # (resolved anew by uv); in the base's prefix, the base's PyPI layer is the base's.
    pypi = (
        env.pypi
        if env.same_prefix
        else base.pypi + tuple(r for r in env.pypi if r not in base.pypi)
    )
    return replace(
        env,
        pypi=pypi,
        pypi_indexes=base.pypi_indexes
        if env.pypi_indexes.default and not env.same_prefix
        else env.pypi_indexes,
        prefix=base.prefix if env.same_prefix else env.prefix,
        requirements=base.requirements + own,
        additions=own,
        # The base's channels first (its pins come from there), then any the layer adds.
        channels=base.channels + tuple(c for c in env.channels if c not in base.channels),
        platforms=tuple(p for p in env.platforms if p in base.platforms)
        if "platforms" in body
        else base.platforms,
    )


def _check_same_prefix_siblings(envs: list[Environment], problems: Problems) -> None:
    """One prefix holds one chain of layers: two same-prefix layers of one base would clash."""
    seen: dict[str, str] = {}
    for env in envs:
        if not env.same_prefix or env.extends is None:
            continue
        if env.extends in seen:
            problems.add(
                f"environments.{env.name}.prefix",
                f"'{seen[env.extends]}' and '{env.name}' both stack on '{env.extends}' "
                "in its prefix",
                f"stack one on the other (extends: {seen[env.extends]}), or give one its own "
                "prefix",
            )
        else:
            seen[env.extends] = env.name


def shares_prefix(first: Environment, second: Environment) -> bool:
    """True when one of the two is a ``prefix: same`` layer of the other's chain."""
    return first.prefix == second.prefix and (first.same_prefix or second.same_prefix)
