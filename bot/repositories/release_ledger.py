"""Release radar storage, the ledger's side: what happened to an item in each subscription.

Reads `release_deliveries` (announced, pending, failed), `release_skips` (filtered out) and
`release_items` (seen, and when); see `bot/migrations/0008_release_ledger.sql`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.database import Row
from bot.releases.ledger import LedgerEntry, Outcome
from bot.releases.records import DeliveryStatus, SourceStatus, Subscription
from bot.repositories import Repository

#: How an item is named: its id, its link, the end of its id (a GitHub tag: `v1.2`), its title.
#: Its placeholders: the text three times, then the text escaped for LIKE (`_match_params`).
_MATCHES = (
    "(lower(item_id) = lower(?) OR url = ? OR lower(title) = lower(?) "
    "OR lower(item_id) LIKE '%/' || lower(?) ESCAPE '\\')"
)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _match_params(text: str) -> tuple[str, ...]:
    return (text, text, text, _like(text))


def _marks(count: int) -> str:
    return ",".join("?" * count)


def _delivery_entry(subscription: Subscription, row: Row) -> LedgerEntry:
    status = DeliveryStatus(row["status"])
    outcome = {
        DeliveryStatus.POSTED: Outcome.ANNOUNCED,
        DeliveryStatus.PENDING: Outcome.PENDING,
        DeliveryStatus.FAILED: Outcome.FAILED,
    }[status]
    return LedgerEntry(
        subscription,
        outcome,
        str(row["item_id"]),
        title=str(row["title"]),
        at=float(row["posted_at"] or row["queued_at"]),
        detail=row["last_error"],
        attempts=int(row["attempts"]),
        message_id=row["message_id"],
    )


class LedgerRepository(Repository):
    """Answers "what happened to this item?" for a set of subscriptions; expires old rows."""

    async def entries(
        self, subscriptions: Sequence[tuple[Subscription, SourceStatus | None]], text: str
    ) -> list[LedgerEntry]:
        """One entry per subscription the item concerns (`text` is its id, link, tag or
        title): announced, pending or failed (its delivery), filtered (the rule), listed
        before the subscription's baseline, or, when no followed source ever listed it,
        paused (the source could not be fetched) or unseen (with the source's status)."""
        if not subscriptions:
            return []
        text = text.strip()
        keys = sorted({s.source_key for s, _ in subscriptions})
        ids = [s.id for s, _ in subscriptions]
        items = await self._db.fetch_all(
            f"SELECT source_key, item_id, title, seen_at FROM release_items "  # noqa: S608
            f"WHERE source_key IN ({_marks(len(keys))}) AND {_MATCHES}",
            (*keys, *_match_params(text)),
        )
        deliveries = await self._db.fetch_all(
            "SELECT subscription_id, item_id, title, status, attempts, last_error, message_id, "  # noqa: S608
            "posted_at, queued_at FROM release_deliveries WHERE subscription_id IN "
            f"({_marks(len(ids))}) AND {_MATCHES} ORDER BY id",
            (*ids, *_match_params(text)),
        )
        item_ids = sorted(
            {str(r["item_id"]) for r in items} | {str(r["item_id"]) for r in deliveries}
        )
        skips = (
            await self._db.fetch_all(
                "SELECT subscription_id, item_id, rule, at FROM release_skips "  # noqa: S608
                f"WHERE subscription_id IN ({_marks(len(ids))}) "
                f"AND item_id IN ({_marks(len(item_ids))})",
                (*ids, *item_ids),
            )
            if item_ids
            else []
        )
        by_delivery = {int(r["subscription_id"]): r for r in deliveries}
        by_skip = {int(r["subscription_id"]): r for r in skips}
        seen = {str(r["source_key"]): r for r in items}
        entries = []
        for subscription, status in subscriptions:
            delivery = by_delivery.get(subscription.id)
            skip = by_skip.get(subscription.id)
            item = seen.get(subscription.source_key)
            if delivery is not None:
                entries.append(_delivery_entry(subscription, delivery))
            elif skip is not None:
                rule, at = str(skip["rule"]), float(skip["at"])
                filtered = LedgerEntry(subscription, Outcome.FILTERED, text, at=at, detail=rule)
                entries.append(filtered)
            elif item is not None:
                title, at = str(item["title"]), float(item["seen_at"])
                listed = LedgerEntry(subscription, Outcome.BASELINE, text, title=title, at=at)
                entries.append(listed)
            elif not item_ids:  # no followed source ever listed it
                outcome = Outcome.PAUSED if status is not None and status.paused else Outcome.UNSEEN
                entries.append(LedgerEntry(subscription, outcome, text, source=status))
        return entries

    async def recent_items(self, guild_id: int, contains: str, limit: int = 25) -> list[str]:
        """Ids of the items the community's sources listed lately whose id or title contains
        `contains`, newest first (autocomplete)."""
        rows = await self._db.fetch_all(
            "SELECT i.item_id FROM release_items i WHERE i.source_key IN "
            "(SELECT source_key FROM release_subscriptions WHERE guild_id = ?) "
            "AND (lower(i.item_id) LIKE lower(?) ESCAPE '\\' OR lower(i.title) LIKE lower(?) ESCAPE '\\') "
            "ORDER BY i.seen_at DESC, i.item_id LIMIT ?",
            (guild_id, f"%{_like(contains)}%", f"%{_like(contains)}%", limit),
        )
        return [str(row["item_id"]) for row in rows]

    async def expire(self, before: float) -> int:
        """Delete the ledger rows (items seen, items filtered out) older than `before`;
        returns how many."""
        async with self._db.transaction() as tx:
            deleted = await tx.execute_rowcount("DELETE FROM release_skips WHERE at < ?", (before,))
            deleted += await tx.execute_rowcount(
                "DELETE FROM release_items WHERE seen_at < ?", (before,)
            )
        return deleted
