"""The solver adapter: the one place that talks to ``rattler.solve``.

The core hands over :class:`SolveRequest` values and gets :class:`SolveOutcome`
values back; tests substitute a fake with the same ``solve_all`` method.
:class:`RattlerSolver` runs every request concurrently on one shared
``rattler.Gateway`` (so repodata is read once), reading each channel from its
configured local mirror and recording the canonical URL in the result.

Its work is async (``solve_all_async``, ``find_packages_async``,
``package_names_async``); the sync methods run it through :func:`twinlock.aio.run`,
so they also work inside a running event loop. The solver owns its gateway: use it
as a context manager (or call :meth:`RattlerSolver.close`) to drop the gateway when
done rather than at interpreter exit.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from twinlock import aio
from twinlock.errors import ChannelError, SolveError
from twinlock.fileio import cache_dir
from twinlock.model.composition import Channel, Composition, Environment
from twinlock.model.lock import LockedPackage
from twinlock.model.platforms import VirtualPackage
from twinlock.solve.channels import channel_source
from twinlock.solve.records import PackageRef, RememberedFirst, exact_specs
from twinlock.spec.matchspec import to_match_spec

if TYPE_CHECKING:
    from rattler import Gateway, MatchSpec, RepoDataRecord


@dataclass(frozen=True)
class SolveRequest:
    """One environment x platform to solve."""

    environment: str
    platform: str
    specs: tuple[str, ...]
    channels: tuple[Channel, ...]
    virtual_packages: tuple[VirtualPackage, ...]
    snapshot: dt.datetime | None = None
    # Preferred pins (kept unless a requirement forces a change) ...
    locked: tuple[LockedPackage, ...] = ()
    # ... and hard pins (never changed).
    pinned: tuple[LockedPackage, ...] = ()

    @classmethod
    def for_environment(
        cls,
        composition: Composition,
        env: Environment,
        platform: str,
        locked: tuple[LockedPackage, ...] = (),
        pinned: tuple[LockedPackage, ...] = (),
    ) -> SolveRequest:
        """*env* on *platform* as the composition states it, preferring *locked* pins and
        holding *pinned* ones (a layer's base pins)."""
        return cls(
            environment=env.name,
            platform=platform,
            specs=env.solve_specs_on(platform),
            channels=env.channels,
            virtual_packages=composition.virtual_packages(platform),
            snapshot=composition.snapshot,
            locked=locked,
            pinned=pinned,
        )


@dataclass(frozen=True)
class SolveOutcome:
    """The result of one request: packages, or the solver's explanation of failure."""

    request: SolveRequest
    packages: tuple[LockedPackage, ...] | None
    error: str | None
    seconds: float

    @property
    def solved(self) -> bool:
        return self.packages is not None


class Solver(Protocol):
    def solve_all(self, requests: Sequence[SolveRequest]) -> list[SolveOutcome]: ...


# --- Record lookup (importing historical locks) --------------------------------------
# Separate from solving: find the channel record of an exact package file, so a pin
# read from a foreign lock gets its dependencies and hashes from the channel.


@runtime_checkable
class PackageIndex(Protocol):
    """What package names channels hold (conflict reports name the absent ones)."""

    def package_names(self, channels: Sequence[Channel], platform: str) -> frozenset[str]: ...


class RattlerSolver:
    """Solve with py-rattler against local mirrors of the requested channels.

    *channel_dir* maps a canonical channel URL to the local directory to read
    (see :func:`twinlock.solve.channels.local_channel_dir`); channels without a mirror
    are read from their canonical URL.
    """

    def __init__(
        self,
        mirrors: Mapping[str, str],
        channel_dir: Callable[[str], Any],
        timeout: dt.timedelta | None = None,
    ) -> None:
        self._mirrors = mirrors
        self._channel_dir = channel_dir
        self._timeout = timeout
        # One gateway per solver: repodata already read is reused by later calls
        # (conflict reports solve many small batches in a row).
        self._gateway: Gateway | None = None
        # Several compositions locked in one call share the solver from threads.
        self._gateway_lock = threading.Lock()

    def __enter__(self) -> RattlerSolver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Drop the gateway and the repodata it holds (a later call builds a new one)."""
        self._gateway = None

    def _shared_gateway(self) -> Gateway:
        from rattler import Gateway

        with self._gateway_lock:
            if self._gateway is None:
                # rattler's repodata cache goes under TWINLOCK_CACHE_DIR, not its default in ~.
                self._gateway = Gateway(cache_dir=cache_dir() / "rattler")
            return self._gateway

    def solve_all(self, requests: Sequence[SolveRequest]) -> list[SolveOutcome]:
        return aio.run(self.solve_all_async(requests))

    async def solve_all_async(self, requests: Sequence[SolveRequest]) -> list[SolveOutcome]:
        """Solve every request concurrently on the shared gateway."""
        gateway = self._shared_gateway()
        return await aio.gather_all([self._solve_one(gateway, r) for r in requests])

    def find_packages(self, refs: Sequence[PackageRef]) -> dict[PackageRef, LockedPackage]:
        """The records behind *refs* (absent when the channel does not hold the file).

        Answers for local channels are remembered across processes
        (:mod:`twinlock.solve.records`): a lock checked again against an unchanged
        channel directory needs no repodata parse.
        """
        remembering = RememberedFirst(self._source, lambda: self.find_packages_uncached)
        return remembering.find_packages(refs)

    def find_packages_uncached(self, refs: Sequence[PackageRef]) -> dict[PackageRef, LockedPackage]:
        """The records behind *refs*, asked of the channel (nothing remembered)."""
        return aio.run(self.find_packages_async(refs)) if refs else {}

    async def find_packages_async(
        self, refs: Sequence[PackageRef]
    ) -> dict[PackageRef, LockedPackage]:
        """The records behind *refs*, asked of rattler (exact specs first, names for the rest)."""
        import rattler

        gateway = self._shared_gateway()
        out: dict[PackageRef, LockedPackage] = {}
        for channel in sorted({r.channel for r in refs}, key=lambda c: c.url):
            group = [r for r in refs if r.channel == channel]
            source = rattler.Channel(self._source(channel))
            subdirs: list[Any] = sorted({r.subdir for r in group})
            # Exact specs return a few records instead of every build of every name;
            # a file name no spec matches (an odd version or build) is asked by name.
            specs: list[Any] = exact_specs(group)
            while group:
                try:
                    found = await gateway.query([source], subdirs, specs, recursive=False)
                except Exception as exc:
                    raise _lookup_error(exc, channel) from exc
                index = {(r.subdir, r.file_name): r for per in found for r in per}
                for ref in group:
                    record = index.get((ref.subdir, ref.file_name))
                    if record is not None:
                        out[ref] = LockedPackage.from_record(record, channel)
                group = [r for r in group if r not in out]
                names = sorted({r.name for r in group})
                if specs == names:
                    break
                specs = names
        return out

    def package_names(self, channels: Sequence[Channel], platform: str) -> frozenset[str]:
        """Every package name in *channels* for *platform* and ``noarch``."""
        return aio.run(self.package_names_async(channels, platform))

    async def package_names_async(
        self, channels: Sequence[Channel], platform: str
    ) -> frozenset[str]:
        import rattler

        sources = [rattler.Channel(self._source(c)) for c in channels]
        platforms: list[Any] = [platform, "noarch"]
        try:
            names = await self._shared_gateway().names(sources, platforms)
        except Exception as exc:
            where = SolveRequest("the package index", platform, (), tuple(channels), ())
            raise _classify(exc, where, self._mirrors) from exc
        return frozenset(n.normalized for n in names)

    def _source(self, channel: Channel) -> str:
        return channel_source(self._mirrors, channel, self._channel_dir)

    def _solver_spec(self, text: str, request: SolveRequest) -> MatchSpec:
        """*text* read by conda's rules; ``conda-forge::numpy`` reads conda-forge's mirror.

        Records come from the mirror, so a spec naming the canonical channel would match none.
        """
        spec = to_match_spec(text)
        if spec.channel is None or "::" not in str(spec):
            return spec
        wanted = _base(spec.channel.base_url)
        for channel in request.channels:
            source = self._source(channel)
            if channel.url == wanted and source != channel.url:
                import rattler

                local = _base(rattler.Channel(source).base_url)
                subdir = f"/{spec.subdir}" if spec.subdir else ""
                return to_match_spec(f"{local}{subdir}::{str(spec).split('::', 1)[1]}")
        return spec

    async def _solve_one(self, gateway: Gateway, request: SolveRequest) -> SolveOutcome:
        import rattler
        from rattler.exceptions import SolverError

        start = time.perf_counter()
        sources = [rattler.Channel(self._source(c)) for c in request.channels]
        canonical = {_base(s.base_url): c for s, c in zip(sources, request.channels, strict=True)}
        platforms: list[Any] = [request.platform, "noarch"]
        try:
            locked = await _records_for(gateway, sources, platforms, request.locked)
            pinned = await _records_for(gateway, sources, platforms, request.pinned)
            records = await rattler.solve(
                sources,
                [self._solver_spec(s, request) for s in request.specs],
                gateway=gateway,
                platforms=platforms,
                locked_packages=locked,
                pinned_packages=pinned,
                virtual_packages=[_to_rattler(v) for v in request.virtual_packages],
                timeout=self._timeout,
                # rattler reads a datetime's wall-clock fields as UTC.
                exclude_newer=request.snapshot.astimezone(dt.UTC) if request.snapshot else None,
                # Snapshot records seen only in conda-lock files carry no timestamp;
                # keep them rather than silently shrinking the channel.
                timestamp_policy="allow-missing",
            )
        except SolverError as exc:
            return SolveOutcome(request, None, str(exc), time.perf_counter() - start)
        except Exception as exc:
            raise _classify(exc, request, self._mirrors) from exc
        packages = tuple(
            LockedPackage.from_record(r, canonical.get(_base(r.channel), _fallback(r)))
            for r in records
        )
        return SolveOutcome(request, packages, None, time.perf_counter() - start)


def _base(url: str | None) -> str:
    return (url or "").rstrip("/")


def _fallback(record: RepoDataRecord) -> Channel:
    base = _base(record.channel)
    return Channel(name=base, url=base)


def _to_rattler(vp: VirtualPackage) -> Any:
    from rattler import BuildString, GenericVirtualPackage, PackageName, Version

    return GenericVirtualPackage(PackageName(vp.name), Version(vp.version), BuildString(vp.build))


async def _records_for(
    gateway: Gateway, sources: list[Any], platforms: list[Any], packages: Sequence[LockedPackage]
) -> list[RepoDataRecord]:
    """The repodata records behind locked packages (looked up by name, matched by file)."""
    if not packages:
        return []
    wanted = {(p.subdir, p.file_name) for p in packages}
    names = sorted({p.name for p in packages})
    found = await gateway.query(sources, platforms, names, recursive=False)
    return [r for per_channel in found for r in per_channel if (r.subdir, r.file_name) in wanted]


def _lookup_error(exc: Exception, channel: Channel) -> Exception:
    return ChannelError(
        f"cannot read channel {channel.name} to look up locked files: {exc}",
        offline_hint([channel]),
    )


BUNDLED_SNAPSHOT = "bundled:conda-forge-snapshot"


def offline_hint(channels: Sequence[Channel]) -> str:
    """How to give twinlock the *channels* it could not read: one --mirror per channel."""
    mirrors = " ".join(f"--mirror {c.name}=DIR" for c in channels)
    names = ", ".join(c.name for c in channels)
    hint = (
        f"{names} could not be read (no network or no such channel): configure a local "
        f"mirror ({mirrors}, or [mirrors] in twinlock.toml)"
    )
    if any(c.name == "conda-forge" for c in channels):
        # Outside this repository no twinlock.toml points at the snapshot twinlock ships.
        hint += "; offline, the bundled snapshot works: --mirror conda-forge=" + BUNDLED_SNAPSHOT
    return hint


def failed_channels(
    text: str, channels: Sequence[Channel], mirrors: Mapping[str, str]
) -> list[Channel]:
    """The channels an error names (by URL or name), else those read without a mirror."""
    named = [c for c in channels if c.url in text or f"/{c.name}/" in text]
    unmirrored = [c for c in channels if c.url not in mirrors]
    return named or unmirrored or list(channels)


def _classify(
    exc: Exception, request: SolveRequest, mirrors: Mapping[str, str] | None = None
) -> Exception:
    """A channel that cannot be read is the user's to fix; anything else is a bug to report."""
    from rattler.exceptions import FetchRepoDataError, GatewayError, InvalidChannelError

    text = str(exc)
    where = f"{request.environment} on {request.platform}"
    if isinstance(exc, GatewayError | FetchRepoDataError | InvalidChannelError):
        return ChannelError(
            f"cannot read the channels for {where}: {text}",
            offline_hint(failed_channels(text, request.channels, mirrors or {})),
        )
    return SolveError(
        f"solving {where} failed: {text}", "report this with the composition attached"
    )
