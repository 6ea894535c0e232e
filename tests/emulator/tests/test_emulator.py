"""The Discord emulator, proven with a minimal discord.py AutoShardedBot (not Agora's code)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import io
import json
import logging
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands

from tests.emulator import DiscordEmulator, EmulatedInteraction, Guild
from tests.emulator.logs import ErrorRecords

ROOT = Path(__file__).resolve().parents[3]


# -- the minimal bot ----------------------------------------------------------------------------
class Counter(discord.ui.DynamicItem[discord.ui.Button], template=r"counter:(?P<n>\d+)"):
    def __init__(self, n: int) -> None:
        super().__init__(discord.ui.Button(label=f"+1 ({n})", custom_id=f"counter:{n}"))
        self.n = n

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(Counter(self.n + 1))
        await interaction.response.edit_message(content=f"count {self.n + 1}", view=view)


class Picker(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.select(
        custom_id="picker",
        options=[
            discord.SelectOption(label="Red", value="red"),
            discord.SelectOption(label="Blue", value="blue"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(f"picked {','.join(select.values)}", ephemeral=True)


class Form(discord.ui.Modal, title="A form"):
    answer: discord.ui.TextInput = discord.ui.TextInput(label="Answer", custom_id="answer")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"got {self.answer.value}")


class MiniBot(commands.AutoShardedBot):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = True
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05)
        self.poll_votes: list[tuple[int, int, int]] = []
        self.poll_votes_cached: list[tuple[int, str]] = []
        self.threads: list[int] = []
        self.resumed = 0

    async def setup_hook(self) -> None:
        tree = self.tree

        @tree.command(description="About the bot")
        async def about(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"about: {len(self.guilds)} guilds")

        @tree.command(description="Echo typed options")
        async def echo(
            interaction: discord.Interaction, count: int, text: str, channel: discord.TextChannel
        ) -> None:
            await interaction.response.send_message(f"{count * 2}|{text}|{channel.name}")

        @tree.command(description="Deferred, private")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await asyncio.sleep(0.01)
            await interaction.followup.send("done")

        @tree.command(description="A counter button")
        async def counter(interaction: discord.Interaction) -> None:
            view = discord.ui.View(timeout=None)
            view.add_item(Counter(0))
            await interaction.response.send_message("count 0", view=view)

        @tree.command(description="A select menu")
        async def picker(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pick one", view=Picker())

        @tree.command(description="Open a modal")
        async def form(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(Form(custom_id="form"))

        @tree.command(description="Managers only")
        @app_commands.default_permissions(manage_guild=True)
        async def admin(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(
                f"manage_guild={interaction.permissions.manage_guild}"
            )

        poll = app_commands.Group(name="poll", description="Polls")

        @poll.command(name="close", description="Close a poll")
        async def close(interaction: discord.Interaction, poll: int) -> None:
            await interaction.response.send_message(f"closed {poll}", ephemeral=True)

        @close.autocomplete("poll")
        async def close_autocomplete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[int]]:
            return [
                app_commands.Choice(name=f"Poll #{n}", value=n)
                for n in (1, 12, 21, 3)
                if current in str(n)
            ]

        tree.add_command(poll)
        self.add_dynamic_items(Counter)
        self.add_view(Picker())
        await tree.sync()

    async def on_raw_poll_vote_add(self, payload: discord.RawPollVoteActionEvent) -> None:
        self.poll_votes.append((payload.user_id, payload.message_id, payload.answer_id))

    async def on_poll_vote_add(self, user: discord.Member, answer: discord.PollAnswer) -> None:
        self.poll_votes_cached.append((user.id, answer.text))

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.threads.append(thread.id)

    async def on_resumed(self) -> None:
        self.resumed += 1


# -- harness ------------------------------------------------------------------------------------
@dataclass
class Harness:
    emu: DiscordEmulator
    bot: MiniBot
    guilds: list[Guild]
    members: dict[int, int] = field(default_factory=dict)  # guild id -> member id

    @property
    def guild(self) -> Guild:
        return self.guilds[0]

    @property
    def member(self) -> int:
        return self.members[self.guild.id]


@pytest.fixture
async def harness(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    errors = ErrorRecords()
    discord_logger = logging.getLogger("discord")
    discord_logger.addHandler(errors)
    emu = DiscordEmulator()
    await emu.start()
    monkeypatch.setattr(discord.http.Route, "BASE", emu.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(emu.gateway_url)
    )
    guilds = [emu.add_guild(f"guild {n}") for n in range(3)]
    members = {g.id: emu.add_member(g.id, f"member{n}") for n, g in enumerate(guilds)}
    bot = MiniBot()
    task = asyncio.create_task(bot.start("emulator-token"))
    try:
        await asyncio.wait_for(_ready(bot, task), timeout=10)
        yield Harness(emu, bot, guilds, members)
        assert not task.done(), f"the bot task died: {task}"
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)
        await emu.stop()
        discord_logger.removeHandler(errors)
    assert not emu.problems(), emu.problems()  # unknown routes, bodies Discord refuses
    messages = [f"{r.name}: {r.getMessage()}" for r in errors.records]
    assert not messages, f"discord.py logged errors: {messages}"


def text_channel(bot: MiniBot, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel), channel
    return channel


def stored(emu: DiscordEmulator, message_id: int | str) -> dict[str, Any]:
    message = emu.get_message(int(message_id))
    assert message is not None, f"no message {message_id}"
    return message


def original(i: EmulatedInteraction) -> dict[str, Any]:
    assert i.message is not None, f"{i!r} has no message"
    return i.message


async def _ready(bot: MiniBot, task: asyncio.Task[None]) -> None:
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        ready.cancel()
        task.result()
        raise AssertionError("bot.start() returned before ready")


# -- tests --------------------------------------------------------------------------------------
async def test_login_ready_and_guilds(harness: Harness) -> None:
    emu, bot = harness.emu, harness.bot
    assert emu.identify_count == 1
    assert {g.id for g in bot.guilds} == {g.id for g in harness.guilds}
    for guild in harness.guilds:
        cached = bot.get_guild(guild.id)
        assert cached is not None and cached.me is not None
        assert text_channel(bot, guild.general_id).name == "general"
        assert cached.default_role.id == guild.id
        assert cached.get_member(harness.members[guild.id]) is not None
    methods = [(r.method, r.path) for r in emu.requests]
    assert ("GET", "/users/@me") in methods and ("GET", "/gateway/bot") in methods


async def test_guild_added_and_removed_live(harness: Harness) -> None:
    emu, bot = harness.emu, harness.bot
    guild = emu.add_guild("late")
    await emu.wait_for(lambda: bot.get_guild(guild.id))
    emu.remove_guild(guild.id)
    await emu.wait_for(lambda: bot.get_guild(guild.id) is None)


async def test_command_sync_recorded(harness: Harness) -> None:
    emu = harness.emu
    assert len(emu.command_syncs) == 1
    guild_id, payload = emu.command_syncs[0]
    assert guild_id is None
    assert {c["name"] for c in payload} >= {"about", "echo", "poll", "slow"}
    synced = {c["name"]: c for c in emu.commands[None]}
    assert synced["about"]["id"].isdigit()


async def test_slash_with_typed_options(harness: Harness) -> None:
    emu, guild = harness.emu, harness.guild
    other = emu.add_channel(guild.id, "debates")
    await emu.wait_for(lambda: harness.bot.get_channel(other))
    i = await emu.slash(guild.id, harness.member, "about")
    response = await i.response()
    assert response["type"] == 4
    assert response["data"]["content"] == "about: 3 guilds"
    assert not i.ephemeral
    assert i.message is not None and i.message in emu.messages[guild.general_id]

    i = await emu.slash(
        guild.id, harness.member, "echo", {"count": "21", "text": "hi", "channel": other}
    )
    options = {o["name"]: o for o in i.payload["data"]["options"]}
    assert options["count"] == {"type": 4, "name": "count", "value": 21}
    assert options["channel"]["type"] == 7
    assert str(other) in i.payload["data"]["resolved"]["channels"]
    assert (await i.response())["data"]["content"] == "42|hi|debates"


async def test_default_member_permissions(harness: Harness) -> None:
    emu, guild = harness.emu, harness.guild
    manager = emu.add_member(guild.id, "manager", manage_guild=True)
    i = await emu.slash(guild.id, manager, "admin")
    assert (await i.response())["data"]["content"] == "manage_guild=True"
    with pytest.raises(PermissionError):
        await emu.slash(guild.id, harness.member, "admin")
    i = await emu.slash(guild.id, harness.member, "admin", validate=False)  # a server override
    assert (await i.response())["data"]["content"] == "manage_guild=False"


async def test_deferred_ephemeral_then_followup(harness: Harness) -> None:
    emu = harness.emu
    i = await emu.slash(harness.guild.id, harness.member, "slow")
    response = await i.response()
    assert response["type"] == 5
    assert i.ephemeral
    followup = await i.wait_followup(1)
    assert followup["content"] == "done"
    assert followup["id"] == original(i)["id"]  # the follow-up replaced the "thinking" message
    assert followup["flags"] & 64 and not followup["flags"] & 128
    assert followup not in emu.messages[harness.guild.general_id]  # ephemeral: not public


async def test_autocomplete(harness: Harness) -> None:
    emu = harness.emu
    i = await emu.autocomplete(
        harness.guild.id, harness.member, "poll close", {"poll": "1"}, focused="poll"
    )
    assert (await i.response())["type"] == 8
    assert i.choices == [
        {"name": "Poll #1", "value": 1},
        {"name": "Poll #12", "value": 12},
        {"name": "Poll #21", "value": 21},
    ]
    i = await emu.slash(harness.guild.id, harness.member, "poll close", {"poll": 12})
    assert (await i.response())["data"]["content"] == "closed 12"
    assert i.payload["data"]["options"][0]["type"] == 1


async def test_button_click_updates_message(harness: Harness) -> None:
    emu = harness.emu
    i = await emu.slash(harness.guild.id, harness.member, "counter")
    await i.response()
    message_id = int(original(i)["id"])
    click = await emu.click(harness.guild.id, harness.member, message_id, "counter:0")
    response = await click.response()
    assert response["type"] == 7
    message = stored(emu, message_id)
    assert message["content"] == "count 1"
    assert message["components"][0]["components"][0]["custom_id"] == "counter:1"
    click = await emu.click(harness.guild.id, harness.member, message_id, "counter:1")
    await click.response()
    assert stored(emu, message_id)["content"] == "count 2"


async def test_select_menu(harness: Harness) -> None:
    emu = harness.emu
    i = await emu.slash(harness.guild.id, harness.member, "picker")
    await i.response()
    pick = await emu.select(
        harness.guild.id, harness.member, int(original(i)["id"]), "picker", ["blue"]
    )
    response = await pick.response()
    assert response["data"]["content"] == "picked blue"
    assert pick.ephemeral


async def test_modal_open_and_submit(harness: Harness) -> None:
    emu = harness.emu
    i = await emu.slash(harness.guild.id, harness.member, "form")
    response = await i.response()
    assert response["type"] == 9
    assert i.modal is not None and i.modal["custom_id"] == "form"
    submitted = await emu.submit_modal(
        harness.guild.id, harness.member, "form", {"answer": "forty-two"}
    )
    response = await submitted.response()
    assert response["type"] == 4
    assert response["data"]["content"] == "got forty-two"


async def test_channel_message_with_embed_and_file(harness: Harness) -> None:
    emu, bot, guild = harness.emu, harness.bot, harness.guild
    channel = text_channel(bot, guild.general_id)
    embed = discord.Embed(title="Release", description="v1.0")
    sent = await channel.send(
        "new release", embed=embed, file=discord.File(io.BytesIO(b"\x00binary\xff"), "notes.bin")
    )
    message = stored(emu, sent.id)
    assert message["embeds"][0]["title"] == "Release"
    assert message["attachments"][0]["filename"] == "notes.bin"
    assert emu.attachment_bytes(message, 0) == b"\x00binary\xff"
    assert await sent.attachments[0].read() == b"\x00binary\xff"
    request = next(r for r in emu.requests if r.method == "POST" and r.files)
    assert request.json["content"] == "new release" and request.files[0].data == b"\x00binary\xff"
    edited = await sent.edit(content="edited", attachments=[])
    assert edited.content == "edited" and stored(emu, sent.id)["attachments"] == []
    fetched = await channel.fetch_message(sent.id)
    assert fetched.content == "edited"
    await sent.delete()
    assert stored(emu, sent.id)["deleted"]


async def test_native_poll_and_vote(harness: Harness) -> None:
    emu, bot, guild = harness.emu, harness.bot, harness.guild
    channel = text_channel(bot, guild.general_id)
    poll = discord.Poll(question="Ship it?", duration=datetime.timedelta(hours=2))
    poll.add_answer(text="Yes")
    poll.add_answer(text="No")
    sent = await channel.send(poll=poll)
    message = stored(emu, sent.id)
    assert [a["answer_id"] for a in message["poll"]["answers"]] == [1, 2]
    assert sent.poll is not None and sent.poll.question == "Ship it?"
    await emu.wait_for(lambda: bot._connection._get_message(sent.id))  # MESSAGE_CREATE cached
    await emu.poll_vote(guild.id, harness.member, sent.id, 2)
    await emu.wait_for(lambda: bot.poll_votes)
    assert bot.poll_votes == [(harness.member, sent.id, 2)]
    await emu.wait_for(lambda: bot.poll_votes_cached)
    assert bot.poll_votes_cached == [(harness.member, "No")]
    assert message["poll"]["results"]["answer_counts"][1]["count"] == 1
    ended = await sent.end_poll()
    assert ended.poll is not None and ended.poll.is_finalised()


async def test_thread_from_message(harness: Harness) -> None:
    emu, bot, guild = harness.emu, harness.bot, harness.guild
    channel = text_channel(bot, guild.general_id)
    sent = await channel.send("debate starts")
    thread = await sent.create_thread(name="Debate")
    assert thread.id == sent.id and thread.parent_id == guild.general_id
    assert emu.channels[thread.id].type == 11
    await emu.wait_for(lambda: thread.id in bot.threads)
    await thread.send("first!")
    assert emu.messages[thread.id][0]["content"] == "first!"


async def test_enforce_nonce_returns_same_message(harness: Harness) -> None:
    emu, bot, guild = harness.emu, harness.bot, harness.guild
    channel = text_channel(bot, guild.general_id)
    first = await channel.send("announce", nonce="release-42")
    second = await channel.send("announce", nonce="release-42")
    assert first.id == second.id
    assert emu.nonce_hits == 1
    assert [m["content"] for m in emu.messages[guild.general_id]].count("announce") == 1
    with pytest.raises(discord.HTTPException):
        await channel.send("too long nonce", nonce="x" * 26)
    # Discord's API description refuses it too; the fixture would fail the test on it.
    assert [v.message for v in emu.spec_violations] == [f"$.nonce: {'x' * 26!r} is too long"]
    emu.spec_violations.clear()


async def test_429_is_retried_once(harness: Harness) -> None:
    emu, bot, guild = harness.emu, harness.bot, harness.guild
    fault = emu.fail_next("POST", r"^/channels/\d+/messages$", status=429, retry_after=0.05)
    sent = await text_channel(bot, guild.general_id).send("after a 429")
    assert fault.injected == 1 and emu.injected_failures == 1
    posts = [
        r
        for r in emu.requests
        if r.method == "POST" and r.json and r.json.get("content") == "after a 429"
    ]
    assert [r.status for r in posts] == [429, 200]
    assert [m["id"] for m in emu.messages[guild.general_id] if m["content"] == "after a 429"] == [
        str(sent.id)
    ]


async def test_drop_gateway_resumes(harness: Harness) -> None:
    emu, bot = harness.emu, harness.bot
    await emu.drop_gateway()
    await emu.wait_for(lambda: emu.resume_count == 1, timeout=10)
    await emu.wait_for(lambda: bot.resumed == 1)
    assert emu.identify_count == 1
    i = await emu.slash(harness.guild.id, harness.member, "about")
    assert (await i.response())["type"] == 4


async def test_held_gateway_keeps_the_bot_disconnected_until_released(harness: Harness) -> None:
    emu, bot = harness.emu, harness.bot
    emu.hold_gateway()
    await emu.drop_gateway()
    await emu.wait_for(lambda: emu.gateway.held == 1, timeout=10)
    shard = bot.get_shard(0)
    assert shard is not None and shard.is_closed()
    assert emu.resume_count == 0 and bot.resumed == 0
    emu.release_gateway()
    await emu.wait_for(lambda: emu.resume_count == 1, timeout=10)
    await emu.wait_for(lambda: bot.resumed == 1)
    assert emu.gateway.held == 0 and not shard.is_closed()
    assert emu.identify_count == 1


async def test_events_during_outage_are_replayed(harness: Harness) -> None:
    emu, bot = harness.emu, harness.bot
    await emu.drop_gateway()
    i = await emu.slash(harness.guild.id, harness.member, "about")  # buffered, replayed on RESUME
    assert (await i.response(timeout=10))["type"] == 4
    assert emu.resume_count == 1 and bot.is_ready()


async def test_rest_details() -> None:
    emu = DiscordEmulator()
    await emu.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{emu.api_base}/users/@me") as response:
                assert response.headers["Content-Type"] == "application/json"
                assert "X-RateLimit-Remaining" in response.headers
                assert (await response.json())["id"] == str(emu.application_id)
            async with session.get(f"{emu.api_base}/nope/123") as response:
                assert response.status == 404
                assert await response.json() == {"message": "Unknown route", "code": 0}
        assert emu.unknown_routes == [("GET", "/nope/123")]
        # Snowflakes carry the time they were made (millisecond precision): between the clock
        # read before and the one after.
        before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(milliseconds=1)
        ids = [emu.snowflakes.next() for _ in range(100)]
        after = datetime.datetime.now(datetime.UTC)
        assert ids == sorted(set(ids))
        assert before <= discord.utils.snowflake_time(ids[0]) <= after
    finally:
        await emu.stop()


async def test_invalid_session_reidentifies(harness: Harness) -> None:
    emu, bot = harness.emu, harness.bot
    emu.invalidate_session()
    # discord.py waits 5 s before any IDENTIFY after the first.
    await emu.wait_for(lambda: emu.identify_count == 2, timeout=15)
    i = await emu.slash(harness.guild.id, harness.member, "about")
    assert (await i.response())["data"]["content"] == "about: 3 guilds"
    assert emu.resume_count == 0 and bot.is_ready()


async def test_member_messages_respect_message_content_intent(harness: Harness) -> None:
    emu, bot, guild = harness.emu, harness.bot, harness.guild
    seen: list[discord.Message] = []

    async def on_message(message: discord.Message) -> None:
        seen.append(message)

    bot.add_listener(on_message)
    emu.user_message(guild.general_id, harness.member, "hello there")
    emu.user_message(guild.general_id, harness.member, f"<@{emu.bot.id}> ping")
    await emu.wait_for(lambda: len(seen) == 2)
    assert [m.content for m in seen] == ["", f"<@{emu.bot.id}> ping"]  # no message content intent
    assert seen[1].mentions[0].id == emu.bot.id
    found = await emu.wait_for_message(guild.general_id, lambda m: "hello" in m["content"])
    assert found["author"]["id"] == str(harness.member)


async def test_real_bot_process_against_in_process_emulator(tmp_path) -> None:
    emu = DiscordEmulator()
    await emu.start()
    emu.add_guild("subprocess guild")
    script = (
        "import os, discord, yarl\n"
        "discord.http.Route.BASE = os.environ['EMU_API']\n"
        "discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ['EMU_GW'])\n"
        "class C(discord.Client):\n"
        "    async def on_ready(self):\n"
        "        print('ready', len(self.guilds), flush=True)\n"
        "        await self.close()\n"
        "C(intents=discord.Intents.default(), guild_ready_timeout=0.05).run('t', log_handler=None)\n"
    )
    env = {**os.environ, "EMU_API": emu.api_base, "EMU_GW": emu.gateway_url}
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            script,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert proc.returncode == 0, err.decode()
        assert out.decode().strip() == "ready 1"
        assert emu.identify_count == 1
    finally:
        await emu.stop()


async def test_standalone_emulator_process(tmp_path) -> None:
    state_file = tmp_path / "state.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.emulator",
        "--port",
        "0",
        "--state",
        str(state_file),
        "--guilds",
        "2",
        stdout=asyncio.subprocess.PIPE,
        cwd=str(ROOT),
    )
    try:
        assert proc.stdout is not None
        state = json.loads(await asyncio.wait_for(proc.stdout.readline(), timeout=20))
        assert json.loads(state_file.read_text()) == state
        assert len(state["guilds"]) == 2
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{state['api_base']}/gateway/bot") as response:
                assert (await response.json())["url"] == state["gateway_url"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0


async def test_injected_server_error_on_interaction_response(harness: Harness) -> None:
    emu = harness.emu
    fault = emu.fail_next("POST", r"^/interactions/\d+/[^/]+/callback$", status=503)
    i = await emu.slash(harness.guild.id, harness.member, "about")
    assert (await i.response(timeout=5))["type"] == 4  # discord.py retried after ~1 s
    assert fault.injected == 1
