"""Storage tests of the debates repository on a real SQLite file with migrations applied."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from bot.community import GuildSettings
from bot.database import Database
from bot.debates.arguments import Argument, can_upvote
from bot.debates.debate import STANCE_OPTIONS
from bot.debates.errors import ArgumentNotFound, DebateEnded, PollNotFound
from bot.debates.oxford import Phase
from bot.debates.poll import PollSpec, apply_vote
from bot.debates.records import DebateFormat, DebateRecord, DebateSource, PollKind, PollRecord
from bot.debates.tally import Tally
from bot.errors import UserFacingError
from bot.repositories.debates import DebateRepository
from bot.repositories.guilds import GuildRepository
from bot.repositories.polls import PollRepository, VoteWrite, cast_votes
from bot.stance_scale import Side, Stance
from bot.writer import Outcome, run_writes
from tests.debates.records import manual_debate

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
GUILD = 10
CHANNEL = 20


def toggle(option: int):
    def decide(poll: PollRecord, current: frozenset[int]) -> frozenset[int]:
        if poll.closed:
            raise UserFacingError("closed")
        return apply_vote(current, option, poll.max_choices)

    return decide


def spec(options: tuple[str, ...] = ("a", "b", "c"), max_choices: int = 1) -> PollSpec:
    return PollSpec(
        question="Q?", options=options, max_choices=max_choices, deadline=NOW + timedelta(hours=1)
    )


async def test_poll_numbers_are_per_community(db: Database) -> None:
    repo = PollRepository(db)
    first = await repo.create_poll(GUILD, CHANNEL, 1, PollKind.CUSTOM, spec(), now=NOW)
    second = await repo.create_poll(GUILD, CHANNEL, 1, PollKind.CUSTOM, spec(), now=NOW)
    other = await repo.create_poll(GUILD + 1, CHANNEL, 1, PollKind.CUSTOM, spec(), now=NOW)
    assert (first.number, second.number, other.number) == (1, 2, 1)
    found = await repo.poll_by_number(GUILD, 2)
    assert found is not None and found.id == second.id and found.options == ("a", "b", "c")
    assert [p.number for p in await repo.search_polls(GUILD, "", 25)] == [2, 1]
    assert [p.number for p in await repo.search_polls(GUILD, "2", 25)] == [2]


async def test_vote_change_withdraw_and_multiple(db: Database) -> None:
    repo = PollRepository(db)
    poll = await repo.create_poll(GUILD, CHANNEL, 1, PollKind.CUSTOM, spec(), now=NOW)
    change = await repo.vote(poll.id, 5, toggle(0), now=NOW)
    assert change.before == frozenset() and change.after == {0}
    change = await repo.vote(poll.id, 5, toggle(2), now=NOW)
    assert change.after == {2}
    assert await repo.votes(poll.id) == [(5, 2)]
    await repo.vote(poll.id, 5, toggle(2), now=NOW)
    assert await repo.votes(poll.id) == []

    multi = await repo.create_poll(GUILD, CHANNEL, 1, PollKind.CUSTOM, spec(max_choices=2), now=NOW)
    await repo.vote(multi.id, 5, toggle(0), now=NOW)
    await repo.vote(multi.id, 5, toggle(1), now=NOW)
    with pytest.raises(UserFacingError):
        await repo.vote(multi.id, 5, toggle(2), now=NOW)
    assert await repo.votes(multi.id) == [(5, 0), (5, 1)]


async def test_concurrent_votes_are_all_counted_once(db: Database) -> None:
    repo = PollRepository(db)
    poll = await repo.create_poll(GUILD, CHANNEL, 1, PollKind.CUSTOM, spec(), now=NOW)
    members = range(100, 160)
    await asyncio.gather(*(repo.vote(poll.id, m, toggle(m % 3), now=NOW) for m in members))
    # The same member clicking the same option twice at once: one toggles on, one off.
    await asyncio.gather(
        repo.vote(poll.id, 999, toggle(1), now=NOW), repo.vote(poll.id, 999, toggle(1), now=NOW)
    )
    votes = await repo.votes(poll.id)
    assert sorted(votes) == sorted((m, m % 3) for m in members)


async def test_a_burst_of_votes_is_one_batch_with_refusals_alone_and_tally_as_recount(
    db: Database,
) -> None:
    """50 members at once, in one batch of the writer: the refused ones (a role missing, a
    move past the choice limit) refuse only themselves; every acknowledged vote is stored once
    and the tally equals a recount of what was acknowledged."""
    repo = PollRepository(db)
    poll = await repo.create_poll(GUILD, CHANNEL, 1, PollKind.CUSTOM, spec(max_choices=2), now=NOW)
    members = list(range(100, 150))
    refused = {m for m in members if m % 7 == 0}

    def choose(member: int, option: int):
        def decide(poll: PollRecord, current: frozenset[int]) -> frozenset[int]:
            if member in refused:
                raise UserFacingError("This poll is for members with a role you don't have.")
            return apply_vote(current, option, poll.max_choices)

        return decide

    batches = db.writer.batches
    outcomes = await asyncio.gather(
        *(repo.vote(poll.id, m, choose(m, m % 3), now=NOW) for m in members),
        return_exceptions=True,
    )
    assert db.writer.batches == batches + 1
    acknowledged: dict[int, frozenset[int]] = {}
    for member, outcome in zip(members, outcomes, strict=True):
        if member in refused:
            assert isinstance(outcome, UserFacingError)
        else:
            assert not isinstance(outcome, BaseException) and outcome.after == {member % 3}
            acknowledged[member] = outcome.after
    # A second burst in the same batch: add a choice, and one past the limit of two.
    second = await asyncio.gather(
        repo.vote(poll.id, 101, choose(101, 0), now=NOW),  # 101 held {2}: now {0, 2}
        repo.vote(poll.id, 101, choose(101, 1), now=NOW),  # a third choice: refused
        repo.vote(poll.id, 102, choose(102, 0), now=NOW),  # 102 held {0}: withdrawn
        return_exceptions=True,
    )
    assert isinstance(second[1], UserFacingError)
    acknowledged[101] = frozenset({0, 2})
    del acknowledged[102]
    votes = await repo.votes(poll.id)
    assert len(votes) == len(set(votes))  # nothing stored twice
    assert sorted(votes) == sorted((m, o) for m, chosen in acknowledged.items() for o in chosen)
    recount = Tally.from_votes(
        [(m, o) for m, chosen in acknowledged.items() for o in chosen], len(poll.options)
    )
    assert Tally.from_votes(votes, len(poll.options)) == recount


async def test_closed_poll_refuses_votes_in_the_vote_transaction(db: Database) -> None:
    repo = PollRepository(db)
    poll = await repo.create_poll(GUILD, CHANNEL, 1, PollKind.CUSTOM, spec(), now=NOW)
    assert await repo.close_poll(poll.id, now=NOW)
    assert not await repo.close_poll(poll.id, now=NOW)
    with pytest.raises(UserFacingError):
        await repo.vote(poll.id, 5, toggle(0), now=NOW)
    assert await repo.votes(poll.id) == []
    with pytest.raises(PollNotFound):
        await repo.vote(poll.id + 1, 5, toggle(0), now=NOW)
    assert [p.id for p in await repo.unposted_polls()] == [poll.id]
    await repo.set_poll_result_message(poll.id, 77)
    assert await repo.unposted_polls() == []


async def test_due_polls(db: Database) -> None:
    repo = PollRepository(db)
    poll = await repo.create_poll(GUILD, CHANNEL, 1, PollKind.CUSTOM, spec(), now=NOW)
    assert await repo.due_polls(NOW) == []
    assert [p.id for p in await repo.due_polls(NOW + timedelta(hours=2))] == [poll.id]


async def test_native_votes(db: Database) -> None:
    repo = PollRepository(db)
    poll = await repo.create_poll(GUILD, CHANNEL, 1, PollKind.NATIVE, spec(), now=NOW)
    await repo.set_poll_message(poll.id, 555)
    assert await repo.native_vote(555, 7, 1, add=True, now=NOW)
    assert not await repo.native_vote(555, 7, 1, add=True, now=NOW)
    assert not await repo.native_vote(555, 7, 9, add=True, now=NOW)
    assert not await repo.native_vote(556, 7, 1, add=True, now=NOW)
    assert await repo.votes(poll.id) == [(7, 1)]
    assert await repo.native_vote(555, 7, 1, add=False, now=NOW)
    assert await repo.votes(poll.id) == []


async def oxford_debate(
    repo: DebateRepository, motion: str, topic: str | None = None
) -> tuple[DebateRecord, PollRecord]:
    """An Oxford debate started by hand by member 1 in ``CHANNEL`` of ``GUILD`` at ``NOW``."""
    return await manual_debate(
        repo, GUILD, CHANNEL, 1, motion, now=NOW, format=DebateFormat.OXFORD, topic=topic
    )


async def test_debate_votes_are_stance_observations(db: Database) -> None:
    repo = DebateRepository(db)
    polls = PollRepository(db)
    debate, poll = await oxford_debate(repo, "This house believes X.", "open-weights-build-trust")
    assert debate.number == 1 and debate.phase is Phase.PRE_VOTE and debate.pre_poll_id == poll.id
    assert debate.format is DebateFormat.OXFORD and debate.source is DebateSource.MANUAL
    assert poll.options == STANCE_OPTIONS and poll.kind is PollKind.DEBATE
    await polls.vote(poll.id, 5, toggle(0), now=NOW)  # strongly share
    await polls.vote(poll.id, 5, toggle(3), now=NOW)  # lean safeguard
    rows = await db.fetch_all(
        "SELECT value, source, topic FROM stance_observations WHERE guild_id = ? "
        "AND member_id = ? ORDER BY observed_at, id",
        (GUILD, 5),
    )
    assert [(r["value"], r["source"], r["topic"]) for r in rows] == [
        (2, f"debate:{debate.number}", "open-weights-build-trust"),
        (-1, f"debate:{debate.number}", "open-weights-build-trust"),
    ]
    assert await polls.stance_votes(poll.id) == {5: Stance.LEAN_SAFEGUARD}


async def test_phase_changes_are_compare_and_set(db: Database) -> None:
    repo = DebateRepository(db)
    polls = PollRepository(db)
    debate, pre = await oxford_debate(repo, "This house believes Y.")
    assert [d.id for d in await repo.due_debates(NOW + timedelta(hours=1, seconds=1))] == [
        debate.id
    ]
    change = await repo.advance_phase(debate.id, Phase.PRE_VOTE, now=NOW)
    assert change is not None and change.debate.phase is Phase.DISCUSSION
    assert await repo.advance_phase(debate.id, Phase.PRE_VOTE, now=NOW) is None
    closed_pre = await polls.get_poll(pre.id)
    assert closed_pre is not None and closed_pre.closed
    change = await repo.advance_phase(debate.id, Phase.DISCUSSION, now=NOW)
    assert change is not None and change.post_poll is not None
    assert change.debate.post_poll_id == change.post_poll.id
    change = await repo.advance_phase(debate.id, Phase.POST_VOTE, now=NOW)
    assert change is not None and change.debate.phase is Phase.RESULT
    post = await polls.get_poll(change.debate.post_poll_id or 0)
    assert post is not None and post.closed
    assert [d.id for d in await repo.unposted_debates()] == [debate.id]


async def test_arguments_and_upvotes(db: Database) -> None:
    repo = DebateRepository(db)
    debate, _ = await manual_debate(repo, GUILD, CHANNEL, 1, "This house believes Z.", now=NOW)
    argument_id = await repo.add_argument(debate.id, 5, Side.SHARE, "Openness helps.", now=NOW)

    def allowed_for(member: int):
        def check(argument: Argument) -> None:
            if not can_upvote(argument, member):
                raise UserFacingError("own")

        return check

    assert await repo.toggle_upvote(argument_id, 6, now=NOW, allowed=allowed_for(6)) == (True, 1)
    results = await asyncio.gather(
        *(repo.toggle_upvote(argument_id, m, now=NOW, allowed=allowed_for(m)) for m in range(7, 17))
    )
    assert all(upvoted for upvoted, _ in results)
    assert await repo.toggle_upvote(argument_id, 6, now=NOW, allowed=allowed_for(6)) == (False, 10)
    with pytest.raises(UserFacingError):
        await repo.toggle_upvote(argument_id, 5, now=NOW, allowed=allowed_for(5))
    (argument,) = await repo.arguments(debate.id)
    assert argument.upvotes == 10 and argument.side is Side.SHARE and argument.id == argument_id
    stored = await repo.get_argument(argument_id)
    assert stored is not None and stored.debate_id == debate.id
    assert stored.argument.upvotes == 10 and stored.message_id is None
    with pytest.raises(ArgumentNotFound):
        await repo.toggle_upvote(argument_id + 1, 6, now=NOW, allowed=allowed_for(6))
    await repo.advance_phase(debate.id, Phase.PRE_VOTE, now=NOW)
    with pytest.raises(DebateEnded):
        await repo.add_argument(debate.id, 5, Side.SAFEGUARD, "Too late now.", now=NOW)
    with pytest.raises(DebateEnded):
        await repo.toggle_upvote(argument_id, 6, now=NOW, allowed=allowed_for(6))
    with pytest.raises(DebateEnded):
        await repo.add_argument(debate.id + 1, 5, Side.SAFEGUARD, "No such debate.", now=NOW)


async def test_weekly_slot_claimed_once(db: Database) -> None:
    repo = DebateRepository(db)
    assert await repo.last_weekly_slot(GUILD) is None
    results = await asyncio.gather(*(repo.claim_weekly_slot(GUILD, NOW) for _ in range(5)))
    assert results.count(True) == 1
    assert await repo.last_weekly_slot(GUILD) == NOW
    assert not await repo.claim_weekly_slot(GUILD, NOW - timedelta(days=7))
    assert await repo.claim_weekly_slot(GUILD, NOW + timedelta(days=7))


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_votes_run_together_give_what_votes_run_one_by_one_give(
    db: Database, seed: int
) -> None:
    """The writer runs votes waiting together as one ``cast_votes`` (a few statements): on
    random votes (repeated members, refusals, a closed poll, a missing poll, multi-choice and
    a debate's stance vote) it gives the outcomes and the stored rows of ``cast_vote`` run one
    by one, each in its own savepoint."""
    rng = random.Random(seed)
    polls = PollRepository(db)
    debates = DebateRepository(db)

    async def some_polls(topic: str) -> list[PollRecord]:
        made = [
            await polls.create_poll(GUILD, CHANNEL, 1, PollKind.CUSTOM, spec(), now=NOW),
            await polls.create_poll(
                GUILD, CHANNEL, 1, PollKind.CUSTOM, spec(("a", "b", "c", "d"), 2), now=NOW
            ),
            await polls.create_poll(GUILD, CHANNEL, 1, PollKind.CUSTOM, spec(), now=NOW),
            (await manual_debate(debates, GUILD, CHANNEL, 1, "M?", now=NOW, topic=topic))[1],
        ]
        await polls.close_poll(made[2].id, now=NOW)
        return made

    grouped, alone = await some_polls("open-weights"), await some_polls("open-weights")
    plan = []
    for n in range(120):
        index = rng.randrange(5)  # 4: a poll that does not exist
        plan.append((index, rng.randrange(8), rng.randrange(5), n))

    def writes(made: list[PollRecord]) -> list[VoteWrite]:
        return [
            VoteWrite(
                made[index].id if index < 4 else 10**9,
                1000 + member,
                toggle(option % (5 if index == 3 else 4)) if option < 4 else refuse,
                NOW + timedelta(seconds=n),
            )
            for index, member, option, n in plan
        ]

    def refuse(poll: PollRecord, current: frozenset[int]) -> frozenset[int]:
        raise UserFacingError("no")

    together = await db.write(lambda tx: cast_votes(tx, writes(grouped)))
    one_by_one = await db.write(
        lambda tx: run_writes(tx, [partial(write) for write in writes(alone)])[0]
    )

    def shown(outcome: Outcome[Any]) -> object:
        if outcome.error is not None:
            return type(outcome.error).__name__
        assert outcome.value is not None
        return (outcome.value.poll.number, outcome.value.before, outcome.value.after)

    assert len(together) == len(one_by_one) == len(plan)
    assert [shown(o) for o in together] != [shown(o) for o in one_by_one]  # numbers differ
    numbers = {p.number: n for n, p in enumerate(grouped)} | {
        p.number: n for n, p in enumerate(alone)
    }

    def same(outcome: Outcome[Any]) -> object:
        value = shown(outcome)
        return value if isinstance(value, str) else (numbers[value[0]], *value[1:])  # type: ignore[index]

    assert [same(o) for o in together] == [same(o) for o in one_by_one]
    assert {type(o.error) for o in together if o.error} >= {PollNotFound, UserFacingError}

    async def rows(made: list[PollRecord]) -> tuple[list[tuple], list[tuple]]:
        ids = {p.id: n for n, p in enumerate(made)}
        votes = [
            row
            for row in await db.fetch_all("SELECT poll_id, member_id, option, voted_at FROM votes")
            if row[0] in ids
        ]
        debate = made[3].debate_id
        number = await db.fetch_value("SELECT number FROM debates WHERE id = ?", (debate,))
        observations = await db.fetch_all(
            "SELECT member_id, topic, value, observed_at FROM stance_observations "
            "WHERE source = ? ORDER BY id",
            (f"debate:{number}",),
        )
        return (
            sorted((ids[r[0]], int(r[1]), int(r[2]), float(r[3])) for r in votes),
            [tuple(r) for r in observations],
        )

    expected = await rows(alone)
    assert expected[0] and expected[1]  # votes and stance observations were stored
    assert await rows(grouped) == expected


async def test_communities_with_a_weekly_debate_come_in_one_query(db: Database) -> None:
    """The debates job reads the settings of the communities whose weekly debate may be on in
    one query: the ones stored with it off, and those without settings, are left out; a row
    written some other way (spaces in its JSON) is still read, and its schedule decides."""
    guilds = GuildRepository(db)
    for guild_id in (1, 2, 3, 4, 5):
        await guilds.ensure(guild_id)  # no settings stored: the defaults, off
    await guilds.save_settings(2, GuildSettings(weekly_debate="Friday 18:30", debate_channel=9))
    await guilds.save_settings(3, GuildSettings(retention_days=7))  # off
    await guilds.save_settings(4, GuildSettings(weekly_debate="tue 10:00"))
    await db.execute(
        "UPDATE guilds SET settings = ? WHERE guild_id = 5",
        ('{"weekly_debate": "off", "retention_days": 9}',),
    )
    found = await guilds.with_weekly_debate()
    assert set(found) == {2, 4, 5}
    assert found[2].weekly_debate == "fri 18:30" and found[2].debate_channel == 9
    assert found[5].weekly_debate == "off" and found[5].retention_days == 9
