"""The debates feature's data hooks on a real SQLite file with migrations applied: a member's
export, forgetting a member, purging a community."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.database import Database
from bot.debates.poll import PollSpec
from bot.debates.records import Decide, PollKind
from bot.debates.tally import Tally
from bot.features import Feature, FeatureRegistry
from bot.lifecycle import Lifecycle
from bot.repositories.debates import DebateRepository
from bot.repositories.debates_data import FORMER_MEMBER, DebatesData
from bot.repositories.guilds import GuildRepository
from bot.repositories.polls import PollRepository
from bot.stance_scale import Side
from tests.debates.records import manual_debate

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
GUILD, OTHER_GUILD = 10, 11
CHANNEL = 20
MEMBER, OTHER = 5, 6
#: The export of a member without any poll or debate activity.
NOTHING: dict[str, list[object]] = {
    "poll_votes": [],
    "debate_arguments": [],
    "argument_upvotes": [],
}


def choose(option: int) -> Decide:
    return lambda _poll, _current: frozenset({option})


@dataclass
class Activity:
    open_poll: int
    closed_poll: int
    stance_poll: int
    debate: int
    mine: int
    theirs: int


async def activity(db: Database, guild_id: int = GUILD) -> Activity:
    """In ``guild_id``: MEMBER started an open poll, voted in it and in another member's
    poll (closed afterwards), voted in a debate, posted an argument and upvoted another."""
    polls, debates = PollRepository(db), DebateRepository(db)
    spec = PollSpec(question="Tea or coffee?", options=("tea", "coffee"), max_choices=1)
    open_poll = await polls.create_poll(guild_id, CHANNEL, MEMBER, PollKind.CUSTOM, spec, now=NOW)
    closed_poll = await polls.create_poll(guild_id, CHANNEL, OTHER, PollKind.CUSTOM, spec, now=NOW)
    for poll in (open_poll, closed_poll):
        await polls.vote(poll.id, MEMBER, choose(1), now=NOW)
        await polls.vote(poll.id, OTHER, choose(0), now=NOW + timedelta(seconds=1))
    await polls.close_poll(closed_poll.id, now=NOW + timedelta(minutes=1))
    debate, stance_poll = await manual_debate(
        debates, guild_id, CHANNEL, OTHER, "This house believes in exports.", now=NOW
    )
    await polls.vote(stance_poll.id, MEMBER, choose(0), now=NOW + timedelta(seconds=2))
    mine = await debates.add_argument(debate.id, MEMBER, Side.SAFEGUARD, "Mine.", now=NOW)
    theirs = await debates.add_argument(debate.id, OTHER, Side.SHARE, "Theirs.", now=NOW)
    at = NOW + timedelta(seconds=3)
    await debates.toggle_upvote(theirs, MEMBER, now=at, allowed=lambda _a: None)
    await debates.toggle_upvote(mine, OTHER, now=at, allowed=lambda _a: None)
    return Activity(open_poll.id, closed_poll.id, stance_poll.id, debate.id, mine, theirs)


async def test_export_lists_the_members_votes_arguments_and_upvotes(db: Database) -> None:
    await activity(db)
    await activity(db, OTHER_GUILD)  # another community's data is not in this export
    exported = await DebatesData().export_member(db, GUILD, MEMBER)
    coffee = {
        "kind": "custom",
        "question": "Tea or coffee?",
        "debate_number": None,
        "option": 1,
        "option_label": "coffee",
        "at": "2026-03-02T12:00:00Z",
    }
    assert exported == {
        "poll_votes": [
            {"poll_number": 1, **coffee},
            {"poll_number": 2, **coffee},
            {
                "poll_number": 3,
                "kind": "debate",
                "question": "This house believes in exports.",
                "debate_number": 1,
                "option": 0,
                "option_label": "Strongly share",
                "at": "2026-03-02T12:00:02Z",
            },
        ],
        "debate_arguments": [
            {"debate_number": 1, "side": "safeguard", "text": "Mine.", "at": "2026-03-02T12:00:00Z"}
        ],
        "argument_upvotes": [
            {"debate_number": 1, "argument": "Theirs.", "at": "2026-03-02T12:00:03Z"}
        ],
    }
    assert [list(vote) for vote in exported["poll_votes"]] == [
        ["poll_number", "kind", "question", "debate_number", "option", "option_label", "at"]
    ] * 3  # the export file's key order
    assert await DebatesData().export_member(db, GUILD, 999) == NOTHING


async def test_forget_keeps_closed_results_and_removes_the_member(db: Database) -> None:
    done = await activity(db)
    elsewhere = await activity(db, OTHER_GUILD)
    polls, debates = PollRepository(db), DebateRepository(db)
    closed_before = Tally.from_votes(await polls.votes(done.closed_poll), 2)
    async with db.transaction() as tx:
        changed = await DebatesData().forget_member(tx, GUILD, MEMBER)
    # 2 open-poll votes deleted (poll and debate), 1 closed vote pseudonymised, 1 upvote
    # deleted, 1 argument and 1 poll without their member.
    assert changed == 6
    assert await polls.votes(done.open_poll) == [(OTHER, 0)]
    assert await polls.votes(done.stance_poll) == []
    closed_votes = await polls.votes(done.closed_poll)
    assert MEMBER not in {v.member_id for v in closed_votes}
    assert min(v.member_id for v in closed_votes) < 0  # a pseudonym
    assert Tally.from_votes(closed_votes, 2) == closed_before  # totals and turnout stay
    arguments = {a.id: a for a in await debates.arguments(done.debate)}
    assert arguments[done.mine].author == FORMER_MEMBER and arguments[done.mine].text == "Mine."
    assert arguments[done.mine].upvotes == 1  # the other member's upvote stays
    assert arguments[done.theirs].upvotes == 0  # the member's upvote is gone
    open_poll = await polls.get_poll(done.open_poll)
    assert open_poll is not None and open_poll.creator_id == FORMER_MEMBER
    assert await DebatesData().export_member(db, GUILD, MEMBER) == NOTHING
    # The same member in another community is untouched.
    assert len((await DebatesData().export_member(db, OTHER_GUILD, MEMBER))["poll_votes"]) == 3
    untouched = await polls.get_poll(elsewhere.open_poll)
    assert untouched is not None and untouched.creator_id == MEMBER


async def test_forgetting_twice_pseudonymises_each_member_apart(db: Database) -> None:
    done = await activity(db)
    async with db.transaction() as tx:
        await DebatesData().forget_member(tx, GUILD, MEMBER)
        await DebatesData().forget_member(tx, GUILD, OTHER)
    votes = await PollRepository(db).votes(done.closed_poll)
    assert sorted(v.member_id for v in votes) == [-2, -1]


async def test_purge_deletes_every_row_of_the_community_children_first(db: Database) -> None:
    await activity(db)
    await activity(db, OTHER_GUILD)
    debates = DebateRepository(db)
    await debates.claim_weekly_slot(GUILD, NOW)
    await debates.claim_weekly_slot(OTHER_GUILD, NOW)
    counts = (
        "SELECT (SELECT count(*) FROM polls), (SELECT count(*) FROM votes), "
        "(SELECT count(*) FROM debates), (SELECT count(*) FROM debate_arguments), "
        "(SELECT count(*) FROM argument_upvotes), (SELECT count(*) FROM weekly_debate_runs)"
    )
    before = tuple(await db.fetch_one(counts) or ())
    async with db.transaction() as tx:  # foreign keys checked at once: no deferral here
        deleted = await DebatesData().purge_community(tx, GUILD)
    after = tuple(await db.fetch_one(counts) or ())
    assert after == tuple(n // 2 for n in before)  # the other community keeps its half
    assert deleted == sum(before) - sum(after)
    for table in ("polls", "debates", "weekly_debate_runs"):
        left = await db.fetch_value(
            f"SELECT count(*) FROM {table} WHERE guild_id = ?",  # noqa: S608
            (GUILD,),
        )
        assert left == 0, table


async def test_the_core_lifecycle_runs_the_hooks(db: Database) -> None:
    done = await activity(db)
    registry = FeatureRegistry()
    registry.add(Feature(name="debates", data=DebatesData()))
    lifecycle = Lifecycle(db, registry, GuildRepository(db), lambda: ())
    exported = await lifecycle.export_member(GUILD, MEMBER)
    assert len(exported["debates"]["poll_votes"]) == 3
    assert (await lifecycle.forget_member(GUILD, MEMBER))["debates"] == 6
    assert await PollRepository(db).votes(done.open_poll) == [(OTHER, 0)]
    report = await lifecycle.purge_community(GUILD)
    assert report.rows["debates"] > 0
    assert await db.fetch_value("SELECT count(*) FROM polls") == 0
