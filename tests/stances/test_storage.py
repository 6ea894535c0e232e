"""Stance storage on a real SQLite file with every migration applied: forget, export, purge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from bot.database import Database, bundled_migrations
from bot.repositories.guilds import GuildRepository
from bot.repositories.observations import ObservationRepository
from bot.repositories.stances import StanceRepository
from bot.stance_scale import Stance
from bot.stances.models import Visibility

GUILD, OTHER_GUILD = 100, 200
ALICE, BOB = 1, 2
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "stances.db")
    await database.migrate()
    yield database
    await database.close()


async def _populate(db: Database) -> StanceRepository:
    """Two members in two communities, with positions, statements, votes and visibility."""
    repo = StanceRepository(db)
    obs = ObservationRepository(db)
    for guild in (GUILD, OTHER_GUILD):
        await GuildRepository(db).ensure(guild)
        for member, value in ((ALICE, Stance.LEAN_SHARE), (BOB, Stance.STRONGLY_SAFEGUARD)):
            await obs.record(guild, member, value, "declared", at=T0)
            await obs.record(guild, member, Stance.UNDECIDED, "debate:7", at=T0 + timedelta(days=1))
            await obs.record(guild, member, value, "declared", topic="t1", at=T0)
        by_alice = await repo.add_statement(guild, ALICE, "Open weights build trust in models.")
        by_bob = await repo.add_statement(guild, BOB, "Release only after a red-team review.")
        for member in (ALICE, BOB):
            await repo.record_vote(by_alice, member, 1)
            await repo.record_vote(by_bob, member, -1 if member == ALICE else 0)
        await repo.set_visibility(guild, ALICE, Visibility.PUBLIC)
    return repo


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


async def test_forget_leaves_nothing_of_the_member(db: Database) -> None:
    repo = await _populate(db)
    # Polls of the debates feature: one closed (its totals were published), one still open.
    for poll_id, closed_at in ((7, 1000.0), (8, None)):
        await db.execute(
            "INSERT INTO polls (id, guild_id, number, channel_id, creator_id, kind, question, "
            "options, max_choices, created_at, closed_at) "
            "VALUES (?, ?, ?, 1, 1, 'custom', 'q', '[\"a\",\"b\"]', 2, 0, ?)",
            (poll_id, GUILD, poll_id, closed_at),
        )
    votes = [(7, ALICE, 0), (7, ALICE, 1), (7, BOB, 0), (8, ALICE, 1), (8, BOB, 1)]
    for poll_id, member, option in votes:
        await db.execute(
            "INSERT INTO votes (poll_id, member_id, option, voted_at) VALUES (?, ?, ?, 0)",
            (poll_id, member, option),
        )
    totals_sql = (
        "SELECT option, count(*), count(DISTINCT member_id) FROM votes WHERE poll_id = ? "
        "GROUP BY option ORDER BY option"
    )
    before = [tuple(r) for r in await db.fetch_all(totals_sql, (7,))]
    report = await repo.forget_member(GUILD, ALICE)
    assert [tuple(r) for r in await db.fetch_all(totals_sql, (7,))] == before
    turnout = "SELECT count(DISTINCT member_id) FROM votes WHERE poll_id = ?"
    assert await db.fetch_value(turnout, (7,)) == 2
    assert await db.fetch_value("SELECT count(*) FROM votes WHERE member_id = ?", (ALICE,)) == 0
    assert await db.fetch_value("SELECT count(*) FROM votes WHERE poll_id = 8") == 1
    assert (report.observations, report.statement_votes, report.statements_unlinked) == (3, 2, 1)
    assert report.visibility == 1
    for table, column in (
        ("stance_observations", "member_id"),
        ("stance_statement_votes", "member_id"),
        ("stance_visibility", "member_id"),
        ("stance_statements", "author_id"),
    ):
        left = await db.fetch_value(
            f"SELECT count(*) FROM {table} WHERE guild_id = ? AND {column} = ?",  # noqa: S608
            (GUILD, ALICE),
        )
        assert left == 0, table
    assert await repo.get_visibility(GUILD, ALICE) is Visibility.PRIVATE
    # The statement's text stays (Bob voted on it), without its author.
    kept = await repo.statement_by_number(GUILD, 1)
    assert kept is not None and kept.author_id is None and "Open weights" in kept.text
    # Bob, and Alice in the other community, are untouched.
    assert len(await repo.member_observations(GUILD, BOB)) == 3
    assert len(await repo.member_observations(OTHER_GUILD, ALICE)) == 3
    assert await repo.get_visibility(OTHER_GUILD, ALICE) is Visibility.PUBLIC


async def test_export_reads_everything_of_the_member(db: Database) -> None:
    repo = await _populate(db)
    observations = await repo.member_observations(GUILD, ALICE)
    assert [(o.source, o.topic) for o in observations] == [
        ("declared", None),
        ("declared", "t1"),
        ("debate:7", None),
    ]
    statements = await repo.statements_for_export(GUILD, ALICE)
    assert [s.number for s in statements] == [1, 2]
    assert [v.value for v in await repo.member_votes(GUILD, ALICE)] == [1, -1]


async def test_purge_deletes_every_table_with_a_guild_id(db: Database) -> None:
    repo = await _populate(db)
    # Tables of other features (releases, debates) found by introspection, one with a child
    # table that only references it through a foreign key.
    await db.execute(
        "CREATE TABLE dummy_debates (id INTEGER PRIMARY KEY, guild_id INTEGER, motion TEXT)"
    )
    await db.execute(
        "CREATE TABLE dummy_debate_votes (debate_id INTEGER NOT NULL "
        "REFERENCES dummy_debates (id), member_id INTEGER, side INTEGER)"
    )
    for guild in (GUILD, OTHER_GUILD):
        debate = await db.execute(
            "INSERT INTO dummy_debates (guild_id, motion) VALUES (?, 'x')", (guild,)
        )
        await db.execute("INSERT INTO dummy_debate_votes VALUES (?, ?, 1)", (debate, ALICE))
    tables = await repo.community_tables()
    assert {"guilds", "stance_observations", "stance_statements", "dummy_debates"} <= set(tables)

    deleted = await repo.purge_community(GUILD)
    assert deleted > 0
    for table in tables:
        left = await db.fetch_value(
            f'SELECT count(*) FROM "{table}" WHERE guild_id = ?',  # noqa: S608
            (GUILD,),
        )
        assert left == 0, table
    assert await db.fetch_value("SELECT count(*) FROM dummy_debate_votes") == 1
    # The other community is untouched.
    assert len(await repo.member_observations(OTHER_GUILD, ALICE)) == 3
    assert len(await repo.active_statements(OTHER_GUILD)) == 2
    assert await db.fetch_value("SELECT count(*) FROM guilds WHERE guild_id = ?", (OTHER_GUILD,))


async def test_manager_purge_keeps_settings(db: Database) -> None:
    repo = await _populate(db)
    await repo.purge_community(GUILD, keep_settings=True)
    assert await db.fetch_value("SELECT count(*) FROM guilds WHERE guild_id = ?", (GUILD,)) == 1
    assert (
        await db.fetch_value(
            "SELECT count(*) FROM stance_observations WHERE guild_id = ?", (GUILD,)
        )
        == 0
    )


async def test_communities_left(db: Database) -> None:
    guilds = GuildRepository(db)
    repo = StanceRepository(db)
    await guilds.ensure(GUILD)
    await guilds.ensure(OTHER_GUILD)
    await guilds.mark_left(GUILD)
    left = await repo.communities_left()
    assert [g for g, _, _ in left] == [GUILD]
    assert datetime.fromisoformat(left[0][1]).tzinfo is not None
