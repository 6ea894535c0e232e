"""Stance storage on a real SQLite file with every migration applied: statements, votes,
observations, what an export reads and what a forget counts (the lifecycle itself, forget and
purge through the core, is tested in tests/core/test_lifecycle.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.database import Database, bundled_migrations
from bot.repositories.observations import ObservationRepository
from bot.repositories.stances import StanceRepository
from bot.stance_scale import Stance
from tests.stances.helpers import ALICE, BOB, GUILD, OTHER_GUILD, T0, populate


# SQLite-only: EXPLAIN QUERY PLAN and sqlite_master are SQLite's (tests/core/test_schema.py
# checks PostgreSQL has the same indexes).
@pytest.mark.parametrize("engine", ["sqlite"])
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
        "WHERE guild_id = ? AND topic IS NOT DISTINCT FROM ? ORDER BY observed_at, id",
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
    matrix = await repo.vote_matrix(GUILD, await repo.active_statements(GUILD))
    assert (matrix.member_ids, matrix.statement_ids, matrix.votes.tolist()) == (
        [BOB],
        [second.id],
        [[-1.0]],
    )
    assert [s.number for s in await repo.find_statements(GUILD, "second")] == [2]
    assert [s.number for s in await repo.find_statements(GUILD, "")] == [2]  # removed: hidden


async def test_positions_and_daily_changes_per_community_and_topic(db: Database) -> None:
    obs, repo = ObservationRepository(db), StanceRepository(db)
    await obs.record(GUILD, BOB, Stance.LEAN_SHARE, "declared", at=T0 + timedelta(hours=2))
    await obs.record(GUILD, ALICE, Stance.STRONGLY_SHARE, "declared", at=T0)
    await obs.record(GUILD, ALICE, Stance.UNDECIDED, "declared", at=T0 + timedelta(days=1))
    await obs.record(GUILD, ALICE, Stance.LEAN_SAFEGUARD, "declared", topic="t1", at=T0)
    await obs.record(OTHER_GUILD, ALICE, Stance.UNDECIDED, "declared", at=T0)
    assert await repo.position_counts(GUILD, None) == {0: 1, 1: 1}
    assert await repo.position_counts(GUILD, "t1") == {-1: 1}
    daily = await repo.daily_changes(GUILD, None)
    first = int(T0.timestamp() // 86_400)
    assert daily.days.tolist() == [first, first + 1]
    # Day 1: Alice at +2, Bob at +1; day 2: Alice moves from +2 to 0.
    assert daily.changes.tolist() == [[0, 0, 0, 1, 1], [0, 0, 1, 0, -1]]
    assert daily.earliest == T0.timestamp()
    empty = await repo.daily_changes(GUILD, "unknown")
    assert (empty.days.size, empty.changes.shape, empty.earliest) == (0, (0, 5), None)


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
