"""The stance analytics kept up to date with every write (migration 0009) against a full
recomputation from the stored observations and votes, on real SQLite files: random members,
topics, days (out-of-order times and times next to midnight included), forget and the
retention purge; the migration's backfill of an existing database; the opinion map's matrix."""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.database import Database, bundled_migrations
from bot.features import Feature, FeatureRegistry
from bot.lifecycle import Lifecycle
from bot.repositories.guilds import GuildRepository
from bot.repositories.observations import ObservationRepository
from bot.repositories.stances import StanceRepository
from bot.stance_scale import Stance
from bot.stances.community import CommunityPicture, community_picture
from bot.stances.opinion_map import build_opinion_map, opinion_map_from_votes
from bot.stances.statistics import distribution, latest_positions, summarise
from bot.stances.trend import compute_trend
from cogs.stances.data import StanceData
from tests.engines import ENGINES, create_target, drop_target
from tests.stances.helpers import ALICE, BOB, GUILD, OTHER_GUILD, T0

TOPICS = (None, "t1")
PERIODS = ("7d", "30d", "90d", "all")
NOW = T0 + timedelta(days=41, hours=5)
DAY = 86_400.0


class Recorded(NamedTuple):
    guild_id: int
    member_id: int
    topic: str | None
    value: int
    seconds: float  # after T0


class Forgotten(NamedTuple):
    guild_id: int
    member_id: int


class Voted(NamedTuple):
    guild_id: int
    member_id: int
    number: int  # the statement's number: 1-3
    value: int


#: Few members and topics, so a member often records before their latest (out of order). Times
#: are whole days plus a few chosen offsets (midnight, just before it, mid-day), up to 41 days,
#: so before NOW (an observation is stored when it is made).
observations = st.builds(
    Recorded,
    st.sampled_from((GUILD, OTHER_GUILD)),
    st.integers(1, 4),
    st.sampled_from(TOPICS),
    st.integers(-2, 2),
    st.builds(
        lambda day, offset: day * DAY + offset,
        st.integers(0, 40),
        st.sampled_from((0.0, 1e-6, 3600.5, DAY / 2, DAY - 1e-6, DAY - 1e-9)),
    ),
)
forgets = st.builds(Forgotten, st.sampled_from((GUILD, OTHER_GUILD)), st.integers(1, 4))
votes = st.builds(
    Voted,
    st.sampled_from((GUILD, OTHER_GUILD)),
    st.integers(1, 5),
    st.integers(1, 3),
    st.integers(-1, 1),
)


def lifecycle(db: Database) -> Lifecycle:
    registry = FeatureRegistry()
    registry.add(Feature(name="stances", data=StanceData(StanceRepository(db))))
    return Lifecycle(db, registry, GuildRepository(db), lambda: [GUILD])


async def recomputed(
    db: Database, guild_id: int, topic: str | None, known: int, period: str
) -> CommunityPicture:
    """The picture computed from every stored observation, as /stance community did before
    the aggregates (latest positions and the trend over the observation columns)."""
    rows = await db.fetch_all(
        "SELECT member_id, value, observed_at FROM stance_observations "
        "WHERE guild_id = ? AND topic IS NOT DISTINCT FROM ? ORDER BY observed_at, id",
        (guild_id, topic),
    )
    members = np.array([r[0] for r in rows], dtype=np.int64)
    values = np.array([r[1] for r in rows], dtype=np.int64)
    times = np.array([r[2] for r in rows], dtype=np.float64)
    _, current = latest_positions(members, values)
    trend = compute_trend(members, values, times, period, NOW) if rows else None
    return CommunityPicture(summarise(distribution(current), known), trend)


async def stored_votes(db: Database, guild_id: int) -> list[tuple[int, int, int]]:
    """(member, statement id, value) of every vote on the community's active statements."""
    rows = await db.fetch_all(
        "SELECT v.member_id, v.statement_id, v.value FROM stance_statement_votes v "
        "JOIN stance_statements s ON s.id = v.statement_id WHERE v.guild_id = ? AND s.removed = 0",
        (guild_id,),
    )
    return [(int(r[0]), int(r[1]), int(r[2])) for r in rows]


async def assert_matrix_matches_votes(db: Database, guild_id: int) -> None:
    """The map's matrix equals the one built from every vote on the active statements."""
    repo = StanceRepository(db)
    active = await repo.active_statements(guild_id)
    matrix = await repo.vote_matrix(guild_id, active)
    rows = await stored_votes(db, guild_id)
    members = sorted({int(r[0]) for r in rows})
    expected = np.full((len(members), len(active)), np.nan)
    columns = {s.id: j for j, s in enumerate(active)}
    for member, statement, value in rows:
        expected[members.index(member), columns[statement]] = value
    assert matrix.member_ids == members and matrix.statement_ids == list(columns)
    assert np.array_equal(matrix.votes, expected, equal_nan=True)


async def assert_matches_recomputation(db: Database) -> None:
    stances = StanceRepository(db)
    for guild_id in (GUILD, OTHER_GUILD):
        known = await stances.known_members(guild_id)
        assert known == await db.fetch_value(
            "SELECT count(*) FROM (SELECT member_id FROM stance_observations WHERE guild_id = ?1 "
            "UNION SELECT member_id FROM stance_statement_votes WHERE guild_id = ?1) AS known",
            (guild_id,),
        )
        await assert_matrix_matches_votes(db, guild_id)
        for topic in TOPICS:
            daily = await stances.daily_changes(guild_id, topic)
            for period in PERIODS:
                expected = await recomputed(db, guild_id, topic, known, period)
                assert community_picture(daily, known, period, NOW) == expected, (topic, period)
            rows = await db.fetch_all(
                "SELECT member_id, value FROM stance_observations "
                "WHERE guild_id = ? AND topic IS NOT DISTINCT FROM ? ORDER BY observed_at, id",
                (guild_id, topic),
            )
            latest = {int(m): int(v) for m, v in rows}
            assert await stances.position_counts(guild_id, topic) == Counter(latest.values())


async def run_scenario(
    engine: str, folder: Path, steps: list[Recorded | Forgotten | Voted], cut: bool
) -> None:
    target = await create_target(engine, folder)
    db = await Database.open(target)
    try:
        await db.migrate()
        obs, repo = ObservationRepository(db), StanceRepository(db)
        statements = {
            guild_id: [await repo.add_statement(guild_id, 9, "A statement here.") for _ in "abc"]
            for guild_id in (GUILD, OTHER_GUILD)
        }
        await repo.remove_statement(statements[GUILD][1].id)
        for step in steps:
            if isinstance(step, Forgotten):
                await lifecycle(db).forget_member(step.guild_id, step.member_id)
            elif isinstance(step, Voted):
                statement = statements[step.guild_id][step.number - 1]
                await repo.record_vote(statement, step.member_id, step.value)
            else:
                await obs.record(
                    step.guild_id,
                    step.member_id,
                    Stance(step.value),
                    "declared",
                    topic=step.topic,
                    at=T0 + timedelta(seconds=step.seconds),
                )
        if cut:  # the retention purge of a community the bot left long ago
            await GuildRepository(db).ensure(OTHER_GUILD)
            await db.execute(
                "UPDATE guilds SET left_at = ? WHERE guild_id = ?",
                ((datetime.now(UTC) - timedelta(days=400)).isoformat(), OTHER_GUILD),
            )
            assert await lifecycle(db).purge_due_communities() == [OTHER_GUILD]
            for table in ("stance_positions", "stance_daily_changes", "stance_vote_rows"):
                assert not await db.fetch_value(
                    f"SELECT count(*) FROM {table} WHERE guild_id = ?",  # noqa: S608
                    (OTHER_GUILD,),
                )
        await assert_matches_recomputation(db)
    finally:
        await db.close()
        await drop_target(target)


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.one_of(observations, observations, votes, forgets), min_size=1, max_size=40),
    st.booleans(),
)
def test_incremental_figures_equal_a_full_recomputation(
    engine: str, steps: list[Recorded | Forgotten | Voted], cut: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run_scenario(engine, Path(folder), steps, cut))


async def test_a_forgotten_member_leaves_the_aggregates(db: Database) -> None:
    obs = ObservationRepository(db)
    repo = StanceRepository(db)
    for member, value in ((ALICE, Stance.STRONGLY_SHARE), (BOB, Stance.LEAN_SAFEGUARD)):
        await obs.record(GUILD, member, value, "declared", at=T0)
        await obs.record(GUILD, member, Stance.UNDECIDED, "declared", at=T0 + timedelta(days=2))
        await obs.record(GUILD, member, value, "declared", topic="t1", at=T0)
    statement = await repo.add_statement(GUILD, BOB, "Open weights build trust in models.")
    await repo.record_vote(statement, ALICE, 1)

    await lifecycle(db).forget_member(GUILD, ALICE)

    assert await repo.position_counts(GUILD, None) == {0: 1}
    assert await repo.position_counts(GUILD, "t1") == {-1: 1}
    daily = await repo.daily_changes(GUILD, None)
    assert daily.changes.sum(axis=0).tolist() == [0, 0, 1, 0, 0]  # Bob alone, at 0
    assert daily.changes[0].tolist() == [0, 1, 0, 0, 0]  # Bob's first day only
    assert await repo.known_members(GUILD) == 1
    matrix = await repo.vote_matrix(GUILD, [statement])
    assert matrix.member_ids == [] and matrix.votes.shape == (0, 1)
    await assert_matches_recomputation(db)


# SQLite-only: EXPLAIN QUERY PLAN is SQLite's (PostgreSQL plans by its own statistics).
@pytest.mark.parametrize("engine", ["sqlite"])
async def test_the_trend_query_reads_the_index_not_the_observations(db: Database) -> None:
    plan = await db.fetch_all(
        "EXPLAIN QUERY PLAN SELECT min(observed_at) FROM stance_observations "
        "WHERE guild_id = ? AND topic IS ?",
        (GUILD, None),
    )
    assert any("COVERING INDEX" in str(r["detail"]) for r in plan), [r["detail"] for r in plan]


async def test_the_migration_fills_the_aggregates_of_an_existing_database(
    engine: str, tmp_path: Path
) -> None:
    """The same observations and votes, stored before 0009 (then upgraded) and through the
    repositories after it, give the same aggregate tables."""
    rng = np.random.default_rng(7)
    rows = [
        (
            int(rng.choice([GUILD, OTHER_GUILD])),
            int(rng.integers(1, 9)),
            [None, "t1"][int(rng.integers(0, 2))],
            int(rng.integers(-2, 3)),
            # as stored through a datetime, like the repositories' writes
            datetime.fromtimestamp(T0.timestamp() + rng.uniform(0, 20 * DAY), UTC).timestamp(),
        )
        for _ in range(300)
    ]
    rows.append((GUILD, 1, None, 2, T0.timestamp() + 3 * DAY - 1e-9))  # just before midnight
    votes = [
        (int(rng.integers(1, 9)), int(rng.integers(1, 7)), int(rng.integers(-1, 2)))
        for _ in range(60)
    ]

    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old_target = await create_target(engine, tmp_path / "old", migrated=False)
    new_target = await create_target(engine, tmp_path / "new", migrated=False)
    old = await Database.open(old_target)
    await old.migrate([m for m in bundled_migrations(engine) if m.version < 9])
    async with old.transaction() as tx:
        await tx.executemany(
            "INSERT INTO stance_observations (guild_id, member_id, topic, value, source, "
            "observed_at) VALUES (?, ?, ?, ?, 'declared', ?)",
            rows,
        )
        await tx.executemany(
            "INSERT INTO stance_statements (guild_id, number, author_id, text, created_at) "
            "VALUES (?, ?, 1, 'A statement on openness.', 0)",
            [(GUILD, n) for n in range(1, 7)],
        )
        await tx.executemany(
            "INSERT INTO stance_statement_votes (statement_id, guild_id, member_id, value, "
            "voted_at) VALUES ((SELECT id FROM stance_statements WHERE guild_id = ? AND "
            "number = ?), ?, ?, ?, 0) ON CONFLICT (statement_id, member_id) "
            "DO UPDATE SET value = excluded.value",
            [(GUILD, number, GUILD, member, value) for member, number, value in votes],
        )
    assert "0009_stance_analytics.sql" in await old.migrate()

    new = await Database.open(new_target)
    await new.migrate()
    obs, repo = ObservationRepository(new), StanceRepository(new)
    for guild_id, member, topic, value, at in rows:
        await obs.record(
            guild_id,
            member,
            Stance(value),
            "declared",
            topic=topic,
            at=datetime.fromtimestamp(at, UTC),
        )
    statements = [await repo.add_statement(GUILD, 1, "A statement on openness.") for _ in range(6)]
    for member, number, value in votes:
        await repo.record_vote(statements[number - 1], member, value)

    for query in (
        "SELECT * FROM stance_positions ORDER BY guild_id, topic, member_id",
        "SELECT * FROM stance_daily_changes WHERE change_m2 <> 0 OR change_m1 <> 0 "
        "OR change_0 <> 0 OR change_p1 <> 0 OR change_p2 <> 0 ORDER BY guild_id, topic, day",
        "SELECT * FROM stance_vote_rows ORDER BY guild_id, member_id",
    ):
        assert [tuple(r) for r in await old.fetch_all(query)] == [
            tuple(r) for r in await new.fetch_all(query)
        ], query
    await old.close()
    await new.close()
    await drop_target(old_target)
    await drop_target(new_target)


async def test_the_map_matrix_equals_the_one_built_from_every_vote(db: Database) -> None:
    repo = StanceRepository(db)
    rng = np.random.default_rng(3)
    statements = [
        await repo.add_statement(GUILD, 1, f"Statement number {n} on openness.") for n in range(12)
    ]
    other = await repo.add_statement(OTHER_GUILD, 1, "Another community's statement.")
    for member in range(1, 41):
        camp = member % 3
        for statement in statements:
            if rng.random() < 0.75:
                lean = (camp - 1) if statement.number % 2 else (1 - camp)
                vote = lean if rng.random() < 0.8 else int(rng.integers(-1, 2))
                await repo.record_vote(statement, member, max(-1, min(1, vote)))
        await repo.record_vote(other, member, 1)
    await repo.record_vote(statements[0], 5, -1)  # a changed vote
    await repo.record_vote(statements[-1], 99, 1)  # only on a statement removed below
    await repo.remove_statement(statements[-1].id)
    active = await repo.active_statements(GUILD)

    matrix = await repo.vote_matrix(GUILD, active)

    await assert_matrix_matches_votes(db, GUILD)
    triples = await stored_votes(db, GUILD)
    members, ids, values = (
        np.array(column, dtype=np.int64) for column in zip(*triples, strict=True)
    )
    expected = opinion_map_from_votes(members, ids, values, [s.id for s in active])
    assert 99 not in matrix.member_ids
    result = build_opinion_map(matrix.votes, matrix.member_ids, matrix.statement_ids)
    assert result.groups == expected.groups and result.consensus == expected.consensus
    assert result.member_ids == expected.member_ids
