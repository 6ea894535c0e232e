"""The core's data lifecycle across every feature, end to end: `/stance forget`, `/stance
purge` and the retention job reach the tables of every loaded feature (release subscriptions
included), and keep working when any one feature extension is unloaded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.database import Database
from bot.debates.oxford import oxford_schedule
from bot.debates.poll import PollSpec
from bot.debates.records import DebateFormat, DebateSource, PollKind
from bot.repositories.debates import DebateRepository
from bot.repositories.guilds import community_tables, quote
from bot.repositories.polls import PollRepository
from bot.repositories.release_subscriptions import SubscriptionRepository
from bot.stance_scale import Side
from tests.harness import AgoraHarness, response_text

#: Columns that name a member, whichever feature's table holds them.
MEMBER_COLUMNS = ("member_id", "author_id", "created_by", "creator_id")
#: What each feature extension keeps, by table.
FEATURE_TABLES = {
    "cogs.releases": {"release_subscriptions"},
    "cogs.debates": {"votes", "debate_arguments", "argument_upvotes", "polls", "debates"},
    "cogs.stances": {
        "stance_observations",
        "stance_statements",
        "stance_statement_votes",
        "stance_visibility",
    },
}


async def traces(db: Database, member_id: int) -> dict[str, int]:
    """``{table: rows naming the member}`` over every table of the schema."""
    found: dict[str, int] = {}
    for column in MEMBER_COLUMNS:
        for table in await db.tables_with_column(column):
            rows = await db.fetch_value(
                f"SELECT count(*) FROM {quote(table)} WHERE {quote(column)} = ?",  # noqa: S608
                (member_id,),
            )
            if rows:
                found[table] = found.get(table, 0) + int(rows)
    return found


async def activity(agora: AgoraHarness, guild_id: int, member: int, channel_id: int) -> None:
    """The member's footprint in every feature of one community: a release subscription, a
    poll they started and voted in, a debate vote, an argument, an upvote, a declared stance,
    a statement written and voted on, a visibility choice."""
    db = agora.running_bot.db
    now = datetime.now(UTC)
    other = agora.emu.add_member(guild_id, "someone else")
    await SubscriptionRepository(db).follow(
        guild_id, channel_id, "hf:org", mention_role=None, filter_text="", created_by=member
    )
    polls, debates = PollRepository(db), DebateRepository(db)
    spec = PollSpec(question="Tea or coffee?", options=("tea", "coffee"), max_choices=1)
    poll = await polls.create_poll(guild_id, channel_id, member, PollKind.CUSTOM, spec, now=now)
    await polls.vote(poll.id, member, lambda _p, _c: frozenset({1}), now=now)
    debate, stance_poll = await debates.create_debate(
        guild_id,
        channel_id,
        other,
        format=DebateFormat.QUICK,
        topic=None,
        motion="This house believes in forgetting.",
        source=DebateSource.MANUAL,
        schedule=oxford_schedule(now, timedelta(hours=4)),
        now=now,
    )
    await polls.vote(stance_poll.id, member, lambda _p, _c: frozenset({0}), now=now)
    mine = await debates.add_argument(debate.id, member, Side.SAFEGUARD, "Mine.", now=now)
    theirs = await debates.add_argument(debate.id, other, Side.SHARE, "Theirs.", now=now)
    await debates.toggle_upvote(theirs, member, now=now, allowed=lambda _a: None)
    await debates.toggle_upvote(mine, other, now=now, allowed=lambda _a: None)
    guild = next(g for g in agora.guilds if g.id == guild_id)
    for command, options in (
        ("stance set", {"position": -1}),
        ("stance statement add", {"text": "A statement to be forgotten."}),
        ("stance visibility", {"visibility": "public"}),
    ):
        await agora.slash(command, options, user=member, guild=guild)
    dealt = await agora.slash("stance vote", user=member, guild=guild)
    assert dealt.message is not None
    statement = await db.fetch_value(
        "SELECT id FROM stance_statements WHERE guild_id = ?", (guild_id,)
    )
    clicked = await agora.emu.click(
        guild_id, member, dealt.message["id"], f"agora:stances:vote:{statement}:agree"
    )
    await clicked.response(timeout=10)


@pytest.mark.parametrize("unloaded", [None, "cogs.releases", "cogs.debates"])
async def test_forget_removes_the_member_from_every_loaded_feature(
    agora: AgoraHarness, unloaded: str | None
) -> None:
    member, guild = agora.member, agora.guild
    await activity(agora, guild.id, member, guild.general_id)
    db = agora.running_bot.db
    before = await traces(db, member)
    assert set(before) >= set().union(*FEATURE_TABLES.values()) - {"debates", "argument_upvotes"}
    if unloaded is not None:
        await agora.running_bot.unload_extension(unloaded)

    asked = await agora.slash("stance forget")
    assert asked.message is not None
    confirm = await agora.emu.click(
        guild.id, member, asked.message["id"], f"agora:stances:forget:{member}:yes"
    )
    await confirm.response(timeout=10)
    assert "was deleted" in response_text(confirm)

    left = await traces(db, member)
    kept_by_unloaded = FEATURE_TABLES.get(unloaded or "", set())
    assert set(left) <= kept_by_unloaded, left  # every loaded feature forgot the member
    # Closed results keep their totals: the poll and the debate still exist.
    assert await db.fetch_value("SELECT count(*) FROM polls WHERE guild_id = ?", (guild.id,)) == 2


@pytest.mark.parametrize("unloaded", ["cogs.stances", "cogs.releases", "cogs.debates"])
async def test_retention_purges_every_feature_with_one_unloaded(
    agora: AgoraHarness, unloaded: str
) -> None:
    gone, stays = agora.guilds[0], agora.guilds[1]
    for guild in (gone, stays):
        await activity(agora, guild.id, agora.members[guild.id], guild.general_id)
    bot = agora.running_bot
    await bot.unload_extension(unloaded)
    agora.emu.remove_guild(gone.id)  # the server removes Agora: its retention period starts
    await agora.wait_for(lambda: bot.guild_repo.left_before(gone.id))
    await bot.db.execute(
        "UPDATE guilds SET left_at = ? WHERE guild_id = ?",
        ((datetime.now(UTC) - timedelta(days=31)).isoformat(), gone.id),
    )

    assert await bot.lifecycle.purge_due_communities() == [gone.id]

    for table in await community_tables(bot.db):
        rows = await bot.db.fetch_value(
            f"SELECT count(*) FROM {quote(table)} WHERE guild_id = ?",  # noqa: S608
            (gone.id,),
        )
        assert rows == 0, table
    if bot.db.engine == "sqlite":  # PostgreSQL itself refuses a COMMIT leaving orphaned rows
        assert await bot.db.fetch_all("PRAGMA foreign_key_check") == []
    other = await traces(bot.db, agora.members[stays.id])
    assert set(other) >= {"release_subscriptions", "votes", "stance_observations"}
