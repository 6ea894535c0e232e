"""Stance storage on a real SQLite file with every migration applied: statements, votes,
observations, what an export reads and what a forget counts (the lifecycle itself, forget and
purge through the core, is tested in tests/core/test_lifecycle.py)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from bot.database import Database, bundled_migrations
from bot.repositories.observations import ObservationRepository
from bot.repositories.stances import StanceRepository
from bot.stance_scale import Stance
from tests.stances.helpers import ALICE, BOB, GUILD, OTHER_GUILD, T0, populate


async def test_migration_is_numbered_0005_and_indexes_exist(db: Database) -> None:
    assert "0005_stances.sql" in [m.name for m in bundled_migrations()]
    indexes = {
        r["name"] for r in await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    assert {
        "stance_observations_community_cover",
        "stance_statement_votes_guild_member",
    } <= indexes
    plan = await db.fetch_all(
        "EXPLAIN QUERY PLAN SELECT member_id, value, observed_at FROM stance_observations "
        "WHERE guild_id = ? AND topic IS ? ORDER BY observed_at, id",
        (1, None),
    )
    assert any("COVERING INDEX" in str(r["detail"]) for r in plan), [r["detail"] for r in plan]


async def test_statement_numbers_votes_and_dealing(db: Database) -> None:
    repo = StanceRepository(db)
    first = await repo.add_statement(GUILD, ALICE, "The first statement here.")
    second = await repo.add_statement(GUILD, ALICE, "The second statement here.")
    elsewhere = await repo.add_statement(OTHER_GUILD, ALICE, "Another community's first.")
    assert (first.number, second.number, elsewhere.number) == (1, 2, 1)
    assert (await repo.next_statement(GUILD, BOB)) == first
    await repo.record_vote(first, BOB, 1)
    assert (await repo.next_statement(GUILD, BOB)) == second
    await repo.record_vote(second, BOB, 0)
    assert await repo.next_statement(GUILD, BOB) is None
    await repo.record_vote(second, BOB, -1)  # a changed vote replaces the old one
    assert [(v.statement_id, v.value) for v in await repo.member_votes(GUILD, BOB)] == [
        (first.id, 1),
        (second.id, -1),
    ]
    assert await repo.remove_statement(first.id)
    assert not await repo.remove_statement(first.id)
    members, statements, values = await repo.vote_triples(GUILD)
    assert (members.tolist(), statements.tolist(), values.tolist()) == ([BOB], [second.id], [-1])
    assert [s.number for s in await repo.find_statements(GUILD, "second")] == [2]
    assert [s.number for s in await repo.find_statements(GUILD, "")] == [2]  # removed: hidden


async def test_observation_columns_in_time_order(db: Database) -> None:
    repo = StanceRepository(db)
    obs = ObservationRepository(db)
    await obs.record(GUILD, BOB, Stance.LEAN_SHARE, "declared", at=T0 + timedelta(hours=2))
    await obs.record(GUILD, ALICE, Stance.STRONGLY_SHARE, "declared", at=T0)
    await obs.record(GUILD, ALICE, Stance.LEAN_SAFEGUARD, "declared", topic="t1", at=T0)
    await obs.record(OTHER_GUILD, ALICE, Stance.UNDECIDED, "declared", at=T0)
    columns = await repo.observation_columns(GUILD, None)
    assert columns.member_ids.tolist() == [ALICE, BOB]
    assert columns.values.tolist() == [2, 1]
    assert np.allclose(columns.timestamps, [T0.timestamp(), T0.timestamp() + 7200])
    topic = await repo.observation_columns(GUILD, "t1")
    assert topic.values.tolist() == [-1]
    assert len(await repo.observation_columns(GUILD, "unknown")) == 0


async def test_export_reads_everything_of_the_member(db: Database) -> None:
    repo = await populate(db)
    observations = await repo.member_observations(GUILD, ALICE)
    assert [(o.source, o.topic) for o in observations] == [
        ("declared", None),
        ("declared", "t1"),
        ("debate:7", None),
    ]
    statements = await repo.statements_for_export(GUILD, ALICE)
    assert [s.number for s in statements] == [1, 2]
    assert [v.value for v in await repo.member_votes(GUILD, ALICE)] == [1, -1]


async def test_forget_preview_counts_what_forget_removes(db: Database) -> None:
    repo = await populate(db)
    preview = await repo.forget_preview(GUILD, ALICE)
    assert (preview.observations, preview.statement_votes) == (3, 2)
    assert (preview.statements_unlinked, preview.visibility) == (1, 1)
    async with db.transaction() as tx:
        assert await repo.forget_member(tx, GUILD, ALICE) == preview
    assert (await repo.forget_preview(GUILD, ALICE)).total == 0
    assert (await repo.forget_preview(OTHER_GUILD, ALICE)).total == 7
