"""Release radar storage, the community's side: subscriptions (which channel follows which
source) and the feature's data hooks (export, forget, purge).

See `bot/migrations/0003_releases.sql` for the tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.database import Reader, Row, Transaction
from bot.releases import SourceState
from bot.releases.errors import SubscriptionLimitReached
from bot.releases.records import FORMER_MEMBER, SourceStatus, Subscription
from bot.repositories import (
    Repository,
    fetch_record,
    fetch_records,
    now,
    record_from_row,
)
from bot.repositories.release_outbox import source_status_from_row

#: The start of every query that reads whole subscriptions (the columns of `Subscription`).
SELECT_SUBSCRIPTIONS = (
    "SELECT s.id, s.guild_id, s.channel_id, s.source_key, s.mention_role, s.filter, "
    "s.baselined, s.created_by, s.created_at, s.blocked FROM release_subscriptions s "
)


def subscription_from_row(row: Row) -> Subscription:
    return record_from_row(Subscription, row, filter_text=str(row["filter"]))


async def _forget_orphan_sources(tx: Transaction, source_keys: list[str]) -> int:
    """Delete the state (and the items seen) of those sources nobody follows any more
    (following one again later starts from a fresh baseline); returns how many."""
    forgotten = 0
    for key in source_keys:
        gone = await tx.execute_rowcount(
            "DELETE FROM release_sources WHERE source_key = ? AND NOT EXISTS "
            "(SELECT 1 FROM release_subscriptions WHERE source_key = ?)",
            (key, key),
        )
        if gone:  # the items it listed go with it (the ledger of a source nobody follows)
            await tx.execute("DELETE FROM release_items WHERE source_key = ?", (key,))
        forgotten += gone
    return forgotten


class SubscriptionRepository(Repository):
    """Which channel of which community follows which source."""

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
                count = await tx.fetch_value(
                    "SELECT count(*) FROM release_subscriptions WHERE guild_id = ?", (guild_id,)
                )
                if int(count or 0) >= limit:
                    raise SubscriptionLimitReached(guild_id, limit)
            await tx.execute(
                "INSERT INTO release_subscriptions (guild_id, channel_id, source_key, "
                "mention_role, filter, baselined, created_by, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (guild_id, channel_id, source_key) DO UPDATE SET "
                "mention_role = excluded.mention_role, filter = excluded.filter, "
                "blocked = NULL, blocked_at = NULL",
                (
                    guild_id,
                    channel_id,
                    source_key,
                    mention_role,
                    filter_text,
                    int(healthy),
                    created_by,
                    now(),
                ),
            )
            row = await tx.fetch_one(
                SELECT_SUBSCRIPTIONS + "WHERE guild_id = ? AND channel_id = ? AND source_key = ?",
                (guild_id, channel_id, source_key),
            )
        assert row is not None
        return subscription_from_row(row), existing is None

    async def for_guild(self, guild_id: int) -> list[tuple[Subscription, SourceStatus | None]]:
        """A community's subscriptions (by source, then channel) with their source's status."""
        rows = await self._db.fetch_all(
            "SELECT "
            "s.id, s.guild_id, s.channel_id, s.source_key, s.mention_role, s.filter, s.baselined, "
            "s.created_by, s.created_at, s.blocked, r.source_key AS r_key, r.state, r.failures, "
            "r.next_attempt_at, r.paused, r.last_error, r.last_success_at "
            "FROM release_subscriptions s "
            "LEFT JOIN release_sources r ON r.source_key = s.source_key "
            "WHERE s.guild_id = ? ORDER BY s.source_key, s.channel_id",
            (guild_id,),
        )
        return [
            (
                subscription_from_row(row),
                source_status_from_row(row) if row["r_key"] is not None else None,
            )
            for row in rows
        ]

    async def for_source(self, source_key: str) -> list[Subscription]:
        """Every subscription to one source, oldest first (the fan-out of a cycle)."""
        return await fetch_records(
            self._db,
            subscription_from_row,
            SELECT_SUBSCRIPTIONS + "WHERE s.source_key = ? ORDER BY s.id",
            (source_key,),
        )

    async def get(self, subscription_id: int) -> Subscription | None:
        """One subscription by id."""
        return await fetch_record(
            self._db,
            subscription_from_row,
            SELECT_SUBSCRIPTIONS + "WHERE s.id = ?",
            (subscription_id,),
        )

    async def guild_source_keys(self, guild_id: int, contains: str, limit: int = 25) -> list[str]:
        """Distinct sources a community follows whose key contains `contains` (autocomplete)."""
        pattern = "%" + contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await self._db.fetch_all(
            "SELECT DISTINCT source_key FROM release_subscriptions "
            "WHERE guild_id = ? AND lower(source_key) LIKE lower(?) ESCAPE '\\' ORDER BY source_key LIMIT ?",
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
            await _forget_orphan_sources(tx, [source_key])
        return removed

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


class ReleaseData:
    """The release radar's data hooks (:class:`bot.features.DataHooks`), run by the core's
    lifecycle inside its one transaction.

    A subscription is the community's, not its creator's: forgetting a member keeps it and
    replaces the member's id by :data:`FORMER_MEMBER`. Deliveries, the ledger (items seen,
    items filtered out) and source states name no member.
    """

    async def export_member(self, db: Reader, guild_id: int, member_id: int) -> dict[str, Any]:
        """The subscriptions the member created in the community (ids as strings, times as
        ISO 8601 UTC, like every export)."""
        rows = await db.fetch_all(
            "SELECT source_key, channel_id, filter, mention_role, created_at "
            "FROM release_subscriptions WHERE guild_id = ? AND created_by = ? ORDER BY id",
            (guild_id, member_id),
        )
        return {
            "release_subscriptions": [
                {
                    "source": str(row["source_key"]),
                    "channel_id": str(row["channel_id"]),
                    "filter": str(row["filter"]),
                    "mention_role": None
                    if row["mention_role"] is None
                    else str(row["mention_role"]),
                    "created_at": datetime.fromtimestamp(float(row["created_at"]), UTC)
                    .isoformat()
                    .replace("+00:00", "Z"),
                }
                for row in rows
            ]
        }

    async def forget_member(self, tx: Transaction, guild_id: int, member_id: int) -> int:
        """Unlink the member from the subscriptions they created (the subscriptions stay)."""
        if member_id == FORMER_MEMBER:
            return 0
        return await tx.execute_rowcount(
            "UPDATE release_subscriptions SET created_by = ? WHERE guild_id = ? AND created_by = ?",
            (FORMER_MEMBER, guild_id, member_id),
        )

    async def purge_community(self, tx: Transaction, guild_id: int) -> int:
        """Delete the community's deliveries and ledger rows (items its filters left out),
        then its subscriptions, then the state and the seen items of the sources only it
        followed; returns the rows deleted."""
        keys = [
            str(row["source_key"])
            for row in await tx.fetch_all(
                "SELECT DISTINCT source_key FROM release_subscriptions WHERE guild_id = ?",
                (guild_id,),
            )
        ]
        deleted = 0
        for table in ("release_deliveries", "release_skips"):
            deleted += await tx.execute_rowcount(
                f"DELETE FROM {table} WHERE subscription_id IN "  # noqa: S608 (a fixed name)
                "(SELECT id FROM release_subscriptions WHERE guild_id = ?)",
                (guild_id,),
            )
        deleted += await tx.execute_rowcount(
            "DELETE FROM release_subscriptions WHERE guild_id = ?", (guild_id,)
        )
        return deleted + await _forget_orphan_sources(tx, keys)
