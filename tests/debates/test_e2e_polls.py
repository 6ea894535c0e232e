"""Polls end to end through the emulator: votes, concurrency, restart, deadlines, results."""

from __future__ import annotations

import asyncio
import csv
import io
import random

import pytest

from bot.charts import PNG_MAGIC
from cogs.debates.service import DeadlineService
from tests.debates.helpers import (
    SELECT,
    WITHDRAW,
    answer,
    channel_messages,
    click,
    custom_ids,
    option_id,
    poll_id_of,
    wait_message,
    wait_until,
)
from tests.harness import AgoraHarness, message_text, provided, reply_text, wait_stored


async def run_due(agora: AgoraHarness) -> None:
    """One pass of the debates feature's deadline job, now."""
    await provided(agora.running_bot, DeadlineService).run_due()


async def stored_votes(agora: AgoraHarness, poll_id: int) -> list[tuple[int, int]]:
    rows = await agora.running_bot.db.fetch_all(
        "SELECT member_id, option FROM votes WHERE poll_id = ? ORDER BY member_id, option",
        (poll_id,),
    )
    return [(int(r[0]), int(r[1])) for r in rows]


async def create_poll(agora: AgoraHarness, **options: object) -> dict:
    values: dict[str, object] = {
        "question": "Which licence?",
        "options": "MIT | Apache-2.0 | GPL-3.0",
    }
    values.update({k: v for k, v in options.items() if k != "user"})
    user = options.get("user")
    created = await agora.slash("poll create", values, user=user if isinstance(user, int) else None)
    message = created.message
    assert message is not None, reply_text(created)
    return message


async def test_fifty_members_vote_concurrently(agora: AgoraHarness) -> None:
    message = await create_poll(agora)
    poll_id = poll_id_of(message)
    members = [agora.emu.add_member(agora.guild.id, f"voter{n}") for n in range(50)]
    rng = random.Random(4)
    choices = {member: rng.randrange(3) for member in members}
    interactions = await asyncio.gather(
        *(click(agora, m, message, option_id(message, choices[m])) for m in members)
    )
    labels = ("MIT", "Apache-2.0", "GPL-3.0")
    for member, interaction in zip(members, interactions, strict=True):
        assert interaction.ephemeral
        assert reply_text(interaction) == f"Your vote: {labels[choices[member]]}"
    stored = await stored_votes(agora, poll_id)
    assert stored == sorted(choices.items())
    counts = [list(choices.values()).count(i) for i in range(3)]
    # The live tally on the message catches up (coalesced edits) with the recount.
    await agora.wait_for(
        lambda: "50 voters" in message_text(agora.emu.get_message(int(message["id"])) or {}),
        within=15,
    )
    text = message_text(agora.emu.get_message(int(message["id"])) or {})
    for count in counts:
        assert f"{count} vote" in text
    edits = [
        r
        for r in agora.emu.requests
        if r.method == "PATCH" and r.path.endswith(f"/messages/{message['id']}")
    ]
    assert len(edits) < 25, "edits were not coalesced"


async def test_change_and_withdraw_a_vote(agora: AgoraHarness) -> None:
    message = await create_poll(agora)
    poll_id = poll_id_of(message)
    first = await click(agora, agora.member, message, option_id(message, 0))
    assert reply_text(first) == "Your vote: MIT"
    moved = await click(agora, agora.member, message, option_id(message, 2))
    assert reply_text(moved) == "Your vote: GPL-3.0"
    assert await stored_votes(agora, poll_id) == [(agora.member, 2)]
    withdrawn = await click(agora, agora.member, message, option_id(message, 2))
    assert reply_text(withdrawn) == "Your vote was withdrawn."
    assert await stored_votes(agora, poll_id) == []


async def test_multiple_choice(agora: AgoraHarness) -> None:
    message = await create_poll(agora, options="a | b | c | d", multiple=2)
    poll_id = poll_id_of(message)
    await click(agora, agora.member, message, option_id(message, 0))
    both = await click(agora, agora.member, message, option_id(message, 3))
    assert reply_text(both) == "Your votes: a, d"
    refused = await click(agora, agora.member, message, option_id(message, 1))
    assert refused.ephemeral and "at most 2" in reply_text(refused)
    assert await stored_votes(agora, poll_id) == [(agora.member, 0), (agora.member, 3)]


async def test_select_menu_for_many_options(agora: AgoraHarness) -> None:
    options = " | ".join(f"option {n}" for n in range(22))
    message = await create_poll(agora, options=options, multiple=3)
    poll_id = poll_id_of(message)
    select_id = f"{SELECT}{poll_id}"
    assert select_id in custom_ids(message) and f"{WITHDRAW}{poll_id}" in custom_ids(message)
    picked = await agora.emu.select(
        agora.guild.id, agora.member, int(message["id"]), select_id, ["1", "21"]
    )
    await picked.response()
    assert reply_text(picked) == "Your votes: option 1, option 21"
    withdraw = await click(agora, agora.member, message, f"{WITHDRAW}{poll_id}")
    assert reply_text(withdraw) == "Your vote was withdrawn."
    assert await stored_votes(agora, poll_id) == []


async def test_role_restricted_poll(agora: AgoraHarness) -> None:
    role = agora.emu.add_role(agora.guild.id, "Researchers")
    insider = agora.emu.add_member(agora.guild.id, "insider", roles=[role])
    message = await create_poll(agora, role=role)
    poll_id = poll_id_of(message)
    refused = await click(agora, agora.member, message, option_id(message, 0))
    assert refused.ephemeral and "Only members with" in reply_text(refused)
    accepted = await click(agora, insider, message, option_id(message, 1))
    assert reply_text(accepted) == "Your vote: Apache-2.0"
    assert await stored_votes(agora, poll_id) == [(insider, 1)]


async def test_close_posts_result_with_chart(agora: AgoraHarness) -> None:
    message = await create_poll(agora, anonymous=False)
    voters = [agora.emu.add_member(agora.guild.id, f"v{n}") for n in range(3)]
    for n, member in enumerate(voters):
        await click(agora, member, message, option_id(message, min(n, 1)))
    other = await agora.slash("poll close", {"poll": 1}, user=voters[0])
    assert other.ephemeral and "creator or a manager" in reply_text(other)
    closed = await agora.slash("poll close", {"poll": 1})
    assert "closed" in await answer(closed)
    result = await wait_message(agora, "Result of poll #1")
    text = message_text(result)
    assert "2 votes · 67%" in text and "1 vote · 33%" in text and "3 voters" in text
    assert "turnout" in text
    png = agora.emu.attachment_bytes(result)
    assert png.startswith(PNG_MAGIC)
    final = agora.emu.get_message(int(message["id"])) or {}
    assert custom_ids(final) == [] and "Closed" in message_text(final)
    again = await agora.slash("poll close", {"poll": 1})
    assert "already closed" in reply_text(again)
    results = await agora.slash("poll results", {"poll": 1})
    assert results.ephemeral and "3 voters" in reply_text(results)
    exported = await agora.slash("poll export", {"poll": 1})
    assert exported.ephemeral
    assert exported.message is not None and exported.message["attachments"]
    rows = list(
        csv.reader(io.StringIO(agora.emu.attachment_bytes(exported.message).decode("utf-8-sig")))
    )
    assert ["question", "Which licence?"] in rows
    assert any(row and row[0] == str(voters[0]) for row in rows)  # not anonymous: voter rows
    assert len([m for m in channel_messages(agora) if "Result of poll #1" in message_text(m)]) == 1


async def test_manager_closes_and_anonymous_export_has_no_voters(agora: AgoraHarness) -> None:
    message = await create_poll(agora)
    await click(agora, agora.member, message, option_id(message, 0))
    closed = await agora.slash("poll close", {"poll": 1}, user=agora.manager)
    assert "closed" in await answer(closed)
    exported = await agora.slash("poll export", {"poll": 1})
    assert exported.message is not None
    data = agora.emu.attachment_bytes(exported.message).decode("utf-8-sig")
    assert "member_id" not in data and str(agora.member) not in data


async def test_restart_keeps_votes_and_buttons_work(agora: AgoraHarness) -> None:
    message = await create_poll(agora)
    poll_id = poll_id_of(message)
    members = [agora.emu.add_member(agora.guild.id, f"m{n}") for n in range(10)]
    acknowledged = await asyncio.gather(
        *(click(agora, m, message, option_id(message, n % 3)) for n, m in enumerate(members))
    )
    assert all(reply_text(i).startswith("Your vote") for i in acknowledged)
    await agora.restart()
    assert await stored_votes(agora, poll_id) == sorted((m, n % 3) for n, m in enumerate(members))
    after = await click(agora, agora.member, message, option_id(message, 1))
    assert reply_text(after) == "Your vote: Apache-2.0"
    changed = await click(agora, members[0], message, option_id(message, 2))
    assert reply_text(changed) == "Your vote: GPL-3.0"
    stored = dict(await stored_votes(agora, poll_id))
    assert len(stored) == 11 and stored[agora.member] == 1 and stored[members[0]] == 2


async def test_deadline_passed_while_down_posts_result_once(agora: AgoraHarness) -> None:
    message = await create_poll(agora, duration="1h")
    poll_id = poll_id_of(message)
    await click(agora, agora.member, message, option_id(message, 0))
    await agora.stop_bot()
    await agora.execute_offline(
        "UPDATE polls SET deadline = deadline - 7200 WHERE id = ?", (poll_id,)
    )
    await agora.start_bot()
    result = await wait_message(agora, "Result of poll #1")
    assert agora.emu.attachment_bytes(result).startswith(PNG_MAGIC)
    await run_due(agora)
    await agora.restart()
    await run_due(agora)
    results = [m for m in channel_messages(agora) if "Result of poll #1" in message_text(m)]
    assert len(results) == 1


async def test_native_poll_votes_are_recorded(agora: AgoraHarness) -> None:
    created = await agora.slash(
        "poll native", {"question": "Open weights?", "options": "yes | no", "duration": "2h"}
    )
    message = created.message
    assert message is not None and message["poll"]["question"]["text"] == "Open weights?"
    assert "Poll #1" in message["content"]
    message_id = int(message["id"])
    other = agora.emu.add_member(agora.guild.id, "other")
    await wait_stored(agora)  # the bot stores the message id right after its response
    await agora.emu.poll_vote(agora.guild.id, agora.member, message_id, 1)
    await agora.emu.poll_vote(agora.guild.id, other, message_id, 2)
    await agora.emu.poll_vote(agora.guild.id, other, message_id, 2, add=False)
    await agora.emu.poll_vote(agora.guild.id, other, message_id, 1)
    poll_id = int(
        await agora.running_bot.db.fetch_value(
            "SELECT id FROM polls WHERE message_id = ?", (message_id,)
        )
    )
    expected = sorted([(agora.member, 0), (other, 0)])

    async def recorded() -> bool:
        return await stored_votes(agora, poll_id) == expected

    await wait_until(recorded, what="the native votes to be recorded")
    closed = await agora.slash("poll close", {"poll": 1})
    assert "closed" in await answer(closed)
    result = await wait_message(agora, "Result of poll #1")
    assert "2 votes · 100%" in message_text(result)
    assert (agora.emu.get_message(message_id) or {})["poll"]["results"]["is_finalized"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"question": "Q?", "options": "only one"}, "at least 2 options"),
        ({"question": "Q?", "options": "a | a"}, "the same"),
        ({"question": "Q?", "options": "a | b", "duration": "90"}, "needs a unit"),
        ({"question": "Q?", "options": "a | b", "duration": "40d"}, "between 1 minute and 30 days"),
        ({"question": "x" * 301, "options": "a | b"}, "limit is 300"),
        ({"question": "Q?", "options": " | ".join(["y" * 81, "b"])}, "limit is 80"),
        ({"question": "Q?", "options": "a | b", "multiple": 3}, "only 2 options"),
    ],
)
async def test_bad_poll_input_is_refused(
    agora: AgoraHarness, options: dict[str, object], expected: str
) -> None:
    interaction = await agora.slash("poll create", options)
    assert interaction.ephemeral
    assert expected in reply_text(interaction)
    assert await agora.running_bot.db.fetch_value("SELECT count(*) FROM polls") == 0


async def test_bad_native_input_is_refused(agora: AgoraHarness) -> None:
    too_many = " | ".join(f"a{n}" for n in range(11))
    for options, expected in (
        ({"question": "Q?", "options": too_many}, "at most 10"),
        ({"question": "Q?", "options": "a | b", "duration": "90m"}, "whole hours"),
        ({"question": "Q?", "options": "a | " + "b" * 56}, "limit is 55"),
    ):
        interaction = await agora.slash("poll native", options)
        assert interaction.ephemeral and expected in reply_text(interaction)


async def test_mentions_in_user_text_never_ping(agora: AgoraHarness) -> None:
    message = await create_poll(agora, question="@everyone <@&1> <@2> ?", options="@here | <@3>")
    assert (
        not message["mention_everyone"]
        and message["mentions"] == []
        and message["mention_roles"] == []
    )


async def test_debate_role_restricts_poll_creation(agora: AgoraHarness) -> None:
    role = agora.emu.add_role(agora.guild.id, "Moderators")
    await agora.slash(
        "agora settings", {"setting": "debate_role", "value": str(role)}, user=agora.manager
    )
    refused = await agora.slash("poll create", {"question": "Q?", "options": "a | b"})
    assert refused.ephemeral and "role can start polls" in reply_text(refused)
    allowed = agora.emu.add_member(agora.guild.id, "mod", roles=[role])
    created = await agora.slash("poll create", {"question": "Q?", "options": "a | b"}, user=allowed)
    assert created.message is not None and not created.ephemeral
    await wait_stored(agora)


async def test_unknown_poll_and_autocomplete(agora: AgoraHarness) -> None:
    missing = await agora.slash("poll close", {"poll": 7})
    assert "no poll #7" in reply_text(missing)
    for n in range(27):
        await create_poll(agora, question=f"Question {n}?")
    choices = await (
        await agora.emu.autocomplete(agora.guild.id, agora.member, "poll results", {"poll": ""})
    ).wait_choices()
    assert len(choices) == 25 and choices[0]["value"] == 27
    narrowed = await (
        await agora.emu.autocomplete(
            agora.guild.id, agora.member, "poll results", {"poll": "Question 3"}
        )
    ).wait_choices()
    assert {c["value"] for c in narrowed} == {4}


async def native_poll_voted(agora: AgoraHarness, answer_id: int) -> int:
    """Post a two-hour native poll (yes | no), wait until it is stored, let the member vote for
    the answer ``answer_id``; the poll message's id."""
    created = await agora.slash(
        "poll native", {"question": "Open weights?", "options": "yes | no", "duration": "2h"}
    )
    assert created.message is not None
    message_id = int(created.message["id"])
    await wait_stored(agora)
    await agora.emu.poll_vote(agora.guild.id, agora.member, message_id, answer_id)
    return message_id


async def test_native_votes_cast_while_the_bot_was_down_count(agora: AgoraHarness) -> None:
    message_id = await native_poll_voted(agora, 1)
    poll_id = int(
        await agora.running_bot.db.fetch_value(
            "SELECT id FROM polls WHERE message_id = ?", (message_id,)
        )
    )
    await wait_until(lambda: stored_votes(agora, poll_id), what="the native vote")
    assert await stored_votes(agora, poll_id) == [(agora.member, 0)]
    await agora.stop_bot()
    offline = [agora.emu.add_member(agora.guild.id, f"offline{n}") for n in range(2)]
    for member in offline:
        await agora.emu.poll_vote(agora.guild.id, member, message_id, 2)
    await agora.start_bot()
    closed = await agora.slash("poll close", {"poll": 1})
    assert "closed" in await answer(closed)
    result = message_text(await wait_message(agora, "Result of poll #1"))
    assert "1 vote · 33%" in result and "2 votes · 67%" in result and "3 voters" in result


async def test_native_result_falls_back_to_stored_votes(agora: AgoraHarness) -> None:
    message_id = await native_poll_voted(agora, 2)
    db = agora.running_bot.db
    await wait_until(lambda: db.fetch_value("SELECT count(*) FROM votes"), what="the vote")
    channel = agora.guild.general_id
    agora.emu.fail_next("*", rf"^/channels/{channel}/(polls|messages)/{message_id}", 503, times=2)
    closed = await agora.slash("poll close", {"poll": 1})
    assert "closed" in await answer(closed)
    result = message_text(await wait_message(agora, "Result of poll #1"))
    assert "1 vote · 100%" in result
