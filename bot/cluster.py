"""Several Agora processes on one database: who does what once.

A cluster is N processes sharing one PostgreSQL database, each running a range of Discord shards
(``AGORA_SHARD_COUNT``, ``AGORA_SHARD_IDS``). Work splits three ways:

- **by shard**: a community's deadlines (poll and debate closes, Oxford phases, the weekly
  debate) and its retention purge belong to the process whose shards hold it
  (:meth:`Shards.holds`, Discord's own rule ``(guild_id >> 22) % shard_count``); without shard
  settings one process holds every community;
- **by leader**: what exists once for the whole cluster (the release radar's cycle, the ledger's
  expiry) runs only in the leader (:class:`Leadership`; a job declares it with
  ``Job(..., once_per_cluster=True)``). On SQLite the one process is always the leader
  (:mod:`bot.instance_lock` refuses a second bot on the file); on PostgreSQL it is the process
  holding a session advisory lock on a dedicated connection: the lock ends with the session, so
  a killed leader (even by ``kill -9``) frees it, and another process, retrying every
  :data:`RETRY_SECONDS`, takes over;
- **by claim**: rows several processes may reach (the release outbox) are claimed in the
  database (see :meth:`bot.repositories.release_outbox.OutboxRepository.claim`), each claim
  marked with this process's :attr:`Cluster.node_id` and a lease.

IDENTIFY (a shard's gateway login) is limited by Discord to one per 5 s per bucket
(``shard_id % max_concurrency``) for the whole bot, all processes together: on PostgreSQL
:class:`IdentifyGate` spaces them with one advisory lock per bucket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import asyncpg

from bot.database_target import PostgresTarget

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

#: The advisory lock space of Agora ("AGOR"); (LOCK_SPACE, 0) is the cluster's leadership.
LOCK_SPACE = 0x41474F52
#: The advisory lock space of IDENTIFY buckets: (IDENTIFY_SPACE, bucket).
IDENTIFY_SPACE = LOCK_SPACE + 1
#: How often a process that is not the leader tries to become it, and the leader checks that
#: its connection (so its lock) is still there.
RETRY_SECONDS = 3.0
#: Discord allows one IDENTIFY per bucket every 5 seconds.
IDENTIFY_INTERVAL = 5.0
CONNECT_TIMEOUT = 10.0
#: After losing its connection, a process leaves the lock to the others for this many retries.
HOLD_OFF_RETRIES = 3


class _OfGuild(Protocol):
    @property
    def guild_id(self) -> int: ...


R = TypeVar("R", bound=_OfGuild)

Connect = Callable[[], Awaitable["asyncpg.Connection[Any]"]]


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that receives a community's events (Discord's rule)."""
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True)
class Shards:
    """This process's shards; ``count`` None means no shard settings: every community."""

    count: int | None = None
    ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, count: int | None, ids: Iterable[int] | None) -> Shards:
        if count is None:
            return cls()
        return cls(count, frozenset(range(count) if ids is None else ids))

    def holds(self, guild_id: int) -> bool:
        """True when this process handles the community (its events and its deadlines)."""
        return self.count is None or shard_of(guild_id, self.count) in self.ids

    def holds_shard(self, shard_id: int) -> bool:
        return self.count is None or shard_id in self.ids

    def only_held(self, guild_ids: Iterable[int]) -> list[int]:
        return [guild_id for guild_id in guild_ids if self.holds(guild_id)]

    def held(self, records: Iterable[R]) -> list[R]:
        """The records (anything with a ``guild_id``) of the communities this process holds."""
        return [record for record in records if self.holds(record.guild_id)]


class Leadership:
    """Whether this process is the cluster's leader, with events to wait for a change."""

    def __init__(self) -> None:
        self._leading = asyncio.Event()
        self._following = asyncio.Event()
        self._following.set()

    @property
    def is_leader(self) -> bool:
        return self._leading.is_set()

    async def wait_until_leader(self) -> None:
        await self._leading.wait()

    async def wait_until_lost(self) -> None:
        await self._following.wait()

    def _gain(self) -> None:
        if not self.is_leader:
            log.info("this process is now the cluster's leader")
        self._following.clear()
        self._leading.set()

    def _lose(self, why: str) -> None:
        if self.is_leader:
            log.warning("this process is no longer the cluster's leader: %s", why)
        self._leading.clear()
        self._following.set()

    async def start(self) -> None:
        """Begin (leader at once on SQLite; the first attempt on PostgreSQL)."""

    async def close(self) -> None:
        self._lose("stopping")


class SoleLeader(Leadership):
    """One process on its own database (SQLite): always the leader."""

    def __init__(self) -> None:
        super().__init__()
        self._following.clear()
        self._leading.set()

    async def close(self) -> None:
        """Stays the leader: nothing else could be."""


class AdvisoryLeadership(Leadership):
    """Leadership on PostgreSQL: ``pg_try_advisory_lock`` on a connection of its own (not the
    pool's: the lock belongs to the session), held while leader.

    A follower tries every ``retry_seconds``. The leader checks its connection as often; when the
    connection is gone (server restart, network, a terminated backend) the lock is gone with it,
    so leadership is dropped at once (leader-only jobs stop) and sought again on a new
    connection, after :data:`HOLD_OFF_RETRIES` tries of the others: a process whose
    connection just failed is the least likely to keep the lock."""

    def __init__(
        self,
        connect: Connect,
        *,
        key: tuple[int, int] = (LOCK_SPACE, 0),
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        super().__init__()
        self._connect = connect
        self.key = key
        self.retry_seconds = retry_seconds
        self._conn: asyncpg.Connection[Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._lost_at = -float("inf")
        #: Tries and checks so far (for operators and tests).
        self.attempts = 0

    async def start(self) -> None:
        if self._task is None:
            await self._attempt()  # a first answer before the jobs start
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="agora-cluster-leadership"
            )

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._lose("stopping")
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.retry_seconds):
                    await conn.close()
            if not conn.is_closed():
                conn.terminate()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.retry_seconds)
            await self._attempt()

    async def _attempt(self) -> None:
        """One try (follower) or one check (leader); never raises but for cancellation."""
        self.attempts += 1
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation
            # that arrives as the step ends, and `close()` would then wait forever.
            async with asyncio.timeout(max(self.retry_seconds, 1.0)):
                await self._step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # no server, a dead connection, a check that hung
            self._drop_connection(f"{type(exc).__name__}: {exc}")

    async def _step(self) -> None:
        conn = self._conn
        if conn is None or conn.is_closed():
            self._lose("its database connection closed")
            conn = self._conn = await self._connect()
            conn.add_termination_listener(self._terminated)
        if self.is_leader:
            await conn.fetchval("SELECT 1")  # the session, so the lock, is still there
        elif self._held_off():
            return
        elif await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", *self.key):
            self._gain()

    def _held_off(self) -> bool:
        since = asyncio.get_running_loop().time() - self._lost_at
        return since < HOLD_OFF_RETRIES * self.retry_seconds

    def _terminated(self, conn: object) -> None:
        """asyncpg calls this when the connection closes: the lock went with the session."""
        if conn is self._conn:
            self._connection_lost("its database connection closed")

    def _connection_lost(self, why: str) -> None:
        self._lost_at = asyncio.get_running_loop().time()
        self._lose(why)

    def _drop_connection(self, why: str) -> None:
        self._connection_lost(why)
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()


class IdentifyGate:
    """One IDENTIFY per bucket (``shard_id % max_concurrency``) per :data:`IDENTIFY_INTERVAL`
    across every process of the cluster: an advisory lock per bucket on PostgreSQL, taken
    before IDENTIFY and released that long after it (and a local lock per bucket, since a
    session may take its own advisory lock twice)."""

    def __init__(
        self, connect: Connect | None, *, interval: float = IDENTIFY_INTERVAL, poll: float = 0.25
    ) -> None:
        self._connect = connect
        self.interval = interval
        self.poll = poll
        #: From ``GET /gateway/bot`` (``session_start_limit.max_concurrency``).
        self.max_concurrency = 1
        self._conn: asyncpg.Connection[Any] | None = None
        self._conn_lock = asyncio.Lock()
        self._local: dict[int, asyncio.Lock] = {}
        self._releases: set[asyncio.Task[None]] = set()
        #: How many times an IDENTIFY found its bucket taken (by any process) and waited.
        self.waits = 0

    async def before_identify(self, shard_id: int) -> None:
        """Wait for the bucket of ``shard_id``; it is released ``interval`` seconds later."""
        bucket = shard_id % max(self.max_concurrency, 1)
        local = self._local.setdefault(bucket, asyncio.Lock())
        await local.acquire()
        try:
            held = await self._lock_bucket(bucket)
        except BaseException:
            local.release()
            raise
        task = asyncio.get_running_loop().create_task(self._release_later(bucket, local, held))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def _lock_bucket(self, bucket: int) -> bool:
        """True when the cluster-wide lock was taken (False: no database; local spacing only)."""
        if self._connect is None:
            return False
        while True:
            try:
                async with self._conn_lock:
                    if self._conn is None or self._conn.is_closed():
                        self._conn = await self._connect()
                    taken = await self._conn.fetchval(
                        "SELECT pg_try_advisory_lock($1, $2)", IDENTIFY_SPACE, bucket
                    )
            except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                log.warning("cannot coordinate IDENTIFY through the database (%s)", exc)
                return False
            if taken:
                return True
            self.waits += 1
            await asyncio.sleep(self.poll)

    async def _release_later(self, bucket: int, local: asyncio.Lock, held: bool) -> None:
        try:
            await asyncio.sleep(self.interval)
            if held:
                with contextlib.suppress(OSError, TimeoutError, asyncpg.PostgresError):
                    async with self._conn_lock:
                        if self._conn is not None and not self._conn.is_closed():
                            await self._conn.fetchval(
                                "SELECT pg_advisory_unlock($1, $2)", IDENTIFY_SPACE, bucket
                            )
        finally:
            local.release()

    async def close(self) -> None:
        for task in list(self._releases):
            task.cancel()
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()  # the session's locks go with it


@dataclass
class Cluster:
    """This process's place in the cluster (one process alone on SQLite)."""

    shards: Shards = field(default_factory=Shards)
    leadership: Leadership = field(default_factory=SoleLeader)
    #: Marks this process's claims (the outbox's ``claimed_by``): the same after a restart, so a
    #: restarted process takes its own claims back at once (while Discord still knows the
    #: nonces) instead of waiting for their lease. On SQLite one process is the whole cluster;
    #: on PostgreSQL a process is its host and its shards (no two share a shard).
    node_id: str = "local"
    #: The IDENTIFY spacing across processes (PostgreSQL), or None: discord.py's own.
    identify: IdentifyGate | None = None

    async def start(self) -> None:
        await self.leadership.start()

    async def close(self) -> None:
        await self.leadership.close()
        if self.identify is not None:
            await self.identify.close()


def cluster_for(settings: Settings) -> Cluster:
    """The cluster the settings describe: on PostgreSQL, leadership and IDENTIFY spacing
    through advisory locks; on SQLite, one process that leads."""
    shards = Shards.of(settings.agora_shard_count, settings.shard_ids)
    target = settings.agora_database
    if not isinstance(target, PostgresTarget):
        return Cluster(shards)

    async def connect() -> asyncpg.Connection[Any]:
        return await asyncpg.connect(target.url, timeout=CONNECT_TIMEOUT)

    held = "all" if shards.count is None else ",".join(map(str, sorted(shards.ids)))
    node = f"{socket.gethostname()}:shards {held}"
    return Cluster(shards, AdvisoryLeadership(connect), node, IdentifyGate(connect))
