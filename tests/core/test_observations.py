"""The shared stance observation record, on a real database file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.database import Database
from bot.repositories.observations import ObservationRepository
from bot.stance_scale import Stance


@pytest.fixture
async def repo(tmp_path: Path):
    db = await Database.open(tmp_path / "a.db")
    await db.migrate()
    yield ObservationRepository(db)
    await db.close()


async def test_record_list_and_forget(repo: ObservationRepository) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    await repo.record(1, 10, Stance.LEAN_SHARE, "declared", at=t0 + timedelta(hours=1))
    await repo.record(1, 10, Stance.STRONGLY_SAFEGUARD, "debate:3", topic="misuse", at=t0)
    await repo.record(1, 11, Stance.UNDECIDED, "declared", at=t0)
    await repo.record(2, 10, Stance.STRONGLY_SHARE, "declared", at=t0)
    rows = await repo.for_member(1, 10)
    assert [(r["value"], r["source"], r["topic"]) for r in rows] == [
        (-2, "debate:3", "misuse"),
        (1, "declared", None),
    ]
    assert await repo.delete_member(1, 10) == 2
    assert await repo.for_member(1, 10) == []
    assert len(await repo.for_member(2, 10)) == 1
    assert len(await repo.for_member(1, 11)) == 1
