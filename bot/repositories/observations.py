"""Stance observations: the shared record between debates (writer) and stances (reader)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from bot.database import Database, Transaction
from bot.stance_scale import Stance


class ObservationRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        guild_id: int,
        member_id: int,
        value: Stance,
        source: str,
        *,
        topic: str | None = None,
        at: datetime | None = None,
        tx: Transaction | None = None,
    ) -> int:
        """Store one observation; pass `tx` to make it part of a larger transaction (a vote)."""
        when = (at or datetime.now(UTC)).timestamp()
        sql = (
            "INSERT INTO stance_observations "
            "(guild_id, member_id, topic, value, source, observed_at) VALUES (?, ?, ?, ?, ?, ?)"
        )
        params = (guild_id, member_id, topic, int(value), source, when)
        if tx is not None:
            return await tx.execute(sql, params)
        return await self._db.execute(sql, params)

    async def for_member(self, guild_id: int, member_id: int) -> list[sqlite3.Row]:
        """A member's observations in one community, oldest first."""
        return await self._db.fetch_all(
            "SELECT id, topic, value, source, observed_at FROM stance_observations "
            "WHERE guild_id = ? AND member_id = ? ORDER BY observed_at, id",
            (guild_id, member_id),
        )

    async def delete_member(self, guild_id: int, member_id: int) -> int:
        """Forget a member's observations in one community; returns how many were deleted."""
        async with self._db.transaction() as tx:
            return await tx.execute_rowcount(
                "DELETE FROM stance_observations WHERE guild_id = ? AND member_id = ?",
                (guild_id, member_id),
            )
