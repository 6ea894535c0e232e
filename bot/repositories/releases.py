"""Release radar storage: subscriptions, per-source state and the delivery outbox.

See `bot/migrations/0003_releases.sql` for how the tables give exactly-once announcements.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.database import Database
from bot.releases import ReleaseItem, SourceState, announcement_nonce


def _now() -> float:
    return datetime.now(UTC).timestamp()


@dataclass(frozen=True, slots=True)
class Subscription:
    """One channel following one source in one community."""

    id: int
    guild_id: int
    channel_id: int
    source_key: str
    mention_role: int | None
    filter_text: str
    baselined: bool
    created_by: int
    created_at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Subscription:
        return cls(
            id=int(row["id"]),
            guild_id=int(row["guild_id"]),
            channel_id=int(row["channel_id"]),
            source_key=str(row["source_key"]),
            mention_role=None if row["mention_role"] is None else int(row["mention_role"]),
            filter_text=str(row["filter"]),
            baselined=bool(row["baselined"]),
            created_by=int(row["created_by"]),
            created_at=float(row["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """The polling state of one source (a row of `release_sources`)."""

    source_key: str
    state: SourceState | None
    failures: int
    next_attempt_at: float
    paused: bool
    last_error: str | None
    last_success_at: float | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> SourceStatus:
        raw = row["state"]
        return cls(
            source_key=str(row["source_key"]),
            state=SourceState.from_json(raw) if raw else None,
            failures=int(row["failures"] or 0),
            next_attempt_at=float(row["next_attempt_at"] or 0),
            paused=bool(row["paused"]),
            last_error=row["last_error"],
            last_success_at=None
            if row["last_success_at"] is None
            else float(row["last_success_at"]),
        )


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """A queued announcement (the outbox), with where it goes."""

    id: int
    subscription_id: int
    item_id: str
    nonce: str
    item: ReleaseItem | None
    title: str
    url: str | None
    attempts: int
    guild_id: int
    channel_id: int
    mention_role: int | None
    source_key: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """A posted (or failed) announcement."""

    id: int
    subscription_id: int
    item_id: str
    nonce: str
    title: str
    url: str | None
    status: str
    message_id: int | None
    posted_at: float | None
    guild_id: int
    channel_id: int
    source_key: str


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        id=int(row["id"]),
        subscription_id=int(row["subscription_id"]),
        item_id=str(row["item_id"]),
        nonce=str(row["nonce"]),
        title=str(row["title"]),
        url=row["url"],
        status=str(row["status"]),
        message_id=None if row["message_id"] is None else int(row["message_id"]),
        posted_at=None if row["posted_at"] is None else float(row["posted_at"]),
        guild_id=int(row["guild_id"]),
        channel_id=int(row["channel_id"]),
        source_key=str(row["source_key"]),
    )


class SubscriptionLimitReached(Exception):
    """`follow` would create a subscription beyond the community's limit."""


class ReleaseRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- subscriptions --------------------------------------------------------------------

    async def follow(
        self,
        guild_id: int,
        channel_id: int,
        source_key: str,
        *,
        mention_role: int | None,
        filter_text: str,
        created_by: int,
        limit: int | None = None,
    ) -> tuple[Subscription, bool]:
        """Create (or update the role and filter of) a subscription; returns it and whether
        it is new. Creating one when the community already has `limit` subscriptions raises
        `SubscriptionLimitReached` (checked in the same transaction); updating never does.

        A new subscription is baselined at once when its source already has a healthy
        baseline (what exists is then in the source's seen ids and is never announced);
        otherwise the next successful fetch is its baseline.
        """
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO release_sources (source_key) VALUES (?) "
                "ON CONFLICT (source_key) DO NOTHING",
                (source_key,),
            )
            source = await tx.fetch_one(
                "SELECT state, failures, paused FROM release_sources WHERE source_key = ?",
                (source_key,),
            )
            healthy = (
                source is not None
                and not source["paused"]
                and not source["failures"]
                and SourceState.from_json(source["state"]).baselined
            )
            existing = await tx.fetch_one(
                "SELECT id FROM release_subscriptions "
                "WHERE guild_id = ? AND channel_id = ? AND source_key = ?",
                (guild_id, channel_id, source_key),
            )
            if existing is None and limit is not None:
                count = await tx.fetch_one(
                    "SELECT count(*) AS n FROM release_subscriptions WHERE guild_id = ?",
                    (guild_id,),
                )
                if count is not None and int(count["n"]) >= limit:
                    raise SubscriptionLimitReached(guild_id)
            await tx.execute(
                "INSERT INTO release_subscriptions (guild_id, channel_id, source_key, "
                "mention_role, filter, baselined, created_by, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (guild_id, channel_id, source_key) DO UPDATE SET "
                "mention_role = excluded.mention_role, filter = excluded.filter",
                (
                    guild_id,
                    channel_id,
                    source_key,
                    mention_role,
                    filter_text,
                    int(healthy),
                    created_by,
                    _now(),
                ),
            )
            row = await tx.fetch_one(
                "SELECT "
                "s.id, s.guild_id, s.channel_id, s.source_key, s.mention_role, s.filter, s.baselined, "
                "s.created_by, s.created_at FROM release_subscriptions s "
                "WHERE guild_id = ? AND channel_id = ? AND source_key = ?",
                (guild_id, channel_id, source_key),
            )
        assert row is not None
        return Subscription.from_row(row), existing is None

    async def for_guild(self, guild_id: int) -> list[tuple[Subscription, SourceStatus | None]]:
        """A community's subscriptions (by source, then channel) with their source's status."""
        rows = await self._db.fetch_all(
            "SELECT "
            "s.id, s.guild_id, s.channel_id, s.source_key, s.mention_role, s.filter, s.baselined, "
            "s.created_by, s.created_at, r.source_key AS r_key, r.state, r.failures, "
            "r.next_attempt_at, r.paused, r.last_error, r.last_success_at "
            "FROM release_subscriptions s "
            "LEFT JOIN release_sources r ON r.source_key = s.source_key "
            "WHERE s.guild_id = ? ORDER BY s.source_key, s.channel_id",
            (guild_id,),
        )
        out: list[tuple[Subscription, SourceStatus | None]] = []
        for row in rows:
            status = SourceStatus.from_row(row) if row["r_key"] is not None else None
            out.append((Subscription.from_row(row), status))
        return out

    async def for_source(self, source_key: str) -> list[Subscription]:
        """Every subscription to one source, oldest first (the fan-out of a cycle)."""
        rows = await self._db.fetch_all(
            "SELECT "
            "s.id, s.guild_id, s.channel_id, s.source_key, s.mention_role, s.filter, s.baselined, "
            "s.created_by, s.created_at FROM release_subscriptions s "
            "WHERE s.source_key = ? ORDER BY s.id",
            (source_key,),
        )
        return [Subscription.from_row(row) for row in rows]

    async def get(self, subscription_id: int) -> Subscription | None:
        """One subscription by id."""
        row = await self._db.fetch_one(
            "SELECT "
            "s.id, s.guild_id, s.channel_id, s.source_key, s.mention_role, s.filter, s.baselined, "
            "s.created_by, s.created_at FROM release_subscriptions s WHERE s.id = ?",
            (subscription_id,),
        )
        return Subscription.from_row(row) if row else None

    async def guild_source_keys(self, guild_id: int, contains: str, limit: int = 25) -> list[str]:
        """Distinct sources a community follows whose key contains `contains` (autocomplete)."""
        pattern = "%" + contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await self._db.fetch_all(
            "SELECT DISTINCT source_key FROM release_subscriptions "
            "WHERE guild_id = ? AND source_key LIKE ? ESCAPE '\\' ORDER BY source_key LIMIT ?",
            (guild_id, pattern, limit),
        )
        return [str(row["source_key"]) for row in rows]

    async def unfollow(self, guild_id: int, source_key: str, channel_id: int | None) -> int:
        """Delete a community's subscriptions to a source (in one channel, or all); returns
        how many. Their deliveries go with them; a source nobody follows any more loses its
        state, so following it again later starts from a fresh baseline."""
        async with self._db.transaction() as tx:
            if channel_id is None:
                removed = await tx.execute_rowcount(
                    "DELETE FROM release_subscriptions WHERE guild_id = ? AND source_key = ?",
                    (guild_id, source_key),
                )
            else:
                removed = await tx.execute_rowcount(
                    "DELETE FROM release_subscriptions "
                    "WHERE guild_id = ? AND source_key = ? AND channel_id = ?",
                    (guild_id, source_key, channel_id),
                )
            await tx.execute(
                "DELETE FROM release_sources WHERE source_key = ? AND NOT EXISTS "
                "(SELECT 1 FROM release_subscriptions WHERE source_key = ?)",
                (source_key, source_key),
            )
        return removed

    # -- sources --------------------------------------------------------------------------

    async def source_status(self, source_key: str) -> SourceStatus | None:
        """The polling state of one source, if anyone follows it."""
        row = await self._db.fetch_one(
            "SELECT * FROM release_sources WHERE source_key = ?", (source_key,)
        )
        return SourceStatus.from_row(row) if row else None

    async def due_sources(self, now: float, *, ignore_backoff: bool = False) -> list[SourceStatus]:
        """Followed, unpaused sources whose next attempt is due (every unpaused one with
        `ignore_backoff`), each once however many subscriptions it has."""
        rows = await self._db.fetch_all(
            "SELECT r.* FROM release_sources r "
            "WHERE r.paused = 0 AND (? OR r.next_attempt_at <= ?) AND EXISTS "
            "(SELECT 1 FROM release_subscriptions s WHERE s.source_key = r.source_key) "
            "ORDER BY r.source_key",
            (int(ignore_backoff), now),
        )
        return [SourceStatus.from_row(row) for row in rows]

    async def record_success(
        self,
        source_key: str,
        state: SourceState,
        *,
        next_attempt_at: float,
        announce: Sequence[tuple[int, ReleaseItem]],
        baselined: Iterable[int],
    ) -> int:
        """Store a successful fetch atomically: the source's new state, one pending delivery
        per `(subscription_id, item)` in `announce` (in order: oldest item first), and the
        subscriptions in `baselined` marked as baselined. Returns how many were queued.

        An item already queued or delivered to a subscription is skipped (UNIQUE).
        """
        now = _now()
        queued = 0
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE release_sources SET state = ?, failures = 0, next_attempt_at = ?, "
                "last_error = NULL, last_success_at = ? WHERE source_key = ?",
                (state.to_json(), next_attempt_at, now, source_key),
            )
            for subscription_id, item in announce:
                queued += await tx.execute_rowcount(
                    "INSERT INTO release_deliveries "
                    "(subscription_id, item_id, nonce, item, title, url, queued_at) "
                    "SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS "
                    "(SELECT 1 FROM release_subscriptions WHERE id = ?) "
                    "ON CONFLICT (subscription_id, item_id) DO NOTHING",
                    (
                        subscription_id,
                        item.item_id,
                        announcement_nonce(subscription_id, item.item_id),
                        item.model_dump_json(),
                        item.safe_title,
                        item.url,
                        now,
                        subscription_id,
                    ),
                )
            await tx.executemany(
                "UPDATE release_subscriptions SET baselined = 1 WHERE id = ?",
                [(subscription_id,) for subscription_id in baselined],
            )
        return queued

    async def record_failure(
        self,
        source_key: str,
        *,
        failures: int,
        next_attempt_at: float,
        pause: bool,
        error: str,
    ) -> bool:
        """Store a failed fetch (counter, backoff, error); pause the source when `pause`.
        Returns True when this call paused it (it was not paused before); its pause notice
        is then pending (see `notices_pending`) in the same transaction."""
        async with self._db.transaction() as tx:
            changed = await tx.execute_rowcount(
                "UPDATE release_sources SET paused = 1, notice_pending = 1 "
                "WHERE source_key = ? AND paused = 0 AND ?",
                (source_key, int(pause)),
            )
            await tx.execute(
                "UPDATE release_sources SET failures = ?, next_attempt_at = ?, last_error = ? "
                "WHERE source_key = ?",
                (failures, next_attempt_at, error[:500], source_key),
            )
        return changed > 0

    async def resume(self, guild_id: int, source_key: str) -> bool:
        """Unpause a source the community follows and poll it at the next cycle; returns
        False when the community does not follow it."""
        async with self._db.transaction() as tx:
            follows = await tx.fetch_one(
                "SELECT 1 FROM release_subscriptions WHERE guild_id = ? AND source_key = ?",
                (guild_id, source_key),
            )
            if follows is None:
                return False
            await tx.execute(
                "UPDATE release_sources SET paused = 0, failures = 0, next_attempt_at = 0, "
                "notice_pending = 0 WHERE source_key = ?",
                (source_key,),
            )
        return True

    async def notices_pending(self) -> list[SourceStatus]:
        """Paused sources whose pause notice has not been sent yet."""
        rows = await self._db.fetch_all(
            "SELECT * FROM release_sources WHERE notice_pending = 1 AND paused = 1 "
            "ORDER BY source_key"
        )
        return [SourceStatus.from_row(row) for row in rows]

    async def notice_sent(self, source_key: str) -> None:
        """Record that a source's pause notice went to every channel following it."""
        await self._db.execute(
            "UPDATE release_sources SET notice_pending = 0 WHERE source_key = ?", (source_key,)
        )

    # -- deliveries -----------------------------------------------------------------------

    async def pending(self, after_id: int = 0, limit: int = 200) -> list[PendingDelivery]:
        """Queued announcements with an id above `after_id`, in queue order (oldest item
        first)."""
        rows = await self._db.fetch_all(
            "SELECT d.id, d.subscription_id, d.item_id, d.nonce, d.item, d.title, d.url, "
            "d.attempts, s.guild_id, s.channel_id, s.mention_role, s.source_key "
            "FROM release_deliveries d JOIN release_subscriptions s ON s.id = d.subscription_id "
            "WHERE d.status = 'pending' AND d.id > ? ORDER BY d.id LIMIT ?",
            (after_id, limit),
        )
        out = []
        for row in rows:
            item: ReleaseItem | None = None
            if row["item"]:
                try:
                    item = ReleaseItem.model_validate_json(row["item"])
                except ValueError:
                    item = None
            out.append(
                PendingDelivery(
                    id=int(row["id"]),
                    subscription_id=int(row["subscription_id"]),
                    item_id=str(row["item_id"]),
                    nonce=str(row["nonce"]),
                    item=item,
                    title=str(row["title"]),
                    url=row["url"],
                    attempts=int(row["attempts"]),
                    guild_id=int(row["guild_id"]),
                    channel_id=int(row["channel_id"]),
                    mention_role=None if row["mention_role"] is None else int(row["mention_role"]),
                    source_key=str(row["source_key"]),
                )
            )
        return out

    async def mark_posted(
        self, delivery_id: int, message_id: int, *, thread_pending: bool = False
    ) -> None:
        """Record that a queued announcement was posted as `message_id`; with
        `thread_pending`, a thread is still to be opened under it (see `threads_pending`)."""
        await self._db.execute(
            "UPDATE release_deliveries SET status = 'posted', message_id = ?, posted_at = ?, "
            "item = NULL, thread_pending = ? WHERE id = ? AND status = 'pending'",
            (message_id, _now(), int(thread_pending), delivery_id),
        )

    async def threads_pending(self, limit: int = 100) -> list[Delivery]:
        """Posted announcements still waiting for their thread, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT "
            "d.id, d.subscription_id, d.item_id, d.nonce, d.title, d.url, d.status, d.message_id, "
            "d.posted_at, s.guild_id, s.channel_id, s.source_key FROM release_deliveries d "
            "JOIN release_subscriptions s ON s.id = d.subscription_id "
            "WHERE d.thread_pending = 1 ORDER BY d.id LIMIT ?",
            (limit,),
        )
        return [_delivery(row) for row in rows]

    async def thread_done(self, delivery_id: int) -> None:
        """Record that an announcement's thread exists (or will never be made)."""
        await self._db.execute(
            "UPDATE release_deliveries SET thread_pending = 0 WHERE id = ?", (delivery_id,)
        )

    async def mark_attempt_failed(self, delivery_id: int, *, give_up: bool) -> None:
        """Count a failed post; with `give_up` the announcement leaves the queue for good."""
        await self._db.execute(
            "UPDATE release_deliveries SET attempts = attempts + 1, "
            "status = CASE WHEN ? THEN 'failed' ELSE status END, "
            "item = CASE WHEN ? THEN NULL ELSE item END "
            "WHERE id = ? AND status = 'pending'",
            (int(give_up), int(give_up), delivery_id),
        )

    async def delivery(self, delivery_id: int) -> Delivery | None:
        """One delivery with its subscription's guild and channel (for the buttons)."""
        row = await self._db.fetch_one(
            "SELECT "
            "d.id, d.subscription_id, d.item_id, d.nonce, d.title, d.url, d.status, d.message_id, "
            "d.posted_at, s.guild_id, s.channel_id, s.source_key FROM release_deliveries d "
            "JOIN release_subscriptions s ON s.id = d.subscription_id WHERE d.id = ?",
            (delivery_id,),
        )
        return _delivery(row) if row else None

    async def latest_for_guild(self, guild_id: int, count: int) -> list[Delivery]:
        """A community's last `count` posted announcements, newest first."""
        rows = await self._db.fetch_all(
            "SELECT "
            "d.id, d.subscription_id, d.item_id, d.nonce, d.title, d.url, d.status, d.message_id, "
            "d.posted_at, s.guild_id, s.channel_id, s.source_key FROM release_deliveries d "
            "JOIN release_subscriptions s ON s.id = d.subscription_id "
            "WHERE s.guild_id = ? AND d.status = 'posted' "
            "ORDER BY d.posted_at DESC, d.id DESC LIMIT ?",
            (guild_id, count),
        )
        return [_delivery(row) for row in rows]

    async def for_subscription(self, subscription_id: int) -> list[Delivery]:
        """Every delivery of one subscription, in queue order (tests, diagnostics)."""
        rows = await self._db.fetch_all(
            "SELECT "
            "d.id, d.subscription_id, d.item_id, d.nonce, d.title, d.url, d.status, d.message_id, "
            "d.posted_at, s.guild_id, s.channel_id, s.source_key FROM release_deliveries d "
            "JOIN release_subscriptions s ON s.id = d.subscription_id "
            "WHERE d.subscription_id = ? ORDER BY d.id",
            (subscription_id,),
        )
        return [_delivery(row) for row in rows]
