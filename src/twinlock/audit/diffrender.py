"""Renderings of a :class:`~twinlock.audit.diffmodel.LocksDiff`: terminal text, markdown, JSON.

Text and markdown share their wording (summary, notes, alarm lines) through
:mod:`twinlock.audit.diffphrases`.

* :func:`render_text` -- rich tables for a terminal; colour only when asked
  (the CLI asks when stdout is a terminal and ``NO_COLOR`` is unset). Piped, the
  same bytes come from :func:`twinlock.audit.difftext.draw_plain`, without rich.
* :func:`render_markdown` -- for pull-request bodies: a summary line, hash
  alarms always visible, then one collapsible ``<details>`` per environment.
* :func:`render_json` -- the stable machine-readable shape below (``format``
  changes if a field is ever removed or changes meaning; fields may be added)::

    {
      "format": "twinlock-diff/1",
      "old": "<label>", "new": "<label>",
      "changed": bool,
      "exit_code": 0 | 1 | 3,
      "summary": {"kinds": {"<kind>": int, ...every kind...},
                  "bumps": {"major": int, "minor": int, "patch": int, "other": int},
                  "alarms": int, "damaged": int},
      "damaged": [str],   # integrity problems of either side's lock files (exit 3)
      "environments": [{
        "environment": str,
        "status": "added" | "removed" | "changed" | "unchanged",
        "metadata": [{"field": str, "old": str | null, "new": str | null}],
        "platforms": [{
          "platform": str, "status": ..., "old_count": int, "new_count": int,
          "changes": [{
            "name": str, "kind": str, "kinds": [str], "bump": str | null,
            "root": bool, "alarm": bool,
            "old": PACKAGE | null, "new": PACKAGE | null}]}]}]
    }
    PACKAGE = {"version", "build", "channel", "subdir", "file", "md5",
               "sha256" (str | null), "license" (str | null)}

  Kinds are those of :data:`twinlock.audit.diffmodel.CHANGE_KINDS`; environments,
  platforms and changes are sorted by name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from twinlock.audit import difftext
from twinlock.audit.diffmodel import EnvironmentDiff, LocksDiff, PackageChange
from twinlock.audit.diffphrases import (
    alarm_line,
    by_severity,
    environment_status,
    metadata_line,
    notes,
    platform_lines,
    plural,
    summary,
    version_build,
)
from twinlock.audit.difftext import UNWRAPPED_WIDTH, Line
from twinlock.model.lock import LockedPackage

JSON_FORMAT = "twinlock-diff/1"


def use_color(isatty: bool, environ: Mapping[str, str]) -> bool:
    """Colour for a terminal, unless ``NO_COLOR`` is set to anything (no-color.org)."""
    return isatty and not environ.get("NO_COLOR")


# -- text ---------------------------------------------------------------------------------


def render_text(diff: LocksDiff, *, color: bool = False, width: int | None = 100) -> str:
    """Terminal text: summary, alarms, then per changed environment a table per platform.

    ``width=None`` (stdout is a pipe or a file): nothing wraps, one row per line with
    full values, so grep and paste see whole names and versions.
    """
    blocks = text_blocks(diff)
    if width is None and not color:
        plain = difftext.draw_plain(blocks)  # the same bytes, without importing rich
        if plain is not None:
            return plain
    return difftext.draw(blocks, color=color, width=width or UNWRAPPED_WIDTH)


def text_blocks(diff: LocksDiff) -> list[difftext.Block]:
    """The lines and tables :func:`render_text` draws."""
    blocks: list[difftext.Block] = [
        Line(f"twinlock diff: {diff.old_label} -> {diff.new_label}"),
        Line(summary(diff), style="bold"),
    ]
    for alarm in diff.alarms():
        blocks.append(Line("HASH ALARM " + alarm_line(*alarm), style="bold red"))
        blocks.append(Line("  (same name, version, build and file name)", "red", markup=True))
    blocks += [Line("DAMAGED LOCK " + problem, style="bold red") for problem in diff.damage]
    for env in diff.environments:
        if env.status != "unchanged":
            blocks += _environment_blocks(env)
    return blocks


_STYLES = {
    "hash": "bold red",
    "added": "green",
    "removed": "red",
    "upgraded": "cyan",
    "downgraded": "yellow",
    "license": "magenta",
}


def _environment_blocks(env: EnvironmentDiff) -> list[difftext.Block]:
    blocks: list[difftext.Block] = [
        Line(),
        Line(f"{env.environment} {environment_status(env)}", style="bold"),
    ]
    extra = [metadata_line(m) for m in env.metadata] + platform_lines(env)
    blocks += [Line("  " + line) for line in extra]
    for plat in env.platforms:
        if not plat.changes:
            continue
        counts = f"{plat.old_count} -> {plural(plat.new_count, 'package')}"
        blocks.append(Line(f"  {plat.platform} ({counts})"))
        rows = [
            difftext.Row(
                (
                    change.kind,
                    change.name,
                    version_build(change.old),
                    version_build(change.new),
                    "root" if change.root else "dep",
                    "; ".join(notes(change)),
                ),
                style=_STYLES.get(change.kind),
            )
            for change in by_severity(plat.changes)
        ]
        blocks.append(difftext.Table(tuple(rows)))
    return blocks


# -- markdown -----------------------------------------------------------------------------


def render_markdown(diff: LocksDiff) -> str:
    """Markdown for a pull-request body; per-environment details are collapsible."""
    lines = [
        f"### twinlock diff: `{diff.old_label}` → `{diff.new_label}`",
        "",
        f"**{summary(diff)}**",
    ]
    alarms = diff.alarms()
    if alarms:
        lines += ["", "> [!CAUTION]", "> **Hash alarm**: a pinned artifact changed its content."]
        lines += [f"> - {_md(alarm_line(*alarm))}" for alarm in alarms]
    if diff.damage:
        lines += ["", "> [!CAUTION]", "> **Damaged lock**: a lock file fails validation."]
        lines += [f"> - {_md(problem)}" for problem in diff.damage]
    for env in diff.environments:
        if env.status != "unchanged":
            lines += ["", *_markdown_environment(env)]
    return "\n".join(lines) + "\n"


def _markdown_environment(env: EnvironmentDiff) -> list[str]:
    import html  # markdown only: the text and JSON renderings never escape HTML

    rows = [(p.platform, c) for p in env.platforms for c in by_severity(p.changes)]
    # HTML, not markdown, inside <summary>.
    head = f"<b>{html.escape(env.environment)}</b> {html.escape(environment_status(env))}"
    lines = ["<details>", f"<summary>{head}</summary>", ""]
    extra = [metadata_line(m) for m in env.metadata] + platform_lines(env)
    lines += [f"- {_md(line)}" for line in extra]
    if rows:
        if extra:
            lines.append("")
        lines += [
            "| platform | change | package | old | new | role | notes |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [_markdown_row(platform, change) for platform, change in rows]
    lines += ["", "</details>"]
    return lines


def _markdown_row(platform: str, change: PackageChange) -> str:
    kind = f"**{change.kind}**" if change.alarm else change.kind
    cells = [
        platform,
        kind,
        f"`{change.name}`",
        _code(version_build(change.old)),
        _code(version_build(change.new)),
        "root" if change.root else "dep",
        _md("; ".join(notes(change))),
    ]
    return "| " + " | ".join(cells) + " |"


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def _md(text: str) -> str:
    """Escape what would break a table cell or turn into markup ('>' never starts a line)."""
    for char in ("\\", "|", "*", "_", "`"):
        text = text.replace(char, "\\" + char)
    return text.replace("<", "&lt;").replace(" -> ", " → ")


# -- JSON ---------------------------------------------------------------------------------


def render_json(diff: LocksDiff) -> str:
    """The stable JSON shape documented in this module's docstring."""
    return json.dumps(diff_to_data(diff), indent=2) + "\n"


def diff_to_data(diff: LocksDiff) -> dict[str, Any]:
    return {
        "format": JSON_FORMAT,
        "old": diff.old_label,
        "new": diff.new_label,
        "changed": diff.changed,
        "exit_code": diff.exit_code,
        "summary": {
            "kinds": diff.kind_counts(),
            "bumps": diff.bump_counts(),
            "alarms": len(diff.alarms()),
            "damaged": len(diff.damage),
        },
        "damaged": list(diff.damage),
        "environments": [
            {
                "environment": env.environment,
                "status": env.status,
                "metadata": [{"field": m.field, "old": m.old, "new": m.new} for m in env.metadata],
                "platforms": [
                    {
                        "platform": p.platform,
                        "status": p.status,
                        "old_count": p.old_count,
                        "new_count": p.new_count,
                        "changes": [_change_data(c) for c in p.changes],
                    }
                    for p in env.platforms
                ],
            }
            for env in diff.environments
        ],
    }


def _change_data(change: PackageChange) -> dict[str, Any]:
    return {
        "name": change.name,
        "kind": change.kind,
        "kinds": list(change.kinds),
        "bump": change.bump,
        "root": change.root,
        "alarm": change.alarm,
        "old": _package_data(change.old),
        "new": _package_data(change.new),
    }


def _package_data(pkg: LockedPackage | None) -> dict[str, Any] | None:
    if pkg is None:
        return None
    return {
        "version": pkg.version,
        "build": pkg.build,
        "channel": pkg.channel,
        "subdir": pkg.subdir,
        "file": pkg.file_name,
        "md5": pkg.md5,
        "sha256": pkg.sha256,
        "license": pkg.license,
    }
