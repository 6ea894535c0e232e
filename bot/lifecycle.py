"""The data lifecycle, owned by the core: export a member, forget a member, purge a community,
and the retention job that purges communities the bot left long enough ago.

Every operation opens one transaction and calls the data hooks (:class:`bot.features.DataHooks`)
of every loaded feature inside it, so it commits for all features or for none. A purge then
sweeps every remaining table with a ``guild_id`` column (and the rows that reference them), so a
community's data also goes when the feature that wrote it is not loaded right now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.cluster import Shards
from bot.community import GuildSettings
from bot.database import Database, Transaction
from bot.features import FeatureRegistry, Job
from bot.repositories.guilds import GuildRepository, community_tables, dependent_tables, quote

log = logging.getLogger(__name__)

#: How often the retention job looks for communities whose data is due for deletion.
RETENTION_CHECK_SECONDS = 3600.0
#: Core tables that a purge never touches (their rows are not a community's data).
_NOT_COMMUNITY_TABLES = frozenset({"meta"})


def purge_at(left_at: datetime, retention_days: int) -> datetime:
    """The moment data of a community left at ``left_at`` becomes due for deletion."""
    if left_at.tzinfo is None:
        raise ValueError("left_at must be timezone-aware")
    if retention_days < 0:
        raise ValueError("retention_days cannot be negative")
    return left_at + timedelta(days=retention_days)


def purge_due(left_at: datetime | None, retention_days: int, now: datetime) -> bool:
    """True when the bot left the community (``left_at`` set) at least ``retention_days`` ago.

    ``None`` means the bot is still there (or was re-invited): never due.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if left_at is None:
        return False
    return now >= purge_at(left_at, retention_days)


@dataclass(frozen=True)
class PurgeReport:
    """Rows deleted per feature (and ``"core"`` for the sweep of what no loaded feature claimed)."""

    guild_id: int
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


class Lifecycle:
    """Export, forget and purge across every loaded feature, in one transaction each."""

    def __init__(
        self,
        db: Database,
        registry: FeatureRegistry,
        guilds: GuildRepository,
        present_guilds: Callable[[], Collection[int]],
        shards: Shards | None = None,
    ) -> None:
        self._db = db
        self._registry = registry
        self._guilds = guilds
        self._present_guilds = present_guilds
        #: Retention purges the communities of this process's shards (all, alone).
        self._shards = shards or Shards()

    async def export_member(self, guild_id: int, member_id: int) -> dict[str, Any]:
        """``{feature name: that feature's export}`` for every loaded feature that keeps data."""
        data: dict[str, Any] = {}
        async with self._db.transaction() as tx:  # one consistent snapshot across features
            for name, hooks in self._registry.data_hooks():
                data[name] = await hooks.export_member(tx, guild_id, member_id)
        return data

    async def forget_member(self, guild_id: int, member_id: int) -> dict[str, int]:
        """Remove the member from every loaded feature; ``{feature name: rows changed}``."""
        changed: dict[str, int] = {}
        async with self._db.transaction() as tx:
            for name, hooks in self._registry.data_hooks():
                changed[name] = await hooks.forget_member(tx, guild_id, member_id)
        log.info("forgot member %s in community %s: %s", member_id, guild_id, changed)
        return changed

    async def purge_community(self, guild_id: int, *, keep_settings: bool = False) -> PurgeReport:
        """Delete every row of the community, every feature's first, then whatever is left in
        any table with a ``guild_id`` column (and the rows that reference those).

        ``keep_settings`` keeps the ``guilds`` row (settings, joined/left times): a manager's
        purge keeps the configuration; the retention purge removes it.
        """
        rows: dict[str, int] = {}
        async with self._db.transaction() as tx:
            # Checked at COMMIT, when every related row is gone, whatever the deletion order.
            await tx.defer_foreign_keys()
            for name, hooks in self._registry.data_hooks():
                rows[name] = await hooks.purge_community(tx, guild_id)
            rows["core"] = await self._sweep(tx, guild_id, keep_settings=keep_settings)
        report = PurgeReport(guild_id, rows)
        log.info("purged community %s: %d rows %s", guild_id, report.total, rows)
        return report

    async def _sweep(self, tx: Transaction, guild_id: int, *, keep_settings: bool) -> int:
        tables = [t for t in await community_tables(tx) if t not in _NOT_COMMUNITY_TABLES]
        deleted = 0
        for child, column, parent, parent_column in await dependent_tables(tx, tables):
            deleted += await tx.execute_rowcount(
                f"DELETE FROM {quote(child)} WHERE {quote(column)} IN "  # noqa: S608
                f"(SELECT {quote(parent_column)} FROM {quote(parent)} WHERE guild_id = ?)",
                (guild_id,),
            )
        for table in tables:
            if keep_settings and table == "guilds":
                continue
            deleted += await tx.execute_rowcount(
                f"DELETE FROM {quote(table)} WHERE guild_id = ?",  # noqa: S608
                (guild_id,),
            )
        return deleted

    async def purge_due_communities(self, now: datetime | None = None) -> list[int]:
        """Purge every community the bot left more than its ``retention_days`` ago (and has not
        rejoined); returns their ids. One failing community does not stop the others. In a
        cluster, only the communities on this process's shards (each process purges its own)."""
        moment = now or datetime.now(UTC)
        present = set(self._present_guilds())
        purged = []
        for guild_id, left_at, raw_settings in await self._guilds.communities_left():
            try:
                if guild_id in present or not self._shards.holds(guild_id):
                    continue
                settings = GuildSettings.model_validate_json(raw_settings or "{}")
                if purge_due(datetime.fromisoformat(left_at), settings.retention_days, moment):
                    await self.purge_community(guild_id)
                    purged.append(guild_id)
            except Exception:
                log.exception("could not purge community %s", guild_id)
        return purged

    def retention_job(self) -> Job:
        """The core's background job that applies ``retention_days``."""
        return Job("retention", RETENTION_CHECK_SECONDS, self.purge_due_communities)
