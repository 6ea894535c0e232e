"""Stance observations: the shared record between debates (writer) and stances (reader)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.database import Transaction
from bot.repositories import (
    Repository,
)
from bot.stance_scale import Stance


class ObservationRepository(Repository):
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
