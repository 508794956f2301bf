"""Text and JSON renderings of ``twinlock overlap`` results."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence

from twinlock.audit.overlap import Kind, PairCheck, PlatformOverlap, SharedPackage

_KINDS: tuple[Kind, ...] = ("version differs", "build differs", "identical")


def overlap_text(composition: str, results: Sequence[PlatformOverlap]) -> str:
    if not results:
        return f"{composition}: no platform is locked for more than one environment"
    blocks = [_platform_text(composition, r) for r in results]
    return "\n\n".join(blocks)


def _platform_text(composition: str, result: PlatformOverlap) -> str:
    envs = result.environments
    lines = [
        f"{composition} on {result.platform}: {len(result.shared)} packages in more than one "
        f"environment ({', '.join(envs)})"
    ]
    for kind in _KINDS:
        items = result.of_kind(kind)
        lines.append(f"  {kind}: {len(items)}")
        if kind == "identical":
            names = ", ".join(s.name for s in items)
            lines += textwrap.wrap(
                names, 96, initial_indent="    ", subsequent_indent="    ", break_on_hyphens=False
            )
        else:
            lines += _pin_table(items, envs)
    if result.aligned:
        lines.append("  aligned ('align' list): " + ", ".join(_aligned_text(result)))
    lines.append("  front-end/back-end pairs across environments:")
    lines += [f"    {_pair_line(c)}" for c in result.pairs] or [
        "    none of " + ", ".join(_pair_names()) + " is locked here"
    ]
    return "\n".join(lines)


def _aligned_text(result: PlatformOverlap) -> list[str]:
    out = []
    for name, kind in result.alignment():
        if kind is None:
            out.append(f"{name} (in one environment or none)")
        elif kind == "identical":
            out.append(f"{name} identical")
        else:
            out.append(f"{name} {kind.upper()} (relock: `twinlock lock`)")
    return out


def _pin_table(items: Sequence[SharedPackage], envs: Sequence[str]) -> list[str]:
    rows = [[s.name, *(_pin_text(s, env) for env in envs)] for s in items]
    if not rows:
        return []
    header = ["package", *envs]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "    " + "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*header).rstrip(), *(fmt.format(*r).rstrip() for r in rows)]


def _pin_text(shared: SharedPackage, env: str) -> str:
    for pin in shared.pins:
        if pin.environment == env:
            return f"{pin.version} {pin.build}"
    return "-"


def _pair_names() -> list[str]:
    from twinlock.audit.overlap import BOUNDARY_PAIRS

    return [f"{p.package}/{p.counterpart}" for p in BOUNDARY_PAIRS]


def _pair_line(check: PairCheck) -> str:
    pair = check.pair
    own = f"{pair.package} {check.version} ({check.environment})"
    if check.status == "one-sided":
        return (
            f"{own}: no other environment has {pair.counterpart}, nothing to check "
            f"across environments ({pair.why})"
        )
    other = f"{pair.counterpart} {check.other_version} ({check.other_environment})"
    if check.status == "unconstrained":
        return f"{own} declares nothing about {other}"
    verdict = "OK" if check.status == "compatible" else "INCOMPATIBLE"
    return f"{verdict}: {own} needs '{check.spec}'; {other}"


def overlap_json(composition: str, results: Sequence[PlatformOverlap]) -> str:
    data = {
        "composition": composition,
        "platforms": [
            {
                "platform": r.platform,
                "environments": list(r.environments),
                "packages": [
                    {
                        "name": s.name,
                        "class": s.kind,
                        "pins": {
                            p.environment: {"version": p.version, "build": p.build} for p in s.pins
                        },
                    }
                    for s in r.shared
                ],
                "pairs": [_pair_json(c) for c in r.pairs],
                "aligned": {name: kind for name, kind in r.alignment()},
            }
            for r in results
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def _pair_json(check: PairCheck) -> dict[str, object]:
    return {
        "package": check.pair.package,
        "counterpart": check.pair.counterpart,
        "environment": check.environment,
        "version": check.version,
        "status": check.status,
        "other_environment": check.other_environment,
        "other_version": check.other_version,
        "spec": check.spec,
        "why": check.pair.why,
    }
