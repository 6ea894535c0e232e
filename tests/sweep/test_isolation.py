"""Isolation: a member of community A never reads or changes community B's data.

B holds a poll, an Oxford-less quick debate with an argument, statements with votes, a
release announcement and pending forget/purge confirmations, all marked "SECRET-B". From A:
- B's numbers in A's commands (`/poll close 1`, `/poll results 1`, `/debate close 1`, ...)
  find nothing, or only A's own items once A has some;
- autocomplete of every option that has it (read from the synced commands) never lists B;
- B's real custom ids, forged onto a message in A (a modified client can send any custom id),
  are refused ephemerally and change nothing, in B or in A.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.database_target import DatabaseTarget
from bot.settings import Settings
from tests.emulator import Guild
from tests.emulator.messages import walk_components
from tests.fakes.hub import FakeHub
from tests.harness import AgoraHarness, message_text, reply_text, serving, wait_stored
from tests.releases.helpers import radar_of
from tests.sweep.inputs import leaves_of
from tests.sweep.support import JSON, forge_click, pinging, settled, short_radar_limits, snapshot

SECRET = "SECRET-B"
SECRET_SOURCE = "hf:secretb"


@dataclasses.dataclass
class World:
    h: AgoraHarness
    hub: FakeHub
    a: Guild
    b: Guild
    b_messages: dict[str, JSON]  # what -> a message of B that carries the buttons
    a_releases: int
    b_releases: int

    def channels_of(self, guild: Guild) -> list[int]:
        return list(guild.channels) + [
            int(m["id"])
            for m in self.h.emu._messages_by_id.values()
            if m.get("thread") and int(m["channel_id"]) in guild.channels
        ]

    def guild_messages(self, guild: Guild) -> dict[str, JSON]:
        return {
            str(m["id"]): copy.deepcopy(m)
            for m in self.h.emu._messages_by_id.values()
            if str(m.get("guild_id", "")) == str(guild.id) or int(m["channel_id"]) in guild.channels
        }


def custom_ids(message: JSON) -> list[str]:
    return [
        c["custom_id"] for c in walk_components(message.get("components") or []) if "custom_id" in c
    ]


async def run(
    h: AgoraHarness, name: str, options: dict[str, Any] | None, user: int, guild: Guild
) -> Any:
    interaction = await h.slash(name, options, user=user, guild=guild)
    await settled(h, interaction)
    await wait_stored(h)
    return interaction


async def find_message(h: AgoraHarness, text: str) -> JSON:
    def found() -> JSON | None:
        for message in h.emu._messages_by_id.values():
            if text in message_text(message) and custom_ids(message):
                return message
        return None

    result: JSON = await h.wait_for(found, within=10)
    return result


@pytest.fixture
async def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_target: DatabaseTarget
) -> AsyncIterator[World]:
    monkeypatch.setattr(Settings, "radar_config", short_radar_limits(Settings.radar_config))
    hub = FakeHub()
    await hub.start()
    h = AgoraHarness(
        tmp_path, database=database_target, hf_endpoint=hub.url, agora_release_poll_seconds=3600
    )
    async with serving(h, hub):
        await h.start_emulator(guild_count=2)
        a, b = h.guilds
        channels = {g.id: h.emu.add_channel(g.id, "releases") for g in h.guilds}
        bot = await h.start_bot()
        await h.wait_for(lambda: all(bot.get_channel(c) for c in channels.values()))
        bm, bu = h.managers[b.id], h.members[b.id]

        # B's data.
        await run(h, "poll create", {"question": f"{SECRET} poll", "options": "a|b"}, bu, b)
        await run(h, "debate start", {"topic": f"{SECRET} motion on open weights"}, bu, b)
        debate = await find_message(h, f"{SECRET} motion")
        aa = next(c for c in custom_ids(debate) if c.startswith("agora:debates:argument:"))
        opened = await h.emu.click(b.id, bm, int(debate["id"]), aa)
        await opened.response()
        submitted = await h.emu.submit_modal(
            b.id,
            bm,
            aa.replace(":argument:", ":argument-form:"),
            {"side": ["share"], "text": f"{SECRET}: open weights let anyone audit the model."},
        )
        await submitted.response()
        argument = await find_message(h, f"{SECRET}: open weights")
        await run(h, "stance statement add", {"text": f"{SECRET} statement one"}, bu, b)
        await run(h, "stance statement add", {"text": f"{SECRET} statement two"}, bm, b)
        dealt = await run(h, "stance vote", None, bu, b)
        vote = dealt.message
        forget = (await run(h, "stance forget", None, bu, b)).message
        purge = (await run(h, "stance purge", None, bm, b)).message
        await run(h, "stance set", {"position": -2}, bu, b)
        # A release announcement in B.
        hub.add_model("secretb/old", created_at="2024-01-01T00:00:00.000Z")
        await run(h, "releases follow", {"source": SECRET_SOURCE, "channel": channels[b.id]}, bm, b)
        radar = radar_of(bot)
        await radar.run_cycle_once()
        hub.add_model(f"secretb/{SECRET}-7B", created_at="2024-03-01T00:00:00.000Z")
        await radar.run_cycle_once()
        announcement = await find_message(h, f"{SECRET}-7B")
        poll = await find_message(h, f"{SECRET} poll")
        yield World(
            h,
            hub,
            a,
            b,
            {
                "poll": poll,
                "debate": debate,
                "argument": argument,
                "vote": vote or {},
                "forget": forget or {},
                "purge": purge or {},
                "announcement": announcement,
            },
            channels[a.id],
            channels[b.id],
        )


def leaks(texts: list[str]) -> list[str]:
    return [t for t in texts if SECRET in t or "secretb" in t.lower()]


async def test_b_numbers_in_a_commands_reach_nothing_of_b(world: World) -> None:
    h, a, b = world.h, world.a, world.b
    db = h.running_bot.db
    am, au = h.managers[a.id], h.members[a.id]
    before = await snapshot(db)
    b_before = world.guild_messages(b)
    texts = []
    for name, options in (
        ("poll close", {"poll": 1}),
        ("poll results", {"poll": 1}),
        ("poll export", {"poll": 1}),
        ("poll close", {"poll": 2}),
        ("debate next", {"debate": 1}),
        ("debate close", {"debate": 1}),
        ("stance statement remove", {"statement": 1}),
        ("releases unfollow", {"source": SECRET_SOURCE}),
        ("releases resume", {"source": SECRET_SOURCE}),
    ):
        for user in (am, au):
            manager_only = name.startswith("releases") or name == "stance statement remove"
            interaction = await h.emu.slash(
                a.id, user, name, options, validate=not (manager_only and user == au)
            )
            await settled(h, interaction)
            assert interaction.ephemeral, (name, user)
            if options != {"source": SECRET_SOURCE}:  # those echo what A typed
                texts.append(reply_text(interaction))
    assert await snapshot(db) == before, "a command in A changed data"
    assert world.guild_messages(b) == b_before, "a command in A touched B's messages"
    assert not leaks(texts), leaks(texts)

    # Reading commands in A show nothing of B.
    reading: tuple[tuple[str, dict[str, Any] | None], ...] = (
        ("releases list", None),
        ("releases latest", {"count": 10}),
        ("stance community", None),
        ("stance map", None),
        ("stance me", None),
        ("stance export", None),
        ("stance vote", None),
    )
    for name, reading_options in reading:
        for user in (am, au):
            interaction = await h.emu.slash(
                a.id,
                user,
                name,
                reading_options,
                validate=not (name.startswith("releases") and user == au),
            )
            await settled(h, interaction)
            texts.append(reply_text(interaction))
            for message in [interaction.message or {}, *interaction.followups]:
                for index, _ in enumerate(message.get("attachments") or []):
                    texts.append(h.emu.attachment_bytes(message, index).decode("latin-1"))
    member_b = h.members[b.id]
    seen = await h.emu.slash(a.id, au, "stance user", {"member": member_b})
    await settled(h, seen)
    assert seen.ephemeral
    texts.append(reply_text(seen))
    assert not leaks(texts), leaks(texts)

    # Once A has a poll #1 and a statement #1, A's commands act on A's only.
    await run(h, "poll create", {"question": "alpha poll", "options": "x|y"}, au, a)
    await run(h, "stance statement add", {"text": "alpha statement here"}, au, a)
    results = await run(h, "poll results", {"poll": 1}, au, a)
    assert "alpha poll" in reply_text(results) and not leaks([reply_text(results)])
    exported = await run(h, "poll export", {"poll": 1}, au, a)
    csv = h.emu.attachment_bytes(exported.message or {}, 0).decode()
    assert "alpha poll" in csv and not leaks([csv])
    b_polls = await db.fetch_all("SELECT id, closed_at FROM polls WHERE guild_id = ?", (b.id,))
    closed = await run(h, "poll close", {"poll": 1}, au, a)
    assert "closed" in reply_text(closed)
    assert (
        await db.fetch_all("SELECT id, closed_at FROM polls WHERE guild_id = ?", (b.id,)) == b_polls
    ), "closing A's poll #1 closed B's"
    removed = await run(h, "stance statement remove", {"statement": 1}, am, a)
    assert "#1 was removed" in reply_text(removed)
    a_statements = await db.fetch_all(
        "SELECT removed FROM stance_statements WHERE guild_id = ?", (a.id,)
    )
    assert [row["removed"] for row in a_statements] == [1]
    b_statements = await db.fetch_all(
        "SELECT * FROM stance_statements WHERE guild_id = ? ORDER BY id", (b.id,)
    )
    assert b_statements and all(not row["removed"] for row in b_statements)
    assert pinging(h) == []


async def test_autocomplete_in_a_never_lists_b(world: World) -> None:
    h, a = world.h, world.a
    leaves = leaves_of(h.emu.command_syncs[-1][1])
    asked = 0
    for leaf in leaves:
        for option in leaf.options:
            if not option.get("autocomplete"):
                continue
            for typed in ("", "SECRET", "secret", "1", "hf:", "#1"):
                for user in (h.managers[a.id], h.members[a.id]):
                    interaction = await h.emu.autocomplete(
                        a.id, user, leaf.path, {option["name"]: typed}, option["name"]
                    )
                    choices = await interaction.wait_choices()
                    asked += 1
                    names = [f"{c['name']} {c['value']}" for c in choices]
                    assert not leaks(names), (leaf.path, option["name"], typed, names)
    assert asked >= 10 * 12
    # And B's own autocomplete does list them (the check above can fail).
    b = world.b
    own = await h.emu.autocomplete(b.id, h.members[b.id], "poll results", {"poll": ""}, "poll")
    assert leaks([c["name"] for c in await own.wait_choices()])


async def test_forged_custom_ids_from_a_change_nothing(world: World) -> None:
    h, a, b = world.h, world.a, world.b
    db = h.running_bot.db
    am, au = h.managers[a.id], h.members[a.id]
    await run(h, "poll create", {"question": "alpha poll", "options": "x|y"}, au, a)
    forged: list[tuple[str, list[str] | None]] = []
    for what, message in world.b_messages.items():
        ids = custom_ids(message)
        assert ids, f"B's {what} message has no buttons"
        forged.extend((cid, None) for cid in ids)
    poll_id = next(
        c for c in custom_ids(world.b_messages["poll"]) if c.startswith("agora:debates:vote:")
    )
    number = poll_id.split(":")[3]
    forged += [
        (f"agora:debates:select:{number}", ["0"]),
        (f"agora:debates:withdraw:{number}", None),
    ]
    kinds = [cid for cid, _ in forged]
    for prefix in (
        "agora:debates:vote:",
        "agora:debates:select:",
        "agora:debates:withdraw:",
        "agora:debates:argument:",
        "agora:debates:upvote:",
        "agora:stances:vote:",
        "agora:stances:forget:",
        "agora:stances:purge:",
        "agora:releases:discuss:",
        "agora:releases:debate:",
    ):
        assert any(k.startswith(prefix) for k in kinds), (prefix, kinds)

    before = await snapshot(db)
    b_before = world.guild_messages(b)
    a_before = world.guild_messages(a)
    for custom_id, values in forged:
        for user in (am, au):
            try:
                interaction = await forge_click(h, a.id, user, custom_id, values)
            except TimeoutError as exc:
                raise AssertionError(f"no answer to a forged {custom_id}") from exc
            text = reply_text(interaction)
            assert interaction.ephemeral, (custom_id, text)
            assert interaction.modal is None, f"{custom_id} opened a modal in A"
            assert any(
                phrase in text
                for phrase in (
                    "belongs to another server",
                    "no longer exists",
                    "Only the member who asked",
                )
            ), (custom_id, text)
            assert not leaks([text]), (custom_id, text)
    assert await snapshot(db) == before, "a forged click changed data"
    assert world.guild_messages(b) == b_before, "a forged click touched B's messages"
    after_a = world.guild_messages(a)
    assert {k: v for k, v in after_a.items() if k in a_before} == a_before
    bot_id = str(h.emu.bot.id)
    new_in_a = [m for k, m in after_a.items() if k not in a_before]
    posted = [m for m in new_in_a if m["author"]["id"] == bot_id and not int(m["flags"]) & 64]
    assert posted == [], "a forged click made the bot post in A"
    assert not any(m.get("thread") for m in new_in_a), "a forged click opened a thread"
    assert pinging(h) == []

    # The same buttons still work in B (the refusals above were about the server).
    poll = world.b_messages["poll"]
    ok = await h.emu.click(b.id, h.members[b.id], int(poll["id"]), poll_id)
    await ok.response()
    assert "Your vote" in reply_text(ok)
