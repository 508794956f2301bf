"""Plain-text renderings of command results (the CLI prints these)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from twinlock.errors import TwinlockError, shorten

if TYPE_CHECKING:
    # Types only: importing the app modules here would slow every command's error path.
    from twinlock.app.install import InstallReport
    from twinlock.app.lockreport import LockReport
    from twinlock.app.mirror import MirrorReport
    from twinlock.app.rebuild import RebuildReport
    from twinlock.app.smoke import SmokeReport
    from twinlock.images.tags import ImageTag
    from twinlock.install.plan import Drift
    from twinlock.lock.check import Finding
    from twinlock.lock.plan import PackageChange, PlatformSummary


def summary_line(s: PlatformSummary) -> str:
    if s.pypi and not s.packages:  # a PyPI-only environment: its packages are PyPI's
        count = f"{s.pypi} PyPI packages"
    else:
        count = f"{s.packages} packages" + (f" + {s.pypi} PyPI" if s.pypi else "")
    if s.base:
        count += f" ({s.held} held from {s.base})"
    if s.action == "reused":
        return f"{s.environment} {s.platform}: {count}, reused (inputs unchanged)"
    return f"{s.environment} {s.platform}: {count}, solved in {s.seconds:.2f} s"


def lock_report(report: LockReport, cwd: Path) -> str:
    lines = []
    for s in report.result.summaries:
        lines.append(summary_line(s))
        lines += [
            f"    {c.name}: {c.old or '(absent)'} -> {c.new or '(removed)'}" for c in s.changes
        ]
    for path in report.written:
        lines.append(f"wrote {relative(path, cwd)}")
    for path in report.removed:
        lines.append(f"removed {relative(path, cwd)} (no longer in the composition)")
    if not report.written and not report.removed:
        lines.append("locks unchanged")
    lines += [f"warning: {w}" for w in report.warnings]
    return "\n".join(lines)


def check_report(findings: Sequence[Finding], checked: int) -> str:
    if not findings:
        return f"all {checked} environment x platform locks are fresh and consistent"
    lines = [f"{len(findings)} problem(s):"]
    for f in findings:
        where = f"{f.environment} {f.platform}" if f.platform else f.environment
        lines.append(f"  {f.kind:<12} {where}: {shorten(f.detail, 1000, quote=False)}")
    return "\n".join(lines)


MAX_LINE = 2000


def error(exc: TwinlockError) -> str:
    text = f"error: {exc.message}"
    if exc.hint:
        text += "\n" + "\n".join(f"hint: {line}" for line in exc.hint.splitlines())
    # A last bound on what user data can make us print (messages shorten values already).
    return "\n".join(
        line if len(line) <= MAX_LINE else f"{line[:MAX_LINE]}… ({len(line)} characters)"
        for line in text.splitlines()
    )


def os_error(exc: OSError) -> TwinlockError:
    """An OSError no stage turned into a TwinlockError, as one (the path and the reason)."""
    where = f"{exc.filename}: " if exc.filename else ""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return TwinlockError(f"{where}{reason}", "check the path, its kind and its permissions")


def relative(path: Path, cwd: Path) -> str:
    """*path* relative to *cwd* when it is inside it."""
    from twinlock.app.shapes import relative as relative_to_cwd

    return relative_to_cwd(path, cwd)


# --- rebuild and tags -----------------------------------------------------------------


def rebuild_report(report: RebuildReport, cwd: Path) -> str:
    """What each environment did, the diff against --from, lost pins and findings."""
    lines = []
    for env in report.result.environments:
        count = sum(len(p.packages) for p in env.lock.platforms)
        lines.append(f"{env.environment}: {env.action} ({count} packages)")
        lines += rebuild_diff_lines(env.changes)
    for m in report.missing:
        lines.append(f"warning: {m.environment}: {m.pin.file_name} not imported: {m.reason}")
    for f in report.result.findings:
        lines.append(f"warning: {f.environment} {f.platform}: {f.detail}")
    lines += [f"wrote {relative(p, cwd)}" for p in report.written]
    if not report.written:
        lines.append("nothing written")
    return "\n".join(lines)


def rebuild_diff_lines(changes: Sequence[tuple[str, Sequence[PackageChange]]]) -> list[str]:
    """The per-package diff against --from (``twinlock diff`` gives the full report)."""
    lines = []
    for platform, platform_changes in changes:
        if not platform_changes:
            lines.append(f"    {platform}: unchanged")
            continue
        lines.append(f"    {platform}: {len(platform_changes)} change(s)")
        lines += [
            f"      {c.name}: {c.old or '(absent)'} -> {c.new or '(removed)'}"
            for c in platform_changes
        ]
    return lines


def tag_table(tags: Sequence[ImageTag]) -> str:
    """One line per tag: tag, category, display name."""
    width = max((len(t.tag) for t in tags), default=0)
    return "\n".join(f"{t.tag:<{width}}  {t.category.value:<17}  {t.display_name}" for t in tags)


def install_report(report: InstallReport, cwd: Path) -> str:
    lines = []
    for r in report.results:
        where = relative(r.path, cwd)
        if r.action == "skip":
            lines.append(
                f"{r.environment}: {where} already matches the lock ({r.packages} packages)"
            )
            continue
        verb = {"replace": "replaced", "extend": "extended"}.get(r.action, "installed")
        rate = r.files / r.seconds if r.seconds else 0.0
        lines.append(
            f"{r.environment}: {verb} {r.packages} packages ({r.files} files) into {where} "
            f"in {r.seconds:.2f} s ({rate:.0f} files/s)"
        )
    for layer in report.pypi:
        how = "from uv's cache" if layer.offline else "downloading what uv's cache lacked"
        made = "created a venv and " if layer.created else ""
        lines.append(
            f"{relative(layer.prefix, cwd)}: {made}installed the PyPI layer ({layer.packages} "
            f"packages, hash-checked) {how} in {layer.seconds:.2f} s"
        )
    lines += [f"wrote {relative(p, cwd)}" for p in report.kernel_files]
    lines += [f"froze {relative(p, cwd)} (conda refuses to change it)" for p in report.frozen]
    return "\n".join(lines)


def verify_report(drift: Sequence[Drift], checked: int, *, deep: bool) -> str:
    if not drift:
        depth = " (files checked against their recorded hashes)" if deep else ""
        return f"all {checked} environment(s) match their locks{depth}"
    lines = [f"{len(drift)} difference(s) from the locks:"]
    lines += [f"  {d.kind:<10} {d.environment}: {d.detail}" for d in drift]
    return "\n".join(lines)


def mirror_report(report: MirrorReport, cwd: Path) -> str:
    dest = relative(report.dest, cwd)
    channel = report.channels[0] if report.channels else "CHANNEL"
    return (
        f"{dest}: {report.copied} archive(s) copied, {report.present} already present, indexed\n"
        f"install air-gapped with: --mirror {channel}={dest}"
    )


def smoke_report(report: SmokeReport) -> str:
    lines = []
    for c in report.checks:
        status = {True: "ok", False: "FAIL", None: "skip"}[c.ok]
        lines.append(f"{status:<4} {c.environment} {c.kind} {c.subject} ({c.seconds:.1f} s)")
        if c.ok is not True and c.output:
            lines += [f"     | {line}" for line in c.output.splitlines()[-12:]]
    lines += [f"note {name}: its lock records no tests" for name in report.untested]
    passed = sum(1 for c in report.checks if c.ok)
    failed = len(report.failed)
    skipped = len(report.checks) - passed - failed
    lines.append(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return "\n".join(lines)
