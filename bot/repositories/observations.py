"""Stance observations: the shared record between debates (writer) and stances (reader)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from bot.repositories import (
    Repository,
)
from bot.stance_scale import Stance
from bot.writer import SyncTransaction


def insert_observation(
    tx: SyncTransaction,
    guild_id: int,
    member_id: int,
    value: Stance,
    source: str,
    *,
    topic: str | None = None,
    at: datetime | None = None,
) -> int:
    """Store one observation inside a batched write (a debate vote, a declared stance): the
    one place an observation is written."""
    when = (at or datetime.now(UTC)).timestamp()
    return tx.execute(
        "INSERT INTO stance_observations "
        "(guild_id, member_id, topic, value, source, observed_at) VALUES (?, ?, ?, ?, ?, ?)",
        (guild_id, member_id, topic, int(value), source, when),
    )


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
    ) -> int:
        """Store one observation (through the batch writer); returns its id after the commit."""
        return await self._db.write(
            partial(
                insert_observation,
                guild_id=guild_id,
                member_id=member_id,
                value=value,
                source=source,
                topic=topic,
                at=at,
            )
        )
