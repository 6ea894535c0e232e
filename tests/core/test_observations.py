"""The shared stance observation record, on a real database file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.database import Database
from bot.repositories.observations import ObservationRepository, insert_observation
from bot.stance_scale import Stance


async def test_record_stores_one_row_per_observation(db: Database) -> None:
    repo = ObservationRepository(db)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    await repo.record(1, 10, Stance.LEAN_SHARE, "declared", at=t0 + timedelta(hours=1))
    await repo.record(1, 10, Stance.STRONGLY_SAFEGUARD, "debate:3", topic="misuse", at=t0)
    await repo.record(1, 11, Stance.UNDECIDED, "declared", at=t0)
    # part of a larger batched write (a debate vote)
    await db.write(
        lambda tx: insert_observation(tx, 2, 10, Stance.STRONGLY_SHARE, "declared", at=t0)
    )
    rows = await db.fetch_all(
        "SELECT guild_id, member_id, value, source, topic, observed_at FROM stance_observations "
        "ORDER BY guild_id, member_id, observed_at, id"
    )
    assert [tuple(r) for r in rows] == [
        (1, 10, -2, "debate:3", "misuse", t0.timestamp()),
        (1, 10, 1, "declared", None, (t0 + timedelta(hours=1)).timestamp()),
        (1, 11, 0, "declared", None, t0.timestamp()),
        (2, 10, 2, "declared", None, t0.timestamp()),
    ]
