"""End to end through the emulator: the real bot answering `/stance` commands."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from matplotlib.collections import PathCollection

from bot.charts import PNG_MAGIC
from bot.debates.poll import PollSpec
from bot.debates.records import PollKind
from bot.repositories.debates import DebateRepository
from bot.repositories.guilds import community_tables
from bot.repositories.observations import ObservationRepository
from bot.repositories.polls import PollRepository
from bot.repositories.stances import StanceRepository
from bot.stance_scale import Side, Stance
from bot.stances.map_chart import dot_sizes, render_opinion_map
from bot.stances.opinion_map import build_opinion_map
from cogs.stances.embeds import position_text
from cogs.stances.service import ANSWERS_AT_ONCE
from tests.debates.records import manual_debate
from tests.emulator import EmulatedInteraction
from tests.figures import drawn
from tests.harness import AgoraHarness, message_text, response_text
from tests.stances.test_charts import check_map


async def deferred(agora: AgoraHarness, interaction: EmulatedInteraction) -> dict[str, Any]:
    """The follow-up that replaces a deferred "thinking" response."""
    return await interaction.wait_followup(timeout=20)


def repo(agora: AgoraHarness) -> StanceRepository:
    return StanceRepository(agora.running_bot.db)


async def press(
    agora: AgoraHarness, user: int, message: dict[str, Any] | None, custom_id: str
) -> EmulatedInteraction:
    """Click the button ``custom_id`` of ``message`` (in the first community) and wait for
    the bot's answer."""
    assert message is not None
    clicked = await agora.emu.click(agora.guild.id, user, message["id"], custom_id)
    await clicked.response(timeout=10)
    return clicked


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


def as_posted_before(message: dict[str, Any]) -> list[str]:
    """Rewrite the buttons of a message the bot just posted (``agora:stances:<kind>:…``) to the
    custom ids the version before the one-scheme components posted (``stance:<kind>:…``): a
    message already in a channel when the bot is upgraded. Returns those old ids."""
    old = []
    for row in message["components"]:
        for component in row["components"]:
            assert component["custom_id"].startswith("agora:stances:"), component
            component["custom_id"] = component["custom_id"].replace("agora:stances:", "stance:")
            old.append(component["custom_id"])
    return old


async def test_set_then_me_is_ephemeral_with_a_chart(agora: AgoraHarness) -> None:
    done = await agora.slash("stance set", {"position": 1})
    assert done.ephemeral and "Lean share (+1)" in response_text(done)
    topic = await agora.slash("stance set", {"position": -2, "topic": "open-weights-build-trust"})
    assert "topic `open-weights-build-trust`" in response_text(topic)

    me = await agora.slash("stance me")
    assert me.ephemeral
    message = await deferred(agora, me)
    text = message_text(message)
    assert "Lean share (+1)" in text and "your declaration" in text
    assert "Visibility: private" in text
    assert "Strongly safeguard (-2)" in text  # the topic position
    assert message["attachments"][0]["filename"] == "stance-history.png"
    assert agora.emu.attachment_bytes(message).startswith(PNG_MAGIC)


async def test_me_says_which_debate_formed_the_position(agora: AgoraHarness) -> None:
    await ObservationRepository(agora.running_bot.db).record(
        agora.guild.id, agora.member, Stance.STRONGLY_SHARE, "debate:12"
    )
    message = await deferred(agora, await agora.slash("stance me"))
    assert "your vote in debate #12" in message_text(message)


async def test_members_asking_at_once_each_get_their_own_answer(agora: AgoraHarness) -> None:
    # More members than answers worked on at once, asking together: the community's counts
    # are read once for them all, and every member still gets their own profile and chart.
    observations = ObservationRepository(agora.running_bot.db)
    members = {agora.emu.add_member(agora.guild.id, f"asker{n}"): n % 5 - 2 for n in range(10)}
    assert len(members) > ANSWERS_AT_ONCE
    for member, value in members.items():
        await observations.record(agora.guild.id, member, Stance(value), "declared")
    asked = await asyncio.gather(*(agora.slash("stance me", user=m) for m in members))
    answers = await asyncio.gather(*(deferred(agora, one) for one in asked))
    for (member, value), answer in zip(members.items(), answers, strict=True):
        assert f"**{position_text(value)}**" in message_text(answer), member
        assert agora.emu.attachment_bytes(answer).startswith(PNG_MAGIC)
    # Every position is held by two members: each answer compares with the same community.
    compared = {message_text(a).count("community mean") for a in answers}
    assert len(compared) == 1


async def test_me_does_not_compare_when_the_community_view_withholds(agora: AgoraHarness) -> None:
    observations = ObservationRepository(agora.running_bot.db)
    await observations.record(agora.guild.id, agora.member, Stance(2), "declared")
    for index, value in enumerate([1, -1, -2]):  # every position held by one member
        member = agora.emu.add_member(agora.guild.id, f"peer{index}")
        await observations.record(agora.guild.id, member, Stance(value), "declared")
    message = await deferred(agora, await agora.slash("stance me"))
    text = message_text(message)
    assert "without singling anyone out" in text
    assert "community mean" not in text and "%" not in text


async def test_bad_inputs_are_refused(agora: AgoraHarness) -> None:
    unknown = await agora.slash("stance set", {"position": 1, "topic": "no-such-topic"})
    assert unknown.ephemeral and "not a topic of the bank" in response_text(unknown)
    period = await agora.slash("stance community", {"period": "forever"})
    assert period.ephemeral and "don't understand the period" in response_text(period)
    topic = await agora.slash("stance community", {"topic": "no-such-topic"})
    assert topic.ephemeral and "not a topic of the bank" in response_text(topic)
    short = await agora.slash("stance statement add", {"text": "too short"})
    assert short.ephemeral and "too short" in response_text(short)
    long = await agora.slash("stance statement add", {"text": "x" * 201})
    assert "too long (201 characters)" in response_text(long)
    no_map = await agora.slash("stance map")
    assert no_map.ephemeral and "no statements yet" in response_text(no_map)
    missing = await agora.slash("stance statement remove", {"statement": 9}, user=agora.manager)
    assert "no statement #9" in response_text(missing)
    assert await repo(agora).known_members(agora.guild.id) == 0  # nothing was recorded


async def test_topic_autocomplete(agora: AgoraHarness) -> None:
    asked = await agora.emu.autocomplete(
        agora.guild.id, agora.member, "stance set", {"position": 1, "topic": "open weights"}
    )
    choices = await asked.wait_choices()
    assert 1 <= len(choices) <= 25
    assert "open-weights-build-trust" in [c["value"] for c in choices]


async def test_visibility_rules(agora: AgoraHarness) -> None:
    other = agora.emu.add_member(agora.guild.id, "curious")
    await agora.slash("stance set", {"position": 2})
    hidden = await agora.slash("stance user", {"member": agora.member}, user=other)
    assert hidden.ephemeral
    assert "keeps their stance private" in response_text(hidden)
    assert "Strongly share" not in response_text(hidden)
    assert not (hidden.message or {}).get("mentions")  # the mention does not ping

    public = await agora.slash("stance visibility", {"visibility": "public"})
    assert public.ephemeral and "public" in response_text(public)
    shown = await agora.slash("stance user", {"member": agora.member}, user=other)
    assert "**Strongly share (+2)**, declared" in response_text(shown)

    await agora.slash("stance visibility", {"visibility": "private"})
    again = await agora.slash("stance user", {"member": agora.member}, user=other)
    assert "keeps their stance private" in response_text(again)
    # Public in one community says nothing about another.
    assert (await repo(agora).get_visibility(agora.guilds[1].id, agora.member)).value == "private"


async def test_community_chart_suppresses_small_buckets(agora: AgoraHarness) -> None:
    observations = ObservationRepository(agora.running_bot.db)
    now = datetime.now(UTC)
    plan = [2] * 6 + [1] + [0] * 4 + [-2] * 3  # +1 is held by one member only
    for index, value in enumerate(plan):
        member = agora.emu.add_member(agora.guild.id, f"voter{index}")
        await observations.record(
            agora.guild.id, member, Stance(value), "declared", at=now - timedelta(days=index % 5)
        )
    interaction = await agora.slash("stance community", {"period": "7d"})
    assert not interaction.ephemeral
    message = await deferred(agora, interaction)
    text = message_text(message)
    assert "Strongly share (+2): **6**" in text
    assert "Lean share (+1): **<3**" in text
    assert "Undecided (0): **4**" in text
    assert "Strongly safeguard (-2): **hidden**" in text  # so the lone +1 is not derivable
    assert "Members with a position: 14" in text
    assert "Mean: +0.5" in text
    assert "Polarisation (0–1): 0." in text
    assert "Trend over 7d" in text
    assert "Lean share (+1): **1**" not in text
    assert message["attachments"][0]["filename"] == "community.png"
    assert agora.emu.attachment_bytes(message).startswith(PNG_MAGIC)


async def test_tiny_community_withholds_figures(agora: AgoraHarness) -> None:
    await agora.slash("stance set", {"position": 2})
    message = await deferred(agora, await agora.slash("stance community"))
    text = message_text(message)
    assert "Strongly share (+2): **<3**" in text
    assert "Members with a position: fewer than 10" in text
    assert "Mean: withheld" in text and "+2.0" not in text


async def test_statements_dealt_voted_and_mapped(
    agora: AgoraHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [f"Statement number {n} about openness." for n in range(1, 9)]
    for text in texts:
        added = await agora.slash("stance statement add", {"text": text})
        assert added.ephemeral and "added" in response_text(added)
    # A statement with a mention is stored as text and never pings.
    pinged = await agora.slash("stance statement add", {"text": "Hello @everyone and <@1>!!"})
    assert "#9" in response_text(pinged)
    assert not (pinged.message or {}).get("mention_everyone")

    members = [agora.emu.add_member(agora.guild.id, f"m{n}") for n in range(8)]
    for index, member in enumerate(members):
        dealt = await agora.slash("stance vote", user=member)
        assert dealt.ephemeral
        for _ in range(9):
            message = dealt.message
            assert message is not None
            statement = int(message["embeds"][0]["title"].split("#")[1])
            vote = "agree" if (statement % 2 == 0) == (index < 4) else "disagree"
            button = f"agora:stances:vote:{await _statement_id(agora, statement)}:{vote}"
            dealt = await press(agora, member, message, button)
        final = message_text(dealt.message or {})
        assert "Nothing left to vote on" in final

    mapped = await agora.slash("stance map")
    message = await deferred(agora, mapped)
    text = message_text(message)
    assert "8 members on the map" in text
    assert "Group A (4 members)" in text and "Group B (4 members)" in text
    assert "Consensus" in text
    assert str(members[0]) not in text  # no member is named
    # The chart of the two camps: what the worker drew is the figure checked here, both groups
    # each with its region and one dot sized by its 4 members, nothing on the border.
    assert "2 shaded regions: group A with 4 members, group B with 4 members" in text
    assert message["attachments"][0]["description"].startswith("Map of 8 members")
    active = await repo(agora).active_statements(agora.guild.id)
    matrix = await repo(agora).vote_matrix(agora.guild.id, active)
    opinion_map = build_opinion_map(matrix.votes, matrix.member_ids, matrix.statement_ids)
    png = agora.emu.attachment_bytes(message)
    assert png.startswith(PNG_MAGIC) and png == render_opinion_map(opinion_map)
    chart = drawn(monkeypatch, render_opinion_map, opinion_map)
    check_map(chart, opinion_map)
    dots = [c for c in chart.axes[0].collections if isinstance(c, PathCollection)]
    assert [c.get_sizes().tolist() for c in dots] == [[float(dot_sizes(np.array([4]))[0])]] * 2


async def _statement_id(agora: AgoraHarness, number: int) -> int:
    found = await repo(agora).statement_by_number(agora.guild.id, number)
    assert found is not None
    return found.id


async def test_statement_removal_is_for_managers(agora: AgoraHarness) -> None:
    await agora.slash("stance statement add", {"text": "A statement to be removed."})
    refused = await agora.slash("stance statement remove", {"statement": 1})
    assert refused.ephemeral and "Manage Server" in response_text(refused)
    asked = await agora.emu.autocomplete(
        agora.guild.id, agora.manager, "stance statement remove", {"statement": "removed"}
    )
    assert [c["value"] for c in await asked.wait_choices()] == [1]
    removed = await agora.slash("stance statement remove", {"statement": 1}, user=agora.manager)
    assert "was removed" in response_text(removed)
    dealt = await agora.slash("stance vote")
    assert "Nothing left to vote on" in response_text(dealt)


async def _member_activity(agora: AgoraHarness) -> tuple[int, int]:
    """The member's activity in every feature: a declared position, a statement (written and
    voted on), public visibility, a poll vote, a debate vote, an argument and an upvote.
    Returns the numbers of the poll and of the debate's poll."""
    await agora.slash("stance set", {"position": -1})
    await agora.slash("stance statement add", {"text": "Exported statement text."})
    dealt = await agora.slash("stance vote")
    assert dealt.message is not None
    statement_id = await _statement_id(agora, 1)
    await press(agora, agora.member, dealt.message, f"agora:stances:vote:{statement_id}:pass")
    await agora.slash("stance visibility", {"visibility": "public"})
    debates = DebateRepository(agora.running_bot.db)
    polls = PollRepository(agora.running_bot.db)
    now = datetime.now(UTC)
    other = agora.emu.add_member(agora.guild.id, "arguer")
    spec = PollSpec(question="Tea or coffee?", options=("tea", "coffee"), max_choices=1)
    poll = await polls.create_poll(agora.guild.id, 1, other, PollKind.CUSTOM, spec, now=now)
    await polls.vote(poll.id, agora.member, lambda _p, _c: frozenset({1}), now=now)
    debate, stance_poll = await manual_debate(
        debates, agora.guild.id, 1, other, "This house believes in exports.", now=now
    )
    await polls.vote(stance_poll.id, agora.member, lambda _p, _c: frozenset({0}), now=now)
    mine = await debates.add_argument(debate.id, agora.member, Side.SAFEGUARD, "Mine.", now=now)
    theirs = await debates.add_argument(debate.id, other, Side.SHARE, "Theirs.", now=now)
    await debates.toggle_upvote(theirs, agora.member, now=now, allowed=lambda _a: None)
    await debates.toggle_upvote(mine, other, now=now, allowed=lambda _a: None)
    return poll.number, stance_poll.number


async def _exported(agora: AgoraHarness) -> dict[str, Any]:
    interaction = await agora.slash("stance export")
    assert interaction.ephemeral
    message = await deferred(agora, interaction)
    assert message["attachments"][0]["filename"] == "stances.json"
    data: dict[str, Any] = json.loads(agora.emu.attachment_bytes(message))
    return data


async def test_export_file_holds_the_members_stance_data(agora: AgoraHarness) -> None:
    await _member_activity(agora)
    data = await _exported(agora)
    assert data["member_id"] == str(agora.member) and data["guild_id"] == str(agora.guild.id)
    assert data["format"] == "agora-stances-export" and data["version"] == 1
    assert data["visibility"] == "public"
    assert [(h["value"], h["source"]) for h in data["history"]] == [
        (-1, "declared"),
        (2, "debate:1"),
    ]
    assert [(d["value"], d["source"]) for d in data["declared_positions"]] == [(-1, "declared")]
    assert data["statement_votes"][0]["vote"] == "pass"
    assert data["statement_votes"][0]["statement"] == "Exported statement text."
    assert data["statements_authored"][0]["number"] == 1


async def test_export_file_holds_the_members_poll_and_debate_data(agora: AgoraHarness) -> None:
    """The debates feature's part of the export (its data hook), merged in at the top level."""
    poll, stance_poll = await _member_activity(agora)
    data = await _exported(agora)
    votes = [(v["poll_number"], v["option_label"], v["debate_number"]) for v in data["poll_votes"]]
    assert votes == [(poll, "coffee", None), (stance_poll, "Strongly share", 1)]
    assert data["poll_votes"][0]["question"] == "Tea or coffee?"
    assert data["poll_votes"][0]["at"].endswith("Z")
    assert [(a["debate_number"], a["side"], a["text"]) for a in data["debate_arguments"]] == [
        (1, "safeguard", "Mine.")
    ]
    assert [(u["debate_number"], u["argument"]) for u in data["argument_upvotes"]] == [
        (1, "Theirs.")
    ]


async def test_forget_after_confirmation(agora: AgoraHarness) -> None:
    await agora.slash("stance set", {"position": 2})
    await agora.slash("stance visibility", {"visibility": "public"})
    asked = await agora.slash("stance forget")
    assert asked.ephemeral and asked.message is not None
    cancel = await press(
        agora, agora.member, asked.message, f"agora:stances:forget:{agora.member}:no"
    )
    assert "Nothing was deleted" in response_text(cancel)
    assert len(await repo(agora).member_observations(agora.guild.id, agora.member)) == 1

    asked = await agora.slash("stance forget")
    assert asked.message is not None
    confirm = await press(
        agora, agora.member, asked.message, f"agora:stances:forget:{agora.member}:yes"
    )
    assert "was deleted" in response_text(confirm)
    assert await repo(agora).member_observations(agora.guild.id, agora.member) == []
    assert (await repo(agora).get_visibility(agora.guild.id, agora.member)).value == "private"


async def test_purge_needs_a_manager_and_a_confirmation(agora: AgoraHarness) -> None:
    await agora.slash("stance set", {"position": 2})
    refused = await agora.slash("stance purge")
    assert refused.ephemeral and "Manage Server" in response_text(refused)

    asked = await agora.slash("stance purge", user=agora.manager)
    assert asked.ephemeral and asked.message is not None
    confirm = await press(
        agora, agora.manager, asked.message, f"agora:stances:purge:{agora.guild.id}:yes"
    )
    assert "Deleted all of this server's Agora data" in response_text(confirm)
    assert await repo(agora).member_observations(agora.guild.id, agora.member) == []


async def test_purge_deletes_every_features_data_even_with_one_unloaded(
    agora: AgoraHarness,
) -> None:
    await _member_activity(agora)
    await agora.running_bot.unload_extension("cogs.debates")
    asked = await agora.slash("stance purge", user=agora.manager)
    assert asked.message is not None
    confirm = await press(
        agora, agora.manager, asked.message, f"agora:stances:purge:{agora.guild.id}:yes"
    )
    assert "Deleted all of this server's Agora data" in response_text(confirm)
    db = agora.running_bot.db
    tables = await community_tables(db)
    assert {"polls", "debates", "stance_observations", "stance_statements"} <= set(tables)
    for table in tables:
        left = await db.fetch_value(
            f'SELECT count(*) FROM "{table}" WHERE guild_id = ?',  # noqa: S608
            (agora.guild.id,),
        )
        assert left == (1 if table == "guilds" else 0), table  # the settings are kept
    assert await db.fetch_value("SELECT count(*) FROM votes") == 0
    assert await db.fetch_value("SELECT count(*) FROM debate_arguments") == 0


async def test_buttons_posted_before_the_one_scheme_keep_working(agora: AgoraHarness) -> None:
    """A statement-vote message and forget and purge confirmations posted by the version
    before `agora:stances:…` (custom ids `stance:vote:<statement>:<vote>`,
    `stance:forget:<member>:<yes|no>`, `stance:purge:<community>:<yes|no>`) still work."""
    guild, member = agora.guild.id, agora.member
    await agora.slash("stance set", {"position": 2})
    await agora.slash("stance statement add", {"text": "Voted on a message posted long ago."})
    statement = await _statement_id(agora, 1)
    dealt = await agora.slash("stance vote")
    assert dealt.message is not None
    assert custom_ids(dealt.message) == [
        f"agora:stances:vote:{statement}:{vote}" for vote in ("agree", "disagree", "pass")
    ]
    assert as_posted_before(dealt.message) == [
        f"stance:vote:{statement}:{vote}" for vote in ("agree", "disagree", "pass")
    ]
    voted = await press(agora, member, dealt.message, f"stance:vote:{statement}:agree")
    assert voted.message is not None
    note = voted.message["embeds"][0]["author"]["name"]
    assert note == "Your vote on #1 was recorded: **agree**."
    assert [(v.statement_id, v.value) for v in await repo(agora).member_votes(guild, member)] == [
        (statement, 1)
    ]

    asked = await agora.slash("stance forget")
    assert asked.message is not None
    assert custom_ids(asked.message) == [
        f"agora:stances:forget:{member}:yes",
        f"agora:stances:forget:{member}:no",
    ]
    as_posted_before(asked.message)
    cancel = await press(agora, member, asked.message, f"stance:forget:{member}:no")
    assert response_text(cancel) == "Nothing was deleted."
    asked = await agora.slash("stance forget")
    assert asked.message is not None
    as_posted_before(asked.message)
    confirm = await press(agora, member, asked.message, f"stance:forget:{member}:yes")
    assert response_text(confirm).startswith(
        "Your stance data in this server was deleted: 1 recorded position(s), 1 statement "
        "vote(s), your visibility choice. 1 statement(s) you wrote keep their text"
    )
    assert await repo(agora).member_observations(guild, member) == []
    assert await repo(agora).member_votes(guild, member) == []

    await agora.slash("stance set", {"position": -1})
    asked = await agora.slash("stance purge", user=agora.manager)
    assert asked.message is not None
    assert custom_ids(asked.message) == [
        f"agora:stances:purge:{guild}:yes",
        f"agora:stances:purge:{guild}:no",
    ]
    as_posted_before(asked.message)
    confirm = await press(agora, agora.manager, asked.message, f"stance:purge:{guild}:yes")
    assert "Deleted all of this server's Agora data" in response_text(confirm)
    assert await repo(agora).member_observations(guild, member) == []
    assert await repo(agora).active_statements(guild) == []


async def test_a_vote_button_with_an_unknown_vote_changes_nothing(agora: AgoraHarness) -> None:
    await agora.slash("stance statement add", {"text": "A statement nobody votes on."})
    statement = await _statement_id(agora, 1)
    for custom_id in (f"stance:vote:{statement}:maybe", f"agora:stances:vote:{statement}:maybe"):
        carrier = agora.emu.user_message(
            agora.guild.general_id,
            agora.member,
            "a message carrying a forged custom id",
            components=[
                {
                    "type": 1,
                    "components": [{"type": 2, "style": 2, "label": "?", "custom_id": custom_id}],
                }
            ],
        )
        click = await press(agora, agora.member, carrier, custom_id)
        assert click.ephemeral
        assert "out of date" in response_text(click)
    assert await repo(agora).member_votes(agora.guild.id, agora.member) == []


async def test_retention_purges_communities_left_long_ago(agora: AgoraHarness) -> None:
    bot = agora.running_bot
    observations = ObservationRepository(bot.db)
    gone, kept = 990_001, 990_002
    for guild in (gone, kept):
        await bot.guild_repo.ensure(guild)
        await bot.guild_repo.mark_left(guild)
        await observations.record(guild, agora.member, Stance.LEAN_SHARE, "declared")
    await observations.record(agora.guild.id, agora.member, Stance.LEAN_SHARE, "declared")
    await bot.db.execute(
        "UPDATE guilds SET left_at = ? WHERE guild_id = ?",
        ((datetime.now(UTC) - timedelta(days=31)).isoformat(), gone),
    )
    assert await bot.lifecycle.purge_due_communities() == [gone]
    assert await bot.db.fetch_value("SELECT count(*) FROM guilds WHERE guild_id = ?", (gone,)) == 0
    assert await repo(agora).member_observations(gone, agora.member) == []
    assert len(await repo(agora).member_observations(kept, agora.member)) == 1
    assert len(await repo(agora).member_observations(agora.guild.id, agora.member)) == 1
    # The core runs the same purge as a background job, whichever features are loaded.
    await agora.wait_for(lambda: bot.jobs.status["retention"].runs >= 1)
    assert bot.jobs.status["retention"].failures == 0


@pytest.mark.parametrize("command", ["stance me", "stance export", "stance vote"])
async def test_personal_replies_are_ephemeral(agora: AgoraHarness, command: str) -> None:
    interaction = await agora.slash(command)
    assert interaction.ephemeral
    if command != "stance vote":  # deferred: let the command finish before the bot stops
        await deferred(agora, interaction)
