"""The core's data lifecycle (`bot.lifecycle`): when a left community is due for deletion, and
export, forget, purge and the retention purge through :class:`Lifecycle` on a real SQLite file
with every migration applied, with the stances feature's data hooks loaded (or none)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import pytest

from bot.cluster import Shards
from bot.database import Database
from bot.features import Feature, FeatureRegistry
from bot.lifecycle import Lifecycle, purge_at, purge_due
from bot.repositories.guilds import GuildRepository, community_tables
from bot.repositories.stances import StanceRepository
from bot.stances.models import Visibility
from cogs.stances.data import StanceData
from tests.stances.helpers import ALICE, BOB, GUILD, OTHER_GUILD, populate

LEFT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

# -- when a community is due --------------------------------------------------------------


def test_still_in_the_community_is_never_due() -> None:
    assert purge_due(None, 1, LEFT + timedelta(days=1000)) is False


def test_due_exactly_after_retention() -> None:
    assert purge_at(LEFT, 30) == LEFT + timedelta(days=30)
    assert purge_due(LEFT, 30, LEFT + timedelta(days=30) - timedelta(seconds=1)) is False
    assert purge_due(LEFT, 30, LEFT + timedelta(days=30)) is True
    assert purge_due(LEFT, 30, LEFT + timedelta(days=31)) is True


def test_rejects_naive_datetimes_and_negative_retention() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        purge_due(datetime(2024, 5, 1), 30, LEFT)
    with pytest.raises(ValueError, match="timezone-aware"):
        purge_due(LEFT, 30, datetime(2024, 6, 1))
    with pytest.raises(ValueError):
        purge_due(LEFT, -1, LEFT)


# -- through Lifecycle, on a real database ------------------------------------------------


def lifecycle(db: Database, *, stances: bool = True, present: Collection[int] = ()) -> Lifecycle:
    """The core's lifecycle with the stances feature's hooks loaded (or no feature at all)."""
    registry = FeatureRegistry()
    if stances:
        registry.add(Feature(name="stances", data=StanceData(StanceRepository(db))))
    return Lifecycle(db, registry, GuildRepository(db), lambda: present)


async def count(db: Database, table: str, guild_id: int, column: str = "guild_id") -> int:
    return int(
        await db.fetch_value(
            f'SELECT count(*) FROM "{table}" WHERE {column} = ?',  # noqa: S608
            (guild_id,),
        )
    )


async def test_forget_leaves_nothing_of_the_member_in_the_stances_tables(db: Database) -> None:
    repo = await populate(db)
    # A poll vote of the debates feature: its own hook forgets it, not the stances feature's.
    await db.execute(
        "INSERT INTO polls (id, guild_id, number, channel_id, creator_id, kind, question, "
        "options, max_choices, created_at) "
        "VALUES (7, ?, 7, 1, 1, 'custom', 'q', '[\"a\",\"b\"]', 2, 0)",
        (GUILD,),
    )
    await db.execute(
        "INSERT INTO votes (poll_id, member_id, option, voted_at) VALUES (7, ?, 0, 0)", (ALICE,)
    )

    changed = await lifecycle(db).forget_member(GUILD, ALICE)

    assert changed == {"stances": 3 + 2 + 1 + 1}  # observations, votes, authorship, visibility
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
    # Bob, and Alice in the other community, are untouched; so is the debates feature's row.
    assert len(await repo.member_observations(GUILD, BOB)) == 3
    assert len(await repo.member_observations(OTHER_GUILD, ALICE)) == 3
    assert await repo.get_visibility(OTHER_GUILD, ALICE) is Visibility.PUBLIC
    assert await count(db, "votes", ALICE, "member_id") == 1


async def test_export_holds_the_stances_part(db: Database) -> None:
    await populate(db)
    exported = await lifecycle(db).export_member(GUILD, ALICE)
    assert list(exported) == ["stances"]
    data = exported["stances"]
    assert (data["member_id"], data["guild_id"]) == (str(ALICE), str(GUILD))
    assert data["visibility"] == "public"
    assert [(h["source"], h["topic"]) for h in data["history"]] == [
        ("declared", None),
        ("declared", "t1"),
        ("debate:7", None),
    ]
    assert [(d["topic"], d["value"]) for d in data["declared_positions"]] == [(None, 1), ("t1", 1)]
    assert [(v["vote"], v["statement"][:4]) for v in data["statement_votes"]] == [
        ("agree", "Open"),
        ("disagree", "Rele"),
    ]
    assert [s["number"] for s in data["statements_authored"]] == [1]
    assert await lifecycle(db, stances=False).export_member(GUILD, ALICE) == {}


async def test_purge_deletes_every_table_with_a_guild_id(db: Database) -> None:
    repo = await populate(db)
    # Tables of other features found by introspection, one with a child table that only
    # references it through a foreign key.
    await db.execute(
        "CREATE TABLE dummy_debates (id BIGINT PRIMARY KEY, guild_id BIGINT, motion TEXT)"
    )
    await db.execute(
        "CREATE TABLE dummy_debate_votes (debate_id BIGINT NOT NULL "
        "REFERENCES dummy_debates (id), member_id BIGINT, side BIGINT)"
    )
    for debate, guild in enumerate((GUILD, OTHER_GUILD), start=1):
        await db.execute(
            "INSERT INTO dummy_debates (id, guild_id, motion) VALUES (?, ?, 'x')", (debate, guild)
        )
        await db.execute("INSERT INTO dummy_debate_votes VALUES (?, ?, 1)", (debate, ALICE))
    tables = await community_tables(db)
    assert {"guilds", "stance_observations", "stance_statements", "dummy_debates"} <= set(tables)

    report = await lifecycle(db).purge_community(GUILD)

    # The stances hook: 6 observations, 4 votes, 2 statements, 1 visibility row.
    assert report.rows["stances"] == 13
    assert report.rows["core"] == 3  # the dummy debate, its vote, the guilds row
    for table in tables:
        assert await count(db, table, GUILD) == 0, table
    assert await db.fetch_value("SELECT count(*) FROM dummy_debate_votes") == 1
    # The other community is untouched.
    assert len(await repo.member_observations(OTHER_GUILD, ALICE)) == 3
    assert len(await repo.active_statements(OTHER_GUILD)) == 2
    assert await count(db, "guilds", OTHER_GUILD) == 1


async def test_purge_without_any_feature_loaded_still_deletes_everything(db: Database) -> None:
    repo = await populate(db)
    report = await lifecycle(db, stances=False).purge_community(GUILD)
    # The 13 rows of data and the guilds row, plus those of the analytics (migration 0009) that
    # the sweep reaches before the triggers of the data rows have removed them.
    assert list(report.rows) == ["core"] and report.total >= 13 + 1
    for table in await community_tables(db):
        assert await count(db, table, GUILD) == 0, table
    assert len(await repo.member_observations(OTHER_GUILD, ALICE)) == 3


async def test_manager_purge_keeps_settings(db: Database) -> None:
    await populate(db)
    await lifecycle(db).purge_community(GUILD, keep_settings=True)
    assert await count(db, "guilds", GUILD) == 1
    assert await count(db, "stance_observations", GUILD) == 0


async def test_communities_left(db: Database) -> None:
    guilds = GuildRepository(db)
    await guilds.ensure(GUILD)
    await guilds.ensure(OTHER_GUILD)
    await guilds.mark_left(GUILD)
    left = await guilds.communities_left()
    assert [g for g, _, _ in left] == [GUILD]
    assert datetime.fromisoformat(left[0][1]).tzinfo is not None


async def _left(db: Database, guild_id: int, days_ago: float, settings: str = "{}") -> None:
    await db.execute(
        "UPDATE guilds SET left_at = ?, settings = ? WHERE guild_id = ?",
        ((datetime.now(UTC) - timedelta(days=days_ago)).isoformat(), settings, guild_id),
    )


async def test_retention_purges_communities_left_long_enough_ago(db: Database) -> None:
    repo = await populate(db)
    back, short = 300, 400
    for guild in (back, short):
        await GuildRepository(db).ensure(guild)
    await _left(db, GUILD, 31)  # the default retention is 30 days
    await _left(db, OTHER_GUILD, 29)
    await _left(db, back, 31)  # re-invited: present, though the row still says it left
    await _left(db, short, 8, '{"retention_days": 7}')

    purged = await lifecycle(db, present={back}).purge_due_communities()

    assert sorted(purged) == [GUILD, short]
    assert await count(db, "guilds", GUILD) == 0  # the retention purge drops the settings too
    assert await count(db, "stance_observations", GUILD) == 0
    assert len(await repo.member_observations(OTHER_GUILD, ALICE)) == 3
    for guild in (OTHER_GUILD, back):
        assert await count(db, "guilds", guild) == 1


async def test_retention_goes_on_after_a_community_it_cannot_read(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await populate(db)
    await _left(db, OTHER_GUILD, 31, '{"retention_days": "not a number"}')
    await _left(db, GUILD, 31)
    with caplog.at_level(logging.ERROR, logger="bot.lifecycle"):
        assert await lifecycle(db).purge_due_communities() == [GUILD]
    assert [r.getMessage() for r in caplog.records] == [f"could not purge community {OTHER_GUILD}"]
    assert await count(db, "stance_observations", OTHER_GUILD) == 6


async def test_the_retention_job_runs_the_purge_every_hour(db: Database) -> None:
    core = lifecycle(db)
    job = core.retention_job()
    assert (job.name, job.interval, job.run_at_start) == ("retention", 3600.0, True)
    assert job.run == core.purge_due_communities


async def test_retention_purges_only_the_communities_of_this_process_shards(db: Database) -> None:
    mine, theirs = (1 << 22) | 5, (2 << 22) | 5  # shards 1 and 0 of 2
    guilds = GuildRepository(db)
    for guild_id in (mine, theirs):
        await guilds.ensure(guild_id)
        await _left(db, guild_id, 31)
    core = Lifecycle(db, FeatureRegistry(), guilds, lambda: (), Shards.of(2, [1]))
    assert await core.purge_due_communities() == [mine]
    assert await count(db, "guilds", theirs) == 1  # left to the process running shard 0
