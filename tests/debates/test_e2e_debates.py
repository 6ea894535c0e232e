"""Debates end to end: quick and Oxford debates, phases, arguments, upvotes, weekly debates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.charts import PNG_MAGIC
from bot.debates.topics import default_topics
from bot.repositories.debates_data import DebatesData
from cogs.debates.debates import DebateService
from cogs.debates.service import DEADLINE_JOB, DeadlineService
from tests.debates.helpers import (
    ARGUMENT,
    ARGUMENT_FORM,
    UPVOTE,
    VOTE,
    answer,
    channel_messages,
    click,
    custom_ids,
    option_id,
    wait_message,
)
from tests.harness import AgoraHarness, message_text, provided, reply_text, wait_stored

TOPIC = default_topics()[0]


def debate_service(agora: AgoraHarness) -> DebateService:
    return provided(agora.running_bot, DebateService)


async def run_due(agora: AgoraHarness) -> None:
    """One pass of the debates feature's deadline job, now."""
    await provided(agora.running_bot, DeadlineService).run_due()


async def start(agora: AgoraHarness, **options: object) -> dict:
    values: dict[str, object] = {"topic": TOPIC.id}
    values.update(options)
    interaction = await agora.slash("debate start", values)
    assert interaction.message is not None, reply_text(interaction)
    return interaction.message


async def observations(agora: AgoraHarness) -> list[tuple[int, int, str, str | None]]:
    rows = await agora.running_bot.db.fetch_all(
        "SELECT member_id, value, source, topic FROM stance_observations ORDER BY id"
    )
    return [(int(r[0]), int(r[1]), str(r[2]), r[3]) for r in rows]


async def test_quick_debate_vote_close_and_result(agora: AgoraHarness) -> None:
    message = await start(agora)
    assert TOPIC.motion in message_text(message) and "Debate #1" in message_text(message)
    voters = [agora.emu.add_member(agora.guild.id, f"d{n}") for n in range(4)]
    for n, member in enumerate(voters):
        ack = await click(agora, member, message, option_id(message, n % 5))
        assert ack.ephemeral and reply_text(ack).startswith("Your vote: ")
    assert [o[:3] for o in await observations(agora)] == [
        (voters[0], 2, "debate:1"),
        (voters[1], 1, "debate:1"),
        (voters[2], 0, "debate:1"),
        (voters[3], -1, "debate:1"),
    ]
    assert all(o[3] == TOPIC.id for o in await observations(agora))
    refused = await agora.slash("debate close", {"debate": 1}, user=voters[0])
    assert "creator or a manager" in reply_text(refused)
    closed = await agora.slash("debate close", {"debate": 1})
    assert "closed" in await answer(closed)
    result = await wait_message(agora, "Result of debate #1")
    assert "4 voters" in message_text(result) and "mean +0.50" in message_text(result)
    assert agora.emu.attachment_bytes(result).startswith(PNG_MAGIC)
    final = agora.emu.get_message(int(message["id"])) or {}
    assert custom_ids(final) == []


async def test_oxford_debate_from_pre_vote_to_winner(agora: AgoraHarness) -> None:
    message = await start(agora, format="oxford", duration="2h")
    a, b, c, d = (agora.emu.add_member(agora.guild.id, f"o{n}") for n in range(4))
    # Opening vote: 2 share, 1 undecided, 1 safeguard.
    for member, option in ((a, 0), (b, 1), (c, 2), (d, 4)):
        await click(agora, member, message, option_id(message, option))

    moved = await agora.slash("debate next", {"debate": 1})
    assert "discussion" in (await answer(moved)).lower()
    opening = agora.emu.get_message(int(message["id"])) or {}
    assert not any(cid.startswith(VOTE) for cid in custom_ids(opening))
    thread_id = int(
        await agora.running_bot.db.fetch_value("SELECT thread_id FROM debates WHERE id = 1")
    )
    welcome = await wait_message(agora, "Debate #1: discussion", channel_id=thread_id)

    # Arguments: a modal behind a button, posted in the thread, upvoted by others.
    opened = await click(agora, a, welcome, f"{ARGUMENT}1")
    assert opened.modal is not None
    submitted = await agora.emu.submit_modal(
        agora.guild.id,
        a,
        f"{ARGUMENT_FORM}1",
        {"side": ["safeguard"], "text": "Open weights let anyone strip the safety tuning."},
    )
    await submitted.response()
    assert submitted.ephemeral and "posted" in reply_text(submitted)
    argument = await wait_message(agora, "strip the safety tuning", channel_id=thread_id)
    assert "Argument for safeguard" in message_text(argument)
    own = await click(agora, a, argument, f"{UPVOTE}1")
    assert "your own argument" in reply_text(own)
    for member in (b, c):
        up = await click(agora, member, argument, f"{UPVOTE}1")
        assert "You upvoted" in reply_text(up)
    back = await click(agora, c, argument, f"{UPVOTE}1")
    assert "taken back (1 upvotes)" in reply_text(back)
    await click(agora, d, argument, f"{UPVOTE}1")
    await agora.wait_for(
        lambda: (
            "Upvote · 2" in str((agora.emu.get_message(int(argument["id"])) or {})["components"])
        ),
        within=15,
    )
    short = await click(agora, b, welcome, f"{ARGUMENT}1")
    assert short.modal is not None
    too_short = await agora.emu.submit_modal(
        agora.guild.id, b, f"{ARGUMENT_FORM}1", {"side": ["share"], "text": "yes"}
    )
    await too_short.response()
    assert "at least 10 characters" in reply_text(too_short)

    moved = await agora.slash("debate next", {"debate": 1})
    assert "closing vote" in (await answer(moved)).lower()
    closing = await wait_message(agora, "Debate #1: closing vote")
    # Closing vote: c and d move to share (2 changed their mind), b stays, a moves within share.
    for member, option in ((a, 1), (b, 1), (c, 0), (d, 1)):
        ack = await click(agora, member, closing, option_id(closing, option))
        assert reply_text(ack).startswith("Your vote")
    late = await click(agora, a, message, f"{ARGUMENT}1")
    assert late.modal is not None  # arguments stay open until the result

    moved = await agora.slash("debate next", {"debate": 1})
    assert "result" in (await answer(moved)).lower()
    result = await wait_message(agora, "Result of debate #1")
    text = message_text(result)
    assert "Share wins" in text
    assert "Share: 50% → 100%" in text
    assert "2 of 4 who voted twice changed their mind" in text
    assert "Strongest arguments for safeguard" in text and "strip the safety tuning" in text
    assert agora.emu.attachment_bytes(result).startswith(PNG_MAGIC)
    assert custom_ids(agora.emu.get_message(int(closing["id"])) or {}) == []
    ended = await agora.slash("debate next", {"debate": 1})
    assert "already ended" in reply_text(ended)
    assert len(await observations(agora)) == 8


async def test_oxford_phase_deadlines_advance_even_after_downtime(agora: AgoraHarness) -> None:
    message = await start(agora, format="oxford", duration="4h")
    await click(agora, agora.member, message, option_id(message, 4))
    db = agora.running_bot.db
    await db.execute("UPDATE debates SET pre_vote_end = pre_vote_end - 3601 WHERE id = 1")
    await run_due(agora)
    assert await db.fetch_value("SELECT phase FROM debates WHERE id = 1") == "discussion"
    await agora.stop_bot()
    await agora.execute_offline(
        "UPDATE debates SET discussion_end = discussion_end - 20000, "
        "post_vote_end = post_vote_end - 20000 WHERE id = 1"
    )
    await agora.start_bot()
    result = await wait_message(agora, "Result of debate #1")
    assert "No result" in message_text(result)  # nobody voted in the closing vote
    await run_due(agora)
    assert (
        len([m for m in channel_messages(agora) if "Result of debate #1" in message_text(m)]) == 1
    )
    assert (
        await agora.running_bot.db.fetch_value("SELECT phase FROM debates WHERE id = 1") == "result"
    )


async def test_restart_mid_debate_keeps_buttons(agora: AgoraHarness) -> None:
    message = await start(agora)
    await click(agora, agora.member, message, option_id(message, 0))
    await agora.restart()
    ack = await click(agora, agora.manager, message, option_id(message, 3))
    assert reply_text(ack) == "Your vote: Lean safeguard"
    votes = await agora.running_bot.db.fetch_all(
        "SELECT member_id, option FROM votes ORDER BY member_id"
    )
    assert sorted((int(r[0]), int(r[1])) for r in votes) == sorted(
        [(agora.member, 0), (agora.manager, 3)]
    )


async def test_free_text_motion_topics_and_random(agora: AgoraHarness) -> None:
    message = await start(agora, topic="This house believes <@123> should open-source everything")
    assert "<@123>" in message_text(message) and message["mentions"] == []
    topics = await agora.slash("debate topics")
    assert topics.ephemeral and TOPIC.id in reply_text(topics)
    random_debate = await agora.slash("debate random")
    assert random_debate.message is not None and "Debate #2" in message_text(random_debate.message)
    choices = await (
        await agora.emu.autocomplete(agora.guild.id, agora.member, "debate start", {"topic": ""})
    ).wait_choices()
    assert len(choices) == 25
    narrowed = await (
        await agora.emu.autocomplete(
            agora.guild.id, agora.member, "debate start", {"topic": "deepfake"}
        )
    ).wait_choices()
    assert 0 < len(narrowed) < 25 and "deepfakes" in narrowed[0]["name"]
    debates = await (
        await agora.emu.autocomplete(agora.guild.id, agora.member, "debate close", {"debate": ""})
    ).wait_choices()
    assert [c["value"] for c in debates] == [2, 1]
    await wait_stored(agora)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"topic": "too short"}, "too short"),
        ({"topic": "x" * 301}, "limit is 300"),
        ({"topic": TOPIC.id, "duration": "2m"}, "between 4 minutes and 30 days"),
        ({"topic": TOPIC.id, "duration": "soon"}, "can't read"),
    ],
)
async def test_bad_debate_input_is_refused(
    agora: AgoraHarness, options: dict[str, object], expected: str
) -> None:
    interaction = await agora.slash("debate start", options)
    assert interaction.ephemeral and expected in reply_text(interaction)
    assert await agora.running_bot.db.fetch_value("SELECT count(*) FROM debates") == 0


async def test_debate_role_and_quick_next_refused(agora: AgoraHarness) -> None:
    await start(agora)
    quick = await agora.slash("debate next", {"debate": 1})
    assert "single vote" in reply_text(quick)
    role = agora.emu.add_role(agora.guild.id, "Debaters")
    await agora.slash(
        "agora settings", {"setting": "debate_role", "value": str(role)}, user=agora.manager
    )
    refused = await agora.slash("debate start", {"topic": TOPIC.id})
    assert refused.ephemeral and "role can start" in reply_text(refused)
    refused_random = await agora.slash("debate random")
    assert "role can start" in reply_text(refused_random)
    allowed = await agora.slash("debate start", {"topic": TOPIC.id}, user=agora.manager)
    assert allowed.message is not None
    await wait_stored(agora)


async def test_start_release_debate(agora: AgoraHarness) -> None:
    bot = agora.running_bot
    await bot.load_extension("tests.debates.release_extension")
    await bot.sync_commands_if_changed()
    interaction = await agora.slash(
        "release-debate", {"title": "Llama 9 <@&42>", "url": "https://example.org/llama-9"}
    )
    message = interaction.message
    assert message is not None and not interaction.ephemeral
    text = message_text(message)
    assert "Should Llama 9 <@&42> have been released this openly?" in text
    assert message["mention_roles"] == []
    row = await bot.db.fetch_one("SELECT format, source, motion FROM debates WHERE id = 1")
    assert row is not None and (row[0], row[1]) == ("quick", "release")
    ack = await click(agora, agora.member, message, option_id(message, 1))
    assert reply_text(ack) == "Your vote: Lean share"
    long = await agora.slash("release-debate", {"title": "x" * 400})
    assert long.message is not None and "…" in message_text(long.message)
    await wait_stored(agora)


async def test_weekly_debate_starts_once_per_slot(agora: AgoraHarness) -> None:
    # The test drives the clock: the background deadline job, run with the real time once the
    # settings are stored, would record this week's slot and skip the test's March ones.
    await agora.running_bot.jobs.stop(DEADLINE_JOB)
    channel = agora.emu.add_channel(agora.guild.id, "debates")
    for setting, value in (("debate_channel", str(channel)), ("weekly_debate", "mon 18:00")):
        await agora.slash(
            "agora settings", {"setting": setting, "value": value}, user=agora.manager
        )
    service = debate_service(agora)
    before_slot = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # a Monday
    await service.run_weekly(before_slot)  # first sight: remembers the last slot, starts nothing
    assert channel_messages(agora, channel) == []
    after_slot = datetime(2026, 3, 2, 18, 5, tzinfo=UTC)
    await service.run_weekly(after_slot)
    await service.run_weekly(after_slot + timedelta(minutes=5))
    debates = [m for m in channel_messages(agora, channel) if "Debate #1" in message_text(m)]
    assert len(debates) == 1 and "Oxford debate" in message_text(debates[0])
    row = await agora.running_bot.db.fetch_one("SELECT source, format FROM debates WHERE id = 1")
    assert row is not None and tuple(row) == ("weekly", "oxford")
    # A slot missed long ago (bot down for a day) is skipped, the next one runs.
    await service.run_weekly(after_slot + timedelta(days=8))
    assert await agora.running_bot.db.fetch_value("SELECT count(*) FROM debates") == 1
    await service.run_weekly(after_slot + timedelta(days=14))
    assert await agora.running_bot.db.fetch_value("SELECT count(*) FROM debates") == 2


async def test_failed_closing_vote_post_is_posted_again_once(agora: AgoraHarness) -> None:
    opening = await start(agora, format="oxford", duration="2h")
    await click(agora, agora.member, opening, option_id(opening, 2))
    moved = await agora.slash("debate next", {"debate": 1})
    assert "discussion" in (await answer(moved)).lower()
    general = agora.guild.general_id
    # Discord fails the closing vote's post (503: discord.py does not retry it).
    agora.emu.fail_next("POST", rf"^/channels/{general}/messages$", 503)
    moved = await agora.slash("debate next", {"debate": 1})
    assert "closing vote" in (await answer(moved)).lower()
    db = agora.running_bot.db
    post_poll = int(await db.fetch_value("SELECT post_poll_id FROM debates WHERE id = 1"))
    assert await db.fetch_value("SELECT message_id FROM polls WHERE id = ?", (post_poll,)) is None
    await run_due(agora)
    closing = await wait_message(agora, "Debate #1: closing vote")
    stored = await db.fetch_value("SELECT message_id FROM polls WHERE id = ?", (post_poll,))
    assert stored == int(closing["id"])
    # A crash between the post and its record: the next pass posts with the same nonce.
    await db.execute("UPDATE polls SET message_id = NULL WHERE id = ?", (post_poll,))
    await run_due(agora)
    assert await db.fetch_value("SELECT message_id FROM polls WHERE id = ?", (post_poll,)) == int(
        closing["id"]
    )
    closings = [m for m in channel_messages(agora) if "closing vote" in message_text(m)]
    assert len(closings) == 1
    ack = await click(agora, agora.member, closing, option_id(closing, 0))
    assert reply_text(ack) == "Your vote: Strongly share"
    closed = await agora.slash("debate close", {"debate": 1})
    assert "closed" in await answer(closed)
    result = await wait_message(agora, "Result of debate #1")
    assert "1 of 1 who voted twice changed their mind" in message_text(result)


async def test_stance_me_names_the_servers_own_debate_number(agora: AgoraHarness) -> None:
    await start(agora)  # debate #1 of the first server (global id 1)
    second = agora.guilds[1]
    member = agora.members[second.id]
    motion = "This house believes open models should ship with their training data"
    # A free-text motion: a vote on it forms the member's overall position, not a topic's.
    started = await agora.slash("debate start", {"topic": motion}, guild=second, user=member)
    message = started.message
    assert message is not None and "Debate #1" in message_text(message)
    vote = await agora.emu.click(second.id, member, int(message["id"]), option_id(message, 1))
    await vote.response(timeout=10)
    assert reply_text(vote) == "Your vote: Lean share"
    me = await agora.slash("stance me", guild=second, user=member)
    text = message_text(await me.wait_followup(timeout=20))
    assert "your vote in debate #1" in text
    await wait_stored(agora)


async def test_result_recorded_only_after_the_vote_buttons_are_gone(
    agora: AgoraHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = await start(agora)
    await click(agora, agora.member, message, option_id(message, 0))
    service = debate_service(agora)
    real_edit = service._edit
    crashed: list[int | None] = []

    async def crash_once(channel: object, message_id: int | None, **fields: object) -> None:
        if not crashed and "view" in fields:  # finalise's edits (not the live voter count)
            crashed.append(message_id)
            raise RuntimeError("the bot crashed")
        await real_edit(channel, message_id, **fields)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_edit", crash_once)
    agora.expect_error_log("could not (advance|post the result of) debate 1")
    db = agora.running_bot.db
    await db.execute(
        "UPDATE debates SET pre_vote_end = pre_vote_end - 90000, "
        "discussion_end = discussion_end - 90000, post_vote_end = post_vote_end - 90000"
    )
    await run_due(agora)  # crashes while finalising
    assert crashed
    await run_due(agora)  # the next pass finishes it
    result = await wait_message(agora, "Result of debate #1")
    assert await db.fetch_value("SELECT result_message_id FROM debates WHERE id = 1") == int(
        result["id"]
    )
    assert custom_ids(agora.emu.get_message(int(message["id"])) or {}) == []
    results = [m for m in channel_messages(agora) if "Result of debate #1" in message_text(m)]
    assert len(results) == 1


async def test_debate_vote_after_its_deadline_is_refused(agora: AgoraHarness) -> None:
    message = await start(agora)
    db = agora.running_bot.db
    await db.execute("UPDATE polls SET deadline = deadline - 90000 WHERE debate_id = 1")
    late = await click(agora, agora.member, message, option_id(message, 0))
    assert late.ephemeral and "closed" in reply_text(late)
    assert await db.fetch_value("SELECT count(*) FROM votes") == 0
    assert await observations(agora) == []


async def test_forgotten_authors_show_as_former_members(agora: AgoraHarness) -> None:
    message = await start(agora)
    opened = await click(agora, agora.member, message, f"{ARGUMENT}1")
    assert opened.modal is not None
    text = "Open weights let anyone audit the model."
    submitted = await agora.emu.submit_modal(
        agora.guild.id, agora.member, f"{ARGUMENT_FORM}1", {"side": ["share"], "text": text}
    )
    await submitted.response()
    argument = await wait_message(agora, text)
    await click(agora, agora.manager, argument, f"{UPVOTE}1")
    db = agora.running_bot.db
    async with db.transaction() as tx:
        await DebatesData().forget_member(tx, agora.guild.id, agora.member)
    # Forgotten, the member is no longer the debate's creator either: a manager closes it.
    refused = await agora.slash("debate close", {"debate": 1})
    assert "creator or a manager" in reply_text(refused)
    closed = await agora.slash("debate close", {"debate": 1}, user=agora.manager)
    assert "closed" in await answer(closed)
    result = message_text(await wait_message(agora, "Result of debate #1"))
    assert text in result and "<@0>" not in result and "a former member" in result


async def test_argument_modal_submitted_after_a_restart(agora: AgoraHarness) -> None:
    message = await start(agora)
    other = agora.emu.add_member(agora.guild.id, "other")
    for member in (agora.member, other):
        opened = await click(agora, member, message, f"{ARGUMENT}1")
        assert opened.modal is not None
    # Two members had the modal open: both submissions count (one modal per custom id).
    first = await agora.emu.submit_modal(
        agora.guild.id,
        other,
        f"{ARGUMENT_FORM}1",
        {"side": ["share"], "text": "Openness helps research."},
    )
    await first.response(timeout=10)
    assert "posted" in reply_text(first)
    await agora.restart()
    submitted = await agora.emu.submit_modal(
        agora.guild.id,
        agora.member,
        f"{ARGUMENT_FORM}1",
        {"side": ["safeguard"], "text": "Misuse cannot be recalled once weights are out."},
    )
    await submitted.response(timeout=10)
    assert submitted.ephemeral and "posted" in reply_text(submitted)
    argument = await wait_message(agora, "cannot be recalled")
    assert "Argument for safeguard" in message_text(argument)
    count = await agora.running_bot.db.fetch_value("SELECT count(*) FROM debate_arguments")
    assert count == 2
