"""Discord faults from the emulator: a dropped gateway mid-burst, 429s on posts, 5xx on
interaction callbacks and on message edits. Correctness only: nothing lost, nothing doubled."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.debates.helpers import channel_messages, option_id, poll_id_of, wait_message
from tests.emulator import EmulatedInteraction
from tests.harness import AgoraHarness, message_text, reply_text
from tests.releases.test_e2e_releases import Env, make_env

CALLBACK = r"^/interactions/\d+/[^/]+/callback$"


@pytest.fixture
async def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Env]:
    async for value in make_env(tmp_path, monkeypatch):
        yield value


async def create_poll(agora: AgoraHarness, options: int, *, multiple: int = 1) -> dict:
    created = await agora.slash(
        "poll create",
        {
            "question": "Open weights?",
            "options": " | ".join(f"o{n}" for n in range(options)),
            "multiple": multiple,
        },
    )
    assert created.message is not None, reply_text(created)
    poll_id = poll_id_of(created.message)
    db = agora.running_bot.db
    # The bot stores the message id right after answering.
    await agora.wait_for(
        lambda: db.fetch_value("SELECT message_id FROM polls WHERE id = ?", (poll_id,))
    )
    return created.message


async def stored_votes(agora: AgoraHarness, poll_id: int) -> list[tuple[int, int]]:
    rows = await agora.running_bot.db.fetch_all(
        "SELECT member_id, option FROM votes WHERE poll_id = ? ORDER BY member_id, option",
        (poll_id,),
    )
    return [(int(r[0]), int(r[1])) for r in rows]


def tally_shown(agora: AgoraHarness, message_id: int) -> tuple[list[int], int] | None:
    text = message_text(agora.emu.get_message(message_id) or {})
    counts = [int(n) for n in re.findall(r"` (\d+) votes? · ", text)]
    voters = re.search(r"(\d+) voters?", text)
    return (counts, int(voters.group(1))) if voters else None


async def wait_tally(
    agora: AgoraHarness, message: dict, votes: list[tuple[int, int]], options: int
) -> None:
    """The poll message eventually shows exactly the recount of the stored votes."""
    recount = [sum(1 for _, o in votes if o == n) for n in range(options)]
    expected = (recount, len({m for m, _ in votes}))
    await agora.wait_for(lambda: tally_shown(agora, int(message["id"])) == expected, within=20)


# -- the gateway drops in the middle of a burst of votes ------------------------------------


async def test_gateway_dropped_mid_burst_loses_no_vote(agora: AgoraHarness) -> None:
    options = 4
    message = await create_poll(agora, options, multiple=options)
    poll_id = poll_id_of(message)
    members = [agora.emu.add_member(agora.guild.id, f"v{n}") for n in range(40)]
    clicks = [(m, o) for o in range(options) for m in members]  # 160 clicks, each one vote
    sent: list[tuple[tuple[int, int], EmulatedInteraction]] = []
    during_outage = 0
    batch = 20
    for start in range(0, len(clicks), batch):
        group = []
        for index, (member, option) in enumerate(clicks[start : start + batch], start):
            if index == len(clicks) // 2:
                # Half of this batch was sent and is being handled; the other half is sent
                # while the socket is down: Discord buffers it and replays it on RESUME.
                await agora.emu.drop_gateway()
            during_outage += not agora.emu.gateway.connected
            interaction = await agora.emu.click(
                agora.guild.id, member, int(message["id"]), option_id(message, option)
            )
            group.append(((member, option), interaction))
        sent += group
        for _, interaction in group:
            await interaction.response(timeout=15)
    assert during_outage > 0, "no vote was sent while the gateway was down"
    assert agora.emu.resume_count == 1 and agora.emu.identify_count == 1
    for (_, option), interaction in sent:
        assert interaction.ephemeral and reply_text(interaction).startswith("Your vote"), (
            reply_text(interaction)
        )
        assert f"o{option}" in reply_text(interaction)
    stored = await stored_votes(agora, poll_id)
    assert stored == sorted(clicks), "a vote was lost or doubled"
    await wait_tally(agora, message, stored, options)


# -- 429 with retry_after on message posts --------------------------------------------------


async def test_poll_result_posted_once_through_429s(agora: AgoraHarness) -> None:
    message = await create_poll(agora, 3)
    for n in range(3):
        member = agora.emu.add_member(agora.guild.id, f"v{n}")
        click = await agora.emu.click(
            agora.guild.id, member, int(message["id"]), option_id(message, n % 2)
        )
        await click.response()
    fault = agora.emu.fail_next(
        "POST", r"^/channels/\d+/messages$", status=429, times=2, retry_after=0.3
    )
    closed = await agora.slash("poll close", {"poll": 1})
    await closed.wait_followup(timeout=15)
    await wait_message(agora, "Result of poll #1")
    assert fault.injected == 2
    results = [m for m in channel_messages(agora) if "Result of poll #1" in message_text(m)]
    assert len(results) == 1
    assert "2 votes · 67%" in message_text(results[0])
    final = agora.emu.get_message(int(message["id"])) or {}
    assert "Closed" in message_text(final) and not final.get("components")


async def test_announcements_posted_once_through_429s_and_500(env: Env) -> None:
    h, hub = env.h, env.hub
    hub.add_model("org/base", created_at="2024-01-01T00:00:00.000Z")
    await env.follow("hf:org")
    await env.follow("hf:org", h.guilds[1])
    await env.radar.run_cycle_once()
    for n in range(1, 4):
        hub.add_model(f"org/new-{n}", created_at=f"2024-02-0{n}T00:00:00.000Z")
    limited = h.emu.fail_next(
        "POST", r"^/channels/\d+/messages$", status=429, times=3, retry_after=0.2
    )
    report = await env.radar.run_cycle_once()
    assert limited.injected == 3 and report.queued == 6 and report.posted == 6
    # A 500 is retried by discord.py itself; the nonce would dedupe a post Discord had made.
    hub.add_model("org/new-4", created_at="2024-02-04T00:00:00.000Z")
    broken = h.emu.fail_next("POST", r"^/channels/\d+/messages$", status=500, times=1)
    report = await env.radar.run_cycle_once()
    assert broken.injected == 1 and report.posted == 2
    for guild in h.guilds[:2]:
        titles = [p["embeds"][0]["title"] for p in env.posts(env.channel(guild))]
        assert titles == [f"org/new-{n}" for n in range(1, 5)]
    for guild in h.guilds[:2]:
        for subscription, _ in await env.radar.parts.subscriptions.for_guild(guild.id):
            records = await env.radar.parts.outbox.for_subscription(subscription.id)
            assert [d.status for d in records] == ["posted"] * 4


# -- 5xx on interaction callbacks -----------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_vote_acknowledged_once_after_a_5xx_on_its_callback(
    agora: AgoraHarness, status: int
) -> None:
    message = await create_poll(agora, 2)
    poll_id = poll_id_of(message)
    fault = agora.emu.fail_next("POST", CALLBACK, status=status, times=1)
    click = await agora.emu.click(
        agora.guild.id, agora.member, int(message["id"]), option_id(message, 1)
    )
    await click.response(timeout=10)
    assert fault.injected == 1
    assert reply_text(click) == "Your vote: o1"
    callbacks = [r for r in agora.emu.requests if re.match(CALLBACK, r.path)]
    assert [r.status for r in callbacks[-2:]] == [status, 200]
    assert await stored_votes(agora, poll_id) == [(agora.member, 1)]
    await wait_tally(agora, message, [(agora.member, 1)], 2)


# -- 5xx on message edits -------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
async def test_failed_tally_edit_is_repaired(agora: AgoraHarness, status: int) -> None:
    message = await create_poll(agora, 3)
    poll_id = poll_id_of(message)
    path = rf"^/channels/\d+/messages/{message['id']}$"
    # Every edit for a while fails (a 500 is retried by discord.py, a 503 is not).
    fault = agora.emu.fail_next("PATCH", path, status=status, times=2)
    members = [agora.emu.add_member(agora.guild.id, f"v{n}") for n in range(3)]
    for n, member in enumerate(members):
        click = await agora.emu.click(
            agora.guild.id, member, int(message["id"]), option_id(message, n)
        )
        await click.response()
        assert reply_text(click) == f"Your vote: o{n}"
    stored = await stored_votes(agora, poll_id)
    assert len(stored) == 3
    # No further vote comes: the bot itself must bring the message up to date.
    await wait_tally(agora, message, stored, 3)
    assert fault.injected == 2
