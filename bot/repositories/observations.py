"""Stance observations: the shared record between debates (writer) and stances (reader)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.repositories import Repository, batched
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
    """Store one observation inside a batched write (a debate vote, a declared stance): with
    :func:`insert_observations`, the one place an observation is written.
    ``ObservationRepository.record`` takes the same arguments without ``tx``."""
    when = (at or datetime.now(UTC)).timestamp()
    row = tx.fetch_one(
        "INSERT INTO stance_observations "
        "(guild_id, member_id, topic, value, source, observed_at) VALUES (?, ?, ?, ?, ?, ?) "
        "RETURNING id",
        (guild_id, member_id, topic, int(value), source, when),
    )
    assert row is not None
    return int(row[0])


#: One observation for :func:`insert_observations`:
#: ``(guild_id, member_id, topic, value, source, observed_at)``, the time in Unix seconds.
ObservationRow = tuple[int, int, str | None, Stance, str, float]


def insert_observations(tx: SyncTransaction, rows: list[ObservationRow]) -> None:
    """Store several observations in one statement, in order (votes run together)."""
    tx.execute(
        "INSERT INTO stance_observations "  # noqa: S608 (placeholders only)
        "(guild_id, member_id, topic, value, source, observed_at) VALUES "
        + ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(rows)),
        [
            v
            for guild, member, topic, value, source, at in rows
            for v in (guild, member, topic, int(value), source, at)
        ],
    )


class ObservationRepository(Repository):
    #: Store one observation through the batch writer; returns its id after the commit.
    record = batched(insert_observation)
