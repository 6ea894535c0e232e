"""The feature contract: what a feature declares, and what the core runs for it.

A feature (one package under `cogs/`) builds its services in its `setup()` from explicit
collaborators (the database, repositories, settings, the chart worker, typed interfaces of other
features) and hands the core one :class:`Feature`:

- its Cog (thin: options in, service call, answer out),
- its persistent components (DynamicItem classes, see :mod:`bot.components`),
- its background jobs (:class:`Job`: a name, an interval and a coroutine function; the core
  starts them once the bot is ready, keeps them alive, stops them on unload and reports on them;
  ``once_per_cluster`` ones run only in the cluster's leader, see :mod:`bot.cluster`),
- its data hooks (:class:`DataHooks`: export a member's data, forget a member, purge a
  community), which the core's :class:`bot.lifecycle.Lifecycle` calls for every loaded feature,
- the typed interfaces it offers other features (``{Protocol: implementation}``), found with
  :meth:`FeatureRegistry.get` by type, never by a cog's or a method's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from discord.ext import commands

from bot.cluster import Leadership, SoleLeader

if TYPE_CHECKING:
    import discord

    from bot.database import Reader, Transaction

log = logging.getLogger(__name__)

T = TypeVar("T")


class DataHooks(Protocol):
    """What a feature keeps about members and communities, for the core's data lifecycle.

    Each hook runs inside the one transaction the core opened for the whole operation, so a
    forget or a purge across every feature commits together or not at all.
    """

    async def export_member(self, db: Reader, guild_id: int, member_id: int) -> dict[str, Any]:
        """Everything this feature keeps about the member in the community (JSON-ready)."""
        ...

    async def forget_member(self, tx: Transaction, guild_id: int, member_id: int) -> int:
        """Delete (or unlink) the member's data in the community; returns rows changed."""
        ...

    async def purge_community(self, tx: Transaction, guild_id: int) -> int:
        """Delete every row this feature keeps for the community; returns rows deleted."""
        ...


@dataclass(frozen=True)
class Job:
    """A background job: ``run`` is awaited every ``interval`` seconds once the bot is ready.

    With ``run_at_start`` the first run happens at once, otherwise one interval after ready.
    A failing run is logged and counted; the job goes on at the next interval.

    ``once_per_cluster``: work that must happen once for every process together (the radar's
    cycle): it runs only while this process is the cluster's leader, starts as soon as it
    becomes the leader, and a run in progress is cancelled when leadership is lost (so only
    work that is safe to stop anywhere belongs here). Work on communities is split by shard
    instead (:meth:`bot.cluster.Shards.holds`).
    """

    name: str
    interval: float
    run: Callable[[], Awaitable[object]]
    run_at_start: bool = True
    once_per_cluster: bool = False


@dataclass
class JobStatus:
    """What the core knows about one job, for operators."""

    name: str
    runs: int = 0
    failures: int = 0
    last_started: float | None = None  # time.time()
    last_duration: float | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class Feature:
    """One feature, as its `setup()` declares it to the core."""

    name: str
    cog: commands.Cog | None = None
    components: tuple[type[discord.ui.DynamicItem[Any]], ...] = ()
    jobs: tuple[Job, ...] = ()
    data: DataHooks | None = None
    provides: Mapping[type[Any], object] = field(default_factory=dict)
    #: Awaited when the feature is removed (close coalescers, workers…), after its jobs stop.
    close: Callable[[], Awaitable[None]] | None = None


class JobRunner:
    """Runs background jobs as tasks: wait for ready, run, sleep, again; never dies on error.
    Leader-only jobs (``once_per_cluster``) also wait for ``leadership``."""

    def __init__(
        self,
        wait_until_ready: Callable[[], Awaitable[None]],
        leadership: Leadership | None = None,
    ) -> None:
        self._wait_until_ready = wait_until_ready
        self._leadership = leadership or SoleLeader()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.status: dict[str, JobStatus] = {}

    def start(self, job: Job) -> None:
        if job.name in self._tasks:
            raise ValueError(f"a job named {job.name!r} is already running")
        self.status[job.name] = JobStatus(job.name)
        self._tasks[job.name] = asyncio.get_running_loop().create_task(
            self._loop(job), name=f"agora-job:{job.name}"
        )

    async def stop(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        self.status.pop(name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop_all(self) -> None:
        for name in list(self._tasks):
            await self.stop(name)

    async def run_once(self, job: Job) -> None:
        """One run of ``job``, recorded in its status; exceptions are logged, not raised."""
        status = self.status.setdefault(job.name, JobStatus(job.name))
        status.last_started = time.time()
        started = time.perf_counter()
        try:
            await job.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            status.failures += 1
            status.last_error = f"{type(exc).__name__}: {exc}"
            log.exception(
                "background job %s failed; it runs again in %.0f s", job.name, job.interval
            )
        else:
            status.last_error = None
        finally:
            status.runs += 1
            status.last_duration = time.perf_counter() - started

    async def _loop(self, job: Job) -> None:
        await self._wait_until_ready()
        if not job.run_at_start:
            await asyncio.sleep(job.interval)
        while True:
            if job.once_per_cluster:
                await self._run_while_leader(job)
            else:
                await self.run_once(job)
            await asyncio.sleep(job.interval)

    async def _run_while_leader(self, job: Job) -> None:
        """One run once this process leads; cancelled if leadership is lost meanwhile."""
        await self._leadership.wait_until_leader()
        run = asyncio.ensure_future(self.run_once(job))
        lost = asyncio.ensure_future(self._leadership.wait_until_lost())
        try:
            await asyncio.wait({run, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (run, lost):
                task.cancel()
            await asyncio.gather(run, lost, return_exceptions=True)
        if run.cancelled():
            log.warning("background job %s stopped: this process no longer leads", job.name)


class FeatureRegistry:
    """The loaded features, their typed interfaces and their data hooks."""

    def __init__(self) -> None:
        self._features: dict[str, Feature] = {}

    def add(self, feature: Feature) -> None:
        if feature.name in self._features:
            raise ValueError(f"feature {feature.name!r} is already loaded")
        self._features[feature.name] = feature

    def remove(self, name: str) -> Feature | None:
        return self._features.pop(name, None)

    def __iter__(self) -> Iterator[Feature]:
        return iter(list(self._features.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._features

    def names(self) -> list[str]:
        return sorted(self._features)

    def get(self, interface: type[T]) -> T | None:
        """The implementation of ``interface`` a loaded feature provides, or None."""
        for feature in self._features.values():
            implementation = feature.provides.get(interface)
            if implementation is not None:
                return cast(T, implementation)
        return None

    def require(self, interface: type[T]) -> T:
        """Like :meth:`get`, for a caller that cannot work without it (a loaded feature's own
        service, reached from a persistent component)."""
        implementation = self.get(interface)
        if implementation is None:
            raise LookupError(f"no loaded feature provides {interface.__name__}")
        return implementation

    def data_hooks(self) -> list[tuple[str, DataHooks]]:
        """(feature name, hooks) of every loaded feature that keeps data, in name order."""
        return [
            (name, feature.data)
            for name, feature in sorted(self._features.items())
            if feature.data is not None
        ]
