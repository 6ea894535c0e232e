"""Release radar storage, the radar's side: per-source polling state and the delivery outbox.

See `bot/migrations/0003_releases.sql` for how the tables give exactly-once announcements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from bot.community import GuildSettings
from bot.database import Row
from bot.releases import ReleaseItem, SourceState, announcement_nonce
from bot.releases.records import Delivery, PendingDelivery, SourceStatus
from bot.repositories import (
    Repository,
    fetch_record,
    fetch_records,
    now,
    record_from_row,
)

#: The start of every query that reads whole deliveries: the columns `delivery_from_row` reads.
_SELECT_DELIVERIES = (
    "SELECT "
    "d.id, d.subscription_id, d.item_id, d.nonce, d.title, d.url, d.status, d.message_id, "
    "d.posted_at, s.guild_id, s.channel_id, s.source_key FROM release_deliveries d "
    "JOIN release_subscriptions s ON s.id = d.subscription_id "
)

#: The start of the queries that read queued announcements with what posting them needs.
_SELECT_PENDING = (
    "SELECT d.id, d.subscription_id, d.item_id, d.nonce, d.item, d.title, d.url, "
    "d.attempts, s.guild_id, s.channel_id, s.mention_role, s.source_key, s.blocked, "
    "g.settings FROM release_deliveries d "
    "JOIN release_subscriptions s ON s.id = d.subscription_id "
    "LEFT JOIN guilds g ON g.guild_id = s.guild_id "
)


def source_status_from_row(row: Row) -> SourceStatus:
    raw = row["state"]
    return record_from_row(
        SourceStatus,
        row,
        state=SourceState.from_json(raw) if raw else None,
        failures=int(row["failures"] or 0),
        next_attempt_at=float(row["next_attempt_at"] or 0),
    )


def delivery_from_row(row: Row) -> Delivery:
    return record_from_row(Delivery, row)


@lru_cache(maxsize=256)
def _item_from_json(raw: str) -> ReleaseItem | None:
    """A queued item, parsed once however many subscriptions it goes to (the rows of one
    item carry the same JSON; `ReleaseItem` is frozen, so sharing it is safe)."""
    try:
        return ReleaseItem.model_validate_json(raw)
    except ValueError:
        return None


@lru_cache(maxsize=64)
def _announce_threads(raw: str | None) -> bool:
    """The community's `announce_threads` from its stored settings (most communities store
    the same JSON: parsed once)."""
    return GuildSettings.model_validate_json(raw).announce_threads if raw else False


def _pending_from_row(row: Row) -> PendingDelivery:
    item = _item_from_json(row["item"]) if row["item"] else None
    threads = _announce_threads(row["settings"])
    return record_from_row(PendingDelivery, row, item=item, announce_threads=threads)


class OutboxRepository(Repository):
    """What the radar cycle stores: each source's state and the announcements it queues."""

    # -- sources --------------------------------------------------------------------------

    async def source_status(self, source_key: str) -> SourceStatus | None:
        """The polling state of one source, if anyone follows it."""
        return await fetch_record(
            self._db,
            source_status_from_row,
            "SELECT * FROM release_sources WHERE source_key = ?",
            (source_key,),
        )

    async def due_sources(self, now: float, *, ignore_backoff: bool = False) -> list[SourceStatus]:
        """Followed, unpaused sources whose next attempt is due (every unpaused one with
        `ignore_backoff`), each once however many subscriptions it has."""
        return await fetch_records(
            self._db,
            source_status_from_row,
            "SELECT r.* FROM release_sources r "
            "WHERE r.paused = 0 AND (? = 1 OR r.next_attempt_at <= ?) AND EXISTS "
            "(SELECT 1 FROM release_subscriptions s WHERE s.source_key = r.source_key) "
            "ORDER BY r.source_key",
            (int(ignore_backoff), now),
        )

    async def record_success(
        self,
        source_key: str,
        state: SourceState,
        *,
        next_attempt_at: float,
        announce: Sequence[tuple[int, ReleaseItem]],
        baselined: Iterable[int],
        listed: Sequence[ReleaseItem] = (),
        skipped: Sequence[tuple[int, str, str]] = (),
    ) -> int:
        """Store a successful fetch atomically: the source's new state, one pending delivery
        per `(subscription_id, item)` in `announce` (in order: oldest item first), and the
        subscriptions in `baselined` marked as baselined. Returns how many were queued.
        For the ledger: the items `listed` (new, or the whole baseline) are remembered with
        when they were first seen, and each `(subscription_id, item_id, rule)` of `skipped`
        (left out by the subscription's filter).

        An item already queued or delivered to a subscription is skipped (UNIQUE).
        """
        moment = now()
        queued = 0
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE release_sources SET state = ?, failures = 0, next_attempt_at = ?, "
                "last_error = NULL, last_success_at = ? WHERE source_key = ?",
                (state.to_json(), next_attempt_at, moment, source_key),
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
                        moment,
                        subscription_id,
                    ),
                )
            await tx.executemany(
                "UPDATE release_subscriptions SET baselined = 1 WHERE id = ?",
                [(subscription_id,) for subscription_id in baselined],
            )
            await tx.executemany(
                "INSERT INTO release_items (source_key, item_id, title, url, seen_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source_key, item_id) DO NOTHING",
                [(source_key, i.item_id, i.safe_title, i.url, moment) for i in listed],
            )
            await tx.executemany(
                "INSERT INTO release_skips (subscription_id, item_id, rule, at) "
                "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM release_subscriptions WHERE id = ?) "
                "ON CONFLICT (subscription_id, item_id) DO NOTHING",
                [(sub, item_id, rule, moment, sub) for sub, item_id, rule in skipped],
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
                "WHERE source_key = ? AND paused = 0 AND ? = 1",
                (source_key, int(pause)),
            )
            await tx.execute(
                "UPDATE release_sources SET failures = ?, next_attempt_at = ?, last_error = ? "
                "WHERE source_key = ?",
                (failures, next_attempt_at, error[:500], source_key),
            )
        return changed > 0

    async def notices_pending(self) -> list[SourceStatus]:
        """Paused sources whose pause notice has not been sent yet."""
        return await fetch_records(
            self._db,
            source_status_from_row,
            "SELECT * FROM release_sources WHERE notice_pending = 1 AND paused = 1 "
            "ORDER BY source_key",
        )

    async def notice_sent(self, source_key: str) -> None:
        """Record that a source's pause notice went to every channel following it."""
        await self._db.execute(
            "UPDATE release_sources SET notice_pending = 0 WHERE source_key = ?", (source_key,)
        )

    # -- deliveries -----------------------------------------------------------------------

    async def pending(self, after_id: int = 0, limit: int = 200) -> list[PendingDelivery]:
        """Queued announcements with an id above `after_id`, in queue order (oldest item
        first), with what posting them needs (the community's `announce_threads` included)."""
        return await fetch_records(
            self._db,
            _pending_from_row,
            _SELECT_PENDING + "WHERE d.status = 'pending' AND d.id > ? ORDER BY d.id LIMIT ?",
            (after_id, limit),
        )

    async def claim(
        self, claimer: str, *, lease_seconds: float, after_id: int = 0, limit: int = 200
    ) -> list[PendingDelivery]:
        """Claim the next queued announcements (ids above `after_id`, in queue order) for
        `claimer` for `lease_seconds`, and return them as `pending` does.

        The claim is committed before this returns, so the rows are marked before anything is
        posted. Rows another claimer holds are left out until their lease lapses (a claimer
        that died); the claimer's own are taken again at once (a retry, a restart on SQLite).
        On PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`: two processes claiming at
        the same moment never get the same row (see migration 0010)."""
        moment = now()
        async with self._db.transaction() as tx:
            claimed = await tx.fetch_all(
                # The one engine difference (a fixed clause) from the dialect; values are `?`.
                "UPDATE release_deliveries SET claimed_by = ?, claimed_until = ? WHERE id IN "  # noqa: S608
                "(SELECT id FROM release_deliveries WHERE status = 'pending' AND id > ? "
                "AND (claimed_until IS NULL OR claimed_until <= ? OR claimed_by = ?) "
                "ORDER BY id LIMIT ?" + self._db.dialect.skip_locked + ") RETURNING id",
                (claimer, moment + lease_seconds, after_id, moment, claimer, limit),
            )
            if not claimed:
                return []
            ids = [int(row[0]) for row in claimed]
            # Every pending row in that id range claimed by `claimer` is one just claimed.
            return await fetch_records(
                tx,
                _pending_from_row,
                _SELECT_PENDING + "WHERE d.id BETWEEN ? AND ? AND d.status = 'pending' "
                "AND d.claimed_by = ? ORDER BY d.id",
                (min(ids), max(ids), claimer),
            )

    async def mark_posted(
        self, posted: Sequence[tuple[int, int, bool]], *, unblock: Iterable[int] = ()
    ) -> None:
        """Record queued announcements as posted, in one transaction: each
        `(delivery_id, message_id, thread_pending)` (with `thread_pending`, a thread is still
        to be opened under it: see `threads_pending`); the subscriptions in `unblock` posted
        again, so they are no longer marked blocked."""
        moment = now()
        async with self._db.transaction() as tx:
            await tx.executemany(
                "UPDATE release_deliveries SET status = 'posted', message_id = ?, posted_at = ?, "
                "item = NULL, last_error = NULL, thread_pending = ? "
                "WHERE id = ? AND status = 'pending'",
                [(message, moment, int(thread), delivery) for delivery, message, thread in posted],
            )
            await tx.executemany(
                "UPDATE release_subscriptions SET blocked = NULL, blocked_at = NULL WHERE id = ?",
                [(subscription_id,) for subscription_id in unblock],
            )

    async def block(self, subscription_id: int, reason: str) -> bool:
        """Mark a subscription whose channel refused a post, with the reason; True when it was
        not marked before (its one notice is then due)."""
        async with self._db.transaction() as tx:
            changed = await tx.execute_rowcount(
                "UPDATE release_subscriptions SET blocked = ?, blocked_at = ? "
                "WHERE id = ? AND blocked IS NULL",
                (reason, now(), subscription_id),
            )
        return changed > 0

    async def threads_pending(self, limit: int = 100) -> list[Delivery]:
        """Posted announcements still waiting for their thread, oldest first."""
        return await fetch_records(
            self._db,
            delivery_from_row,
            _SELECT_DELIVERIES + "WHERE d.thread_pending = 1 ORDER BY d.id LIMIT ?",
            (limit,),
        )

    async def thread_done(self, delivery_id: int) -> None:
        """Record that an announcement's thread exists (or will never be made)."""
        await self._db.execute(
            "UPDATE release_deliveries SET thread_pending = 0 WHERE id = ?", (delivery_id,)
        )

    async def mark_attempt_failed(self, delivery_id: int, *, give_up: bool, error: str) -> None:
        """Count a failed post and its error; with `give_up` the announcement leaves the
        queue for good (the error is then the reason)."""
        await self._db.execute(
            "UPDATE release_deliveries SET attempts = attempts + 1, last_error = ?, "
            "status = CASE WHEN ? = 1 THEN 'failed' ELSE status END, "
            "item = CASE WHEN ? = 1 THEN NULL ELSE item END "
            "WHERE id = ? AND status = 'pending'",
            (error[:300], int(give_up), int(give_up), delivery_id),
        )

    async def delivery(self, delivery_id: int) -> Delivery | None:
        """One delivery with its subscription's guild and channel (for the buttons)."""
        return await fetch_record(
            self._db,
            delivery_from_row,
            _SELECT_DELIVERIES + "WHERE d.id = ?",
            (delivery_id,),
        )

    async def latest_for_guild(self, guild_id: int, count: int) -> list[Delivery]:
        """A community's last `count` posted announcements, newest first."""
        return await fetch_records(
            self._db,
            delivery_from_row,
            _SELECT_DELIVERIES + "WHERE s.guild_id = ? AND d.status = 'posted' "
            "ORDER BY d.posted_at DESC, d.id DESC LIMIT ?",
            (guild_id, count),
        )

    async def for_subscription(self, subscription_id: int) -> list[Delivery]:
        """Every delivery of one subscription, in queue order (tests, diagnostics)."""
        return await fetch_records(
            self._db,
            delivery_from_row,
            _SELECT_DELIVERIES + "WHERE d.subscription_id = ? ORDER BY d.id",
            (subscription_id,),
        )
