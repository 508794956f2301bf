"""Alignment: one version and build of chosen packages across environments.

A composition may list packages under ``align`` (``openssl``,
``ca-certificates``, ``tzdata``...). After every environment is solved, each
aligned package that two environments of the same platform pin differently is
settled like this:

* candidates are the pins the environments already hold, newest first (a build
  one environment accepts is the likeliest to be accepted by the others);
* each environment that does not hold the candidate is re-solved with it as a
  hard pin (``SolveRequest.pinned``), its other packages kept as preferred pins
  so nothing unrelated moves, and every aligned package that already agrees
  pinned too, so settling one package cannot undo another;
* the first candidate every environment accepts wins; when none does, an
  :class:`~twinlock.errors.AlignmentError` names the package, the platform, the
  environments and why each refused (``twinlock lock`` turns it into a conflict
  report: :mod:`twinlock.explain.alignment`).

Pinning can pull an aligned package into an environment that lacked it, so the
whole check repeats a bounded number of rounds. Environments that are not being
locked (``twinlock lock --env ...``) take part with their previous locks as
fixed points: the candidate must be their pin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from twinlock.errors import AlignmentError
from twinlock.model.lock import LockedPackage, PlatformLock

if TYPE_CHECKING:  # types only: check reads misaligned pins without the solver adapter
    from twinlock.solve.adapter import SolveOutcome, Solver, SolveRequest

Key = tuple[str, str]  # (environment, platform)
RequestFor = Callable[[str, str], "SolveRequest"]

MAX_ROUNDS = 3


@dataclass(frozen=True)
class Aligned:
    """The locks after alignment and the solve time spent per re-solved key."""

    locks: Mapping[Key, PlatformLock]
    seconds: Mapping[Key, float]


def misaligned(
    align: Sequence[str], locks: Mapping[Key, PlatformLock]
) -> list[tuple[str, str, dict[str, LockedPackage]]]:
    """``(platform, package, {env: pin})`` for every aligned package whose pins differ."""
    out = []
    for platform in sorted({p for _, p in locks}):
        for name in align:
            holders = _holders(name, platform, locks)
            if len({pkg.key for pkg in holders.values()}) > 1:
                out.append((platform, name, holders))
    return out


def align_locks(
    align: Sequence[str],
    locks: Mapping[Key, PlatformLock],
    request_for: RequestFor,
    solver: Solver,
    *,
    fixed: Mapping[Key, PlatformLock] | None = None,
) -> Aligned:
    """Re-solve environments until every aligned package has one pin per platform."""
    run = _Run(tuple(align), dict(locks), dict(fixed or {}), request_for, solver)
    for _ in range(MAX_ROUNDS):
        pending = misaligned(align, run.everything())
        if not pending:
            return Aligned(run.current, run.seconds)
        for platform, name, _ in pending:
            run.settle(name, platform)
    left = misaligned(align, run.everything())
    if left:
        platform, name, holders = left[0]
        raise AlignmentError(name, platform, _describe(holders), [])
    return Aligned(run.current, run.seconds)


@dataclass
class _Run:
    """The working state of one alignment (private: built and mutated by align_locks only)."""

    align: tuple[str, ...]
    current: dict[Key, PlatformLock]
    frozen: dict[Key, PlatformLock]
    request_for: RequestFor
    solver: Solver
    seconds: dict[Key, float] = field(default_factory=dict)

    def everything(self) -> dict[Key, PlatformLock]:
        return self.current | self.frozen

    def settle(self, name: str, platform: str) -> None:
        """Give *name* one pin on *platform*, or raise AlignmentError."""
        holders = _holders(name, platform, self.everything())
        if len({pkg.key for pkg in holders.values()}) <= 1:
            return
        everything = self.everything()
        pending = {n for plat, n, _ in misaligned(self.align, everything) if plat == platform}
        agreed = [n for n in self.align if n != name and n not in pending]
        refusals: list[tuple[str, str, str]] = []
        for candidate in _candidates(platform, holders, self.frozen):
            targets = [env for env, pkg in holders.items() if pkg.key != candidate.key]
            requests = [
                _pinned_request(
                    self.request_for(env, platform),
                    self.current[(env, platform)],
                    candidate,
                    agreed,
                )
                for env in targets
            ]
            outcomes = self.solver.solve_all(requests)
            failed = [o for o in outcomes if o.packages is None]
            if not failed:
                self._accept(platform, outcomes)
                return
            label = f"{candidate.version} {candidate.build}"
            refusals += [(o.request.environment, label, o.error or "") for o in failed]
        raise AlignmentError(name, platform, _describe(holders), refusals)

    def _accept(self, platform: str, outcomes: Sequence[SolveOutcome]) -> None:
        for outcome in outcomes:
            key = (outcome.request.environment, platform)
            old = self.current[key]
            assert outcome.packages is not None
            self.current[key] = PlatformLock.create(
                platform, old.input_hash, old.virtual_packages, outcome.packages
            )
            self.seconds[key] = self.seconds.get(key, 0.0) + outcome.seconds


def _holders(
    name: str, platform: str, locks: Mapping[Key, PlatformLock]
) -> dict[str, LockedPackage]:
    out = {}
    for (env, plat), lock in sorted(locks.items()):
        pkg = lock.package(name) if plat == platform else None
        if pkg is not None:
            out[env] = pkg
    return out


def _candidates(
    platform: str,
    holders: Mapping[str, LockedPackage],
    frozen: Mapping[Key, PlatformLock],
) -> list[LockedPackage]:
    """The distinct pins held, newest first; only the fixed ones when some are fixed."""
    fixed_envs = {env for env, plat in frozen if plat == platform}
    pool = [pkg for env, pkg in holders.items() if env in fixed_envs] or list(holders.values())
    unique = {pkg.key: pkg for pkg in pool}
    return sorted(unique.values(), key=_newness, reverse=True)


def _newness(pkg: LockedPackage) -> tuple[object, int, str]:
    from rattler import Version

    tail = pkg.build.rsplit("_", 1)[-1]
    return (Version(pkg.version), int(tail) if tail.isdigit() else 0, pkg.build)


def _pinned_request(
    request: SolveRequest,
    lock: PlatformLock,
    candidate: LockedPackage,
    agreed: Sequence[str],
) -> SolveRequest:
    """*request* with *candidate*, and the aligned packages that already agree, hard-pinned."""
    others = [p for p in lock.packages if p.name in agreed]
    return replace(
        request,
        locked=tuple(p for p in lock.packages if p.name != candidate.name),
        pinned=(*request.pinned, *others, candidate),
    )


def _describe(holders: Mapping[str, LockedPackage]) -> dict[str, str]:
    return {env: f"{pkg.version} {pkg.build}" for env, pkg in holders.items()}
