"""Is every lock fresh and self-consistent? (``twinlock check``)

Fresh: the inputs the composition would solve today hash to what the lock
recorded, and the lock's metadata (prefix, requirements) and ``@EXPLICIT``
twins match. Consistent: every dependency of every locked package is met by
another package of the same environment x platform (or by a recorded virtual
package). Findings are values; the CLI renders them and sets the exit code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twinlock.errors import did_you_mean
from twinlock.model.composition import Composition, Environment
from twinlock.model.inputs import SolveInputs, pins_digest
from twinlock.model.lock import EnvironmentLock, LockedPackage, PlatformLock

if TYPE_CHECKING:
    from rattler import PackageRecord

    from twinlock.model.platforms import VirtualPackage


@dataclass(frozen=True)
class Finding:
    """Something wrong with the lock of one environment (x platform)."""

    environment: str
    platform: str | None
    # "stale" | "missing" | "inconsistent" | "orphan" | "misaligned" | "align" | "kernel"
    # | "overlap"
    kind: str
    detail: str


def check_freshness(
    composition: Composition,
    locks: Mapping[str, EnvironmentLock],
    expected_metadata: Mapping[str, EnvironmentLock],
) -> list[Finding]:
    """Stale or missing locks, each with the input that changed."""
    findings: list[Finding] = []
    for env in composition.environments:
        lock = locks.get(env.name)
        if lock is None:
            findings.append(Finding(env.name, None, "missing", "no lock file; run twinlock lock"))
            continue
        for platform in env.platforms:
            base = locks.get(env.extends) if env.extends else None
            if env.extends and base is None:
                findings.append(
                    Finding(env.name, None, "stale", f"its base '{env.extends}' has no lock")
                )
                break
            findings += _platform_freshness(composition, lock, platform, base)
        for platform in sorted(set(lock.platform_names) - set(env.platforms)):
            findings.append(
                Finding(env.name, platform, "stale", "platform no longer in the composition")
            )
        expected = expected_metadata.get(env.name)
        if expected is not None:
            findings += _metadata_findings(lock, expected)
    return findings


def _platform_freshness(
    composition: Composition,
    lock: EnvironmentLock,
    platform: str,
    base: EnvironmentLock | None = None,
) -> list[Finding]:
    env = composition.environment(lock.environment)
    base_plat = base.platform(platform) if base is not None else None
    digest = pins_digest(base_plat) if base_plat is not None else None
    now = SolveInputs.for_environment(composition, env, platform, digest)
    recorded = SolveInputs.recorded_in(lock, platform)
    plat = lock.platform(platform)
    if recorded is None or plat is None:
        return [Finding(env.name, platform, "missing", "platform not in the lock")]
    if plat.input_hash == now.digest():
        return []
    reasons = now.changes_since(recorded) or [
        "recorded input hash does not match (lock edited by hand or made by another version)"
    ]
    return [Finding(env.name, platform, "stale", r) for r in reasons]


def _metadata_findings(lock: EnvironmentLock, expected: EnvironmentLock) -> list[Finding]:
    out = []
    if lock.prefix != expected.prefix:
        out.append(
            Finding(lock.environment, None, "stale", f"prefix {lock.prefix} -> {expected.prefix}")
        )
    same_specs = sorted(r.spec for r in lock.requirements) == sorted(
        r.spec for r in expected.requirements
    )
    # A rebuild keeps the historical image's tests beside the composition's: only tests the
    # composition declares and the lock lacks make it stale.
    if expected.tests and not (lock.tests and lock.tests.covers(expected.tests)):
        out.append(Finding(lock.environment, None, "stale", "smoke tests (tests:) changed"))
    # A changed spec set is already reported per platform, as an input change.
    if same_specs and lock.requirements != expected.requirements:
        out.append(
            Finding(
                lock.environment,
                None,
                "stale",
                "requirement order, provenance or selector platforms changed",
            )
        )
    return out


def check_consistency(lock: EnvironmentLock) -> list[Finding]:
    """Dependencies of locked packages that no other locked package satisfies."""
    return [
        Finding(lock.environment, plat.platform, "inconsistent", problem)
        for plat in lock.platforms
        for problem in unmet_dependencies(plat)
    ]


def unmet_dependencies(plat: PlatformLock) -> list[str]:
    """Each ``pkg needs 'dep spec'`` that the platform lock does not satisfy."""
    from rattler import MatchSpec

    locked = {p.name: p for p in plat.packages}
    virtual = {v.name: v for v in plat.virtual_packages}
    problems = []
    # Within a platform each name has one record, so a spec's verdict is the same for
    # every package that depends on it: ~5,000 dependencies share ~1,000 distinct specs.
    verdicts: dict[str, bool] = {}
    records: dict[str, PackageRecord] = {}  # built when a spec is first matched against it
    for pkg in plat.packages:
        for dep in pkg.depends:
            name = dep.split(" ", 1)[0].lower()
            record = records.get(name) or _record_named(name, locked, virtual, records)
            if record is None:
                problems.append(f"{pkg.name} {pkg.version} needs '{dep}': not in the lock")
                continue
            if dep not in verdicts:
                verdicts[dep] = bool(MatchSpec(dep).matches(record))
            if not verdicts[dep]:
                found = f"{record.version} {record.build}"
                problems.append(f"{pkg.name} {pkg.version} needs '{dep}': locked {found}")
    return problems


def _record_named(
    name: str,
    locked: Mapping[str, LockedPackage],
    virtual: Mapping[str, VirtualPackage],
    records: dict[str, PackageRecord],
) -> PackageRecord | None:
    """The record matched for *name* (a locked or virtual package), made once."""
    if name in virtual:  # the platform's virtual package wins, as in the solve
        v = virtual[name]
        records[name] = _virtual_record(v.name, v.version, v.build)
    elif name in locked:
        records[name] = package_record(locked[name])
    return records.get(name)


def package_record(pkg: LockedPackage) -> PackageRecord:
    """rattler's record of a locked package, for matching specs against it."""
    return _virtual_record(pkg.name, pkg.version, pkg.build, pkg.subdir)


def _virtual_record(name: str, version: str, build: str, subdir: str = "noarch") -> PackageRecord:
    from rattler import BuildString, PackageRecord

    tail = build.rsplit("_", 1)[-1]
    number = int(tail) if tail.isdigit() else 0
    return PackageRecord(name, version, BuildString(build), number, subdir)


def cross_environment_findings(
    composition: Composition, locks: Mapping[str, EnvironmentLock]
) -> list[Finding]:
    """What spans environments: aligned packages whose pins differ, kernels lacking ipykernel."""

    return misalignment_findings(composition, locks) + kernel_findings(composition, locks)


def misalignment_findings(
    composition: Composition, locks: Mapping[str, EnvironmentLock]
) -> list[Finding]:
    """Packages of the composition's ``align`` list pinned differently across environments.

    An aligned name that no lock has at all is a finding too: a typo aligns nothing.
    """
    from twinlock.lock.alignment import misaligned

    platform_locks = {
        (lock.environment, plat.platform): plat
        for lock in locks.values()
        for plat in lock.platforms
    }
    unmatched = [
        Finding(composition.source, None, "align", f"align: {text}")
        for text in unmatched_align(composition, locks)
    ]
    return unmatched + [
        Finding(
            ", ".join(sorted(pins)),
            platform,
            "misaligned",
            f"{name} is aligned but pinned differently: "
            + ", ".join(f"{env} {pkg.version} {pkg.build}" for env, pkg in sorted(pins.items())),
        )
        for platform, name, pins in misaligned(composition.align, platform_locks)
    ]


def align_warnings(composition: Composition, locks: Mapping[str, EnvironmentLock]) -> list[str]:
    """``lock``'s warnings for names of the ``align`` list that no lock holds."""
    return [f"align: {text}" for text in unmatched_align(composition, locks)]


def unmatched_align(composition: Composition, locks: Mapping[str, EnvironmentLock]) -> list[str]:
    """Names of the ``align`` list that no environment's lock holds on any platform."""
    locked = {
        pkg.name for lock in locks.values() for plat in lock.platforms for pkg in plat.packages
    }
    if not locked:
        return []
    return [
        f"no environment has '{name}' {did_you_mean(name, sorted(locked))}".rstrip()
        + " (it aligns nothing; fix or remove it)"
        for name in composition.align
        if name not in locked
    ]


def kernel_warnings(composition: Composition, locks: Mapping[str, EnvironmentLock]) -> list[str]:
    """What ``lock`` warns about: the kernel rule of :func:`kernel_findings`."""
    return [f.detail for f in kernel_findings(composition, locks)]


def kernel_findings(
    composition: Composition, locks: Mapping[str, EnvironmentLock]
) -> list[Finding]:
    """Kernel environments whose lock lacks ipykernel on some platform (a custom argv is
    trusted to start its own kernel)."""
    findings: list[Finding] = []
    for env in composition.environments:
        lock = locks.get(env.name)
        if env.kernel is None or lock is None or env.kernel.argv:
            continue
        missing = [
            p.platform
            for p in lock.platforms
            if p.package("ipykernel") is None and p.pypi_package("ipykernel") is None
        ]
        if missing:
            findings.append(Finding(env.name, None, "kernel", _missing_ipykernel(env, missing)))
    return findings


def _missing_ipykernel(env: Environment, platforms: list[str]) -> str:
    return (
        f"{env.name} is wired as kernel '{env.kernel.name if env.kernel else ''}' but its lock "
        f"has no ipykernel on {', '.join(platforms)}: the kernel will not start "
        f"(add ipykernel to {env.name}'s requirements)"
    )
