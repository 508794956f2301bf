"""Text and JSON renderings of conflict reports (``twinlock explain``, a failed ``lock``)."""

from __future__ import annotations

import json

from twinlock.explain.model import (
    AlignmentClash,
    AlignmentTrial,
    BasePinClash,
    Conflict,
    ConflictAnalysis,
    ConflictReport,
    Hint,
    analysis_as_json,
    ordered_pins,
)
from twinlock.model.composition import Requirement

MAX_PINS_SHOWN = 12


def conflict_text(analysis: ConflictAnalysis) -> str:
    blocks = [_report_text(r) for r in analysis.reports]
    blocks += [_clash_text(c) for c in analysis.alignment]
    blocks += [_layer_text(c) for c in analysis.layers]
    if analysis.aligned and not analysis.alignment and analysis.alignment_complete:
        blocks.append(
            f"align: {', '.join(analysis.aligned)} can take one build in every environment "
            "that solves"
        )
    if not analysis.alignment_complete:
        blocks.append(
            "alignment check stopped early at the time limit: more clashes may remain; "
            "raise --time-limit to check every aligned package"
        )
    return "\n\n".join(blocks)


def conflict_json(analysis: ConflictAnalysis) -> str:
    return json.dumps(analysis_as_json(analysis), indent=2)


def _report_text(report: ConflictReport) -> str:
    where = f"{report.environment} on {report.platform}"
    if report.solvable:
        return f"{where}: solves"
    lines = [f"{where}: does not solve"]
    if report.absent:
        lines.append(f"  {len(report.absent)} requested name(s) absent from the channels:")
        for a in report.absent:
            close = f" (did you mean {', '.join(a.suggestions)}?)" if a.suggestions else ""
            lines.append(f"    {a.spec}{close}")
    if report.conflicts:
        lines.append(f"  {len(report.conflicts)} conflict(s), each a minimal set:")
    for number, conflict in enumerate(report.conflicts, 1):
        lines += _conflict_lines(number, conflict, "  ")
        lines += [f"       hint: {_hint_text(h, conflict, report)}" for h in conflict.hints]
    if not report.complete:
        lines += _stopped_lines(report)
    solves = f"{report.solves} solve{'' if report.solves == 1 else 's'}"
    lines.append(f"  ({solves} in {report.seconds:.1f} s)")
    return "\n".join(lines)


SHOWN_UNEXPLORED = 5


def _stopped_lines(report: ConflictReport) -> list[str]:
    """What the time limit left out: unexplored ways of breaking the conflicts, hints."""
    head = f"  search stopped early at the time limit ({report.time_limit:g} s)"
    unhinted = sum(1 for c in report.conflicts if not c.hints)
    more = "raise --time-limit to search further"
    lines = []
    if report.unexplored:
        count = len(report.unexplored)
        lines.append(
            f"{head}: more conflicts may remain in {count} set(s) of the requested specs "
            f"not explored ({more}):"
        )
        common = set.intersection(*(set(r) for r in report.unexplored))
        if common and count > 1:
            shared = ", ".join(s for s in report.unexplored[0] if s in common)
            lines.append(f"    each without {shared}, and")
        for removal in report.unexplored[:SHOWN_UNEXPLORED]:
            rest = [s for s in removal if s not in common or count == 1]
            if not removal:
                lines.append("    all of them")
            else:
                lines.append(f"    without {', '.join(rest)}" if rest else "    nothing more")
        if count > SHOWN_UNEXPLORED:
            lines.append(
                f"    ... and {count - SHOWN_UNEXPLORED} more (all in --json 'unexplored')"
            )
    if unhinted:
        lead = "  also" if lines else f"{head}:"
        lines.append(f"{lead} {unhinted} conflict(s) got no hints ({more})")
    return lines or [f"{head} ({more})"]


def _conflict_lines(number: int, conflict: Conflict, indent: str) -> list[str]:
    lines = [f"{indent}{number}. " + "  +  ".join(conflict.specs)]
    lines += [f"{indent}     | {line}" for line in conflict.explanation]
    return lines


def _hint_text(hint: Hint, conflict: Conflict, report: ConflictReport) -> str:
    rest = [s for s in conflict.specs if s != hint.spec]
    if hint.python_pin and hint.relaxation is None:
        return (
            f"{hint.spec}: the Python pin of {report.environment}; relax or move the other "
            f"spec(s) of the set ({', '.join(rest)})"
            if rest
            else f"{hint.spec}: the Python pin of {report.environment}; no build fits here"
        )
    parts = []
    fits = [f.environment for f in hint.fits if f.fits]
    if hint.belongs_in:
        where = " or ".join(hint.belongs_in)
        parts.append(f"belongs in {where}, not {report.environment} (it solves there)")
    elif fits:
        parts.append(f"would solve in {' and '.join(fits)} (information: the conflict is the set)")
    elif hint.fits and all(f.fits is False for f in hint.fits):
        parts.append(f"does not fit {' or '.join(f.environment for f in hint.fits)} either")
    r = hint.relaxation
    if r is not None:
        which = "newest" if r.newest else "a"
        against = f"with {', '.join(rest)}" if rest else "on this platform"
        parts.append(f"{which} version that fits {against}: {r.package} {r.version}")
    else:
        parts.append("no version of it fits " + (f"with {', '.join(rest)}" if rest else "here"))
    return f"{hint.spec}: " + "; ".join(parts)


def _clash_text(clash: AlignmentClash) -> str:
    envs = " and ".join(clash.environments)
    lines = [f"align {clash.package} on {clash.platform}: no single build fits {envs}"]
    lines += [f"  {env} locks {clash.package} {pin}" for env, pin in clash.pins]
    for trial in clash.trials:
        lines += _trial_lines(clash, trial)
    lines.append(f"  hint: {_clash_hint(clash)}")
    return "\n".join(lines)


def _trial_lines(clash: AlignmentClash, trial: AlignmentTrial) -> list[str]:
    what = f"{clash.package} {trial.candidate}"
    if trial.accepted:
        return [f"  {trial.environment} accepts {what} with its own requirements"]
    if trial.accepted is None:
        return [f"  {trial.environment} with {what}: not tried (time limit)"]
    lines = [f"  {trial.environment} refuses {what}:"]
    for number, conflict in enumerate(trial.conflicts, 1):
        lines += _conflict_lines(number, conflict, "    ")
    if not trial.complete:
        lines.append("    (the time limit stopped the search: more conflicts may remain)")
    return lines


def _clash_hint(clash: AlignmentClash) -> str:
    by_candidate: dict[str, list[AlignmentTrial]] = {}
    for trial in clash.trials:
        by_candidate.setdefault(trial.candidate, []).append(trial)
    shared = [c for c, trials in by_candidate.items() if all(t.accepted for t in trials)]
    drop = f"or drop '{clash.package}' from 'align'"
    if shared:
        return (
            f"every environment accepts {clash.package} {shared[0]} with its own requirements: "
            "the clash comes from another aligned package or from an environment that was "
            f"not relocked; lock the environments together (without --env), {drop}"
        )
    blamed = dict.fromkeys(
        f"{spec} ({trial.environment})"
        for trial in clash.trials
        for conflict in trial.conflicts
        for spec in conflict.specs
        if spec != clash.pin_spec(trial.candidate)
    )
    if not blamed:
        return f"relax what holds {clash.package} apart, {drop}"
    if all(any(_names_python(c) for c in t.conflicts) for t in clash.trials):
        # Different interpreters are the point of separate environments: do not suggest
        # moving them.
        if clash.package == "python":
            return f"the environments pin different Pythons, {drop}"
        return (
            f"{clash.package} builds are tied to each environment's Python, which differ: "
            f"drop '{clash.package}' from 'align' (align only packages that do not depend "
            "on Python)"
        )
    return f"to share one build, relax {' or '.join(blamed)}, {drop}"


def _names_python(conflict: Conflict) -> bool:
    return any(Requirement(spec).name == "python" for spec in conflict.specs)


def _layer_text(clash: BasePinClash) -> str:
    by = f" (requested by {clash.requested_by})" if clash.requested_by else ""
    lines = [
        f"{clash.layer} on {clash.platform}: '{clash.addition}'{by} needs pins of its base "
        f"{clash.base} to move:"
    ]
    pins = ordered_pins(clash)
    for pin in pins[:MAX_PINS_SHOWN]:
        moves = f" -> {pin.moves_to}" if pin.moves_to else " -> removed"
        named = f", required by {clash.base} as '{pin.requirement}'" if pin.requirement else ""
        if pin.forbidden:
            named = f", which {clash.base}'s requirement '{pin.requirement}' forbids"
        who = f" (requested by {pin.requested_by})" if pin.requested_by else ""
        lines.append(f"  {pin.package} {pin.pin}{moves}{named}{who}")
    if len(pins) > MAX_PINS_SHOWN:
        lines.append(f"  ... and {len(pins) - MAX_PINS_SHOWN} more (all in --json)")
    lines.append(
        f"  hint: relax '{clash.addition}' to fit {clash.base}'s pins, or change {clash.base} "
        f"itself (a relock of {clash.base} relocks {clash.layer})"
    )
    return "\n".join(lines)
