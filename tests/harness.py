"""End-to-end harness: the real Agora bot, in-process, against the local Discord emulator.

`AgoraHarness` owns an emulator, a real SQLite file and the bot. `close()` fails the test on any
ERROR log record (unless the test declares it expects one), on any route the emulator does not
know and on any request body that Discord's OpenAPI description refuses; `check_alive()` fails it
on a dead bot task. `restart()` stops the bot and starts a new one on the same database and
emulator, as a process restart would.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import discord
import yarl

from bot.client import AgoraBot
from bot.database import Database
from bot.database_target import DatabaseTarget, SqliteTarget
from bot.settings import Settings
from tests.emulator import DiscordEmulator, EmulatedInteraction, Guild
from tests.emulator.logs import ErrorRecords

T = TypeVar("T")

TEST_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


class AgoraHarness:
    def __init__(
        self,
        tmp_path: Path,
        *,
        validate_requests: bool = True,
        database: DatabaseTarget | None = None,
        **settings: Any,
    ) -> None:
        """``settings`` override the bot's settings; ``validate_requests=False`` spares the
        emulator checking request bodies (benchmarks: the check shares the bot's loop);
        ``database`` is the bot's database (default: a SQLite file in ``tmp_path``)."""
        self.tmp_path = tmp_path
        self.db_path = tmp_path / "agora.db"
        self.database: DatabaseTarget = database or SqliteTarget(self.db_path)
        self.emu = DiscordEmulator(validate_requests=validate_requests)
        self.settings_overrides = settings
        self.bot: AgoraBot | None = None
        self.db: Database | None = None
        self._task: asyncio.Task[None] | None = None
        self.errors = ErrorRecords()
        self.expected_errors: list[re.Pattern[str]] = []
        self.guilds: list[Guild] = []
        self.managers: dict[int, int] = {}
        self.members: dict[int, int] = {}

    # -- lifecycle ------------------------------------------------------------------------

    async def start_emulator(self, guild_count: int = 2) -> None:
        await self.emu.start()
        discord.http.Route.BASE = self.emu.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.emu.gateway_url)
        logging.getLogger().addHandler(self.errors)
        for n in range(guild_count):
            guild = self.emu.add_guild(f"community {n}")
            self.guilds.append(guild)
            self.managers[guild.id] = self.emu.add_member(guild.id, f"admin{n}", manage_guild=True)
            self.members[guild.id] = self.emu.add_member(guild.id, f"member{n}")

    def make_settings(self) -> Settings:
        values: dict[str, Any] = {
            "discord_token": TEST_TOKEN,
            "agora_database": self.database,
            "discord_api_base": self.emu.api_base,
            "discord_gateway_url": self.emu.gateway_url,
            "agora_allow_private_urls": True,
        }
        values.update(self.settings_overrides)
        return Settings(_env_file=None, **values)

    async def start_bot(self, **bot_options: Any) -> AgoraBot:
        self.db = await Database.open(self.database)
        bot_options.setdefault("guild_ready_timeout", 0.05)
        self.bot = AgoraBot(self.make_settings(), self.db, **bot_options)
        self._task = asyncio.create_task(self.bot.start(TEST_TOKEN))
        ready = asyncio.create_task(self.bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=15, return_when=asyncio.FIRST_COMPLETED
        )
        if self._task in done:
            ready.cancel()
            self._task.result()
            raise AssertionError("bot.start() returned before ready")
        if ready not in done:
            raise AssertionError("the bot did not become ready within 15 s")
        return self.bot

    async def stop_bot(self) -> None:
        if self.bot is not None:
            self.check_alive()
            await self.bot.close()
            if self._task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(self._task, timeout=10)
        if self.db is not None:
            await self.db.close()
        self.bot, self.db, self._task = None, None, None

    async def execute_offline(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Change the stored data while the bot is stopped (as an operator's tool would)."""
        assert self.bot is None, "stop the bot first"
        db = await Database.open(self.database)
        try:
            async with db.transaction() as tx:
                await tx.execute(sql, params)
        finally:
            await db.close()

    async def restart(self, **bot_options: Any) -> AgoraBot:
        await self.stop_bot()
        return await self.start_bot(**bot_options)

    async def close(self, *, check: bool = True) -> None:
        """Stop the bot and the emulator; then fail on anything :meth:`problems` lists (unless
        ``check`` is false: a benchmark reports problems instead)."""
        try:
            await self.stop_bot()
        finally:
            await self.emu.stop()
            logging.getLogger().removeHandler(self.errors)
        if check:
            self.assert_clean()

    # -- checks ---------------------------------------------------------------------------

    def check_alive(self) -> None:
        if self._task is not None and self._task.done():
            raise AssertionError(f"the bot task died: {self._task!r}")

    def expect_error_log(self, pattern: str) -> None:
        """Declare that an ERROR record matching `pattern` is part of this test."""
        self.expected_errors.append(re.compile(pattern))

    def unexpected_errors(self) -> list[str]:
        found = []
        for record in self.errors.records:
            text = f"{record.name}: {record.getMessage()}"
            if not any(p.search(text) for p in self.expected_errors):
                found.append(text)
        return found

    def problems(self) -> list[str]:
        """Unknown routes, refused request bodies, unexpected ERROR records."""
        errors = [f"logged an error: {text}" for text in self.unexpected_errors()]
        return self.emu.problems() + errors

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "the bot misbehaved:\n" + "\n".join(problems)

    # -- conveniences ---------------------------------------------------------------------

    @property
    def guild(self) -> Guild:
        return self.guilds[0]

    @property
    def manager(self) -> int:
        return self.managers[self.guild.id]

    @property
    def member(self) -> int:
        return self.members[self.guild.id]

    @property
    def running_bot(self) -> AgoraBot:
        assert self.bot is not None, "the bot is not running"
        return self.bot

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: int | None = None,
        guild: Guild | None = None,
        channel_id: int | None = None,
        validate: bool = True,
    ) -> EmulatedInteraction:
        """Run a slash command and wait for its first response."""
        guild = guild or self.guild
        interaction = await self.emu.slash(
            guild.id,
            user if user is not None else self.member,
            name,
            options,
            channel_id=channel_id,
            validate=validate,
        )
        await interaction.response(timeout=10)
        return interaction

    async def wait_for(self, predicate: Callable[[], Any], within: float = 5.0) -> Any:
        return await self.emu.wait_for(predicate, timeout=within)


def response_text(interaction: EmulatedInteraction) -> str:
    """The content and embed text of an interaction's message, for assertions."""
    message = interaction.message or {}
    return message_text(message)


def reply_text(interaction: EmulatedInteraction) -> str:
    """The text of an interaction's answer: the callback's message, the message it made or
    updated, or else its first follow-up."""
    data = (interaction.callback or {}).get("data") or {}
    if data.get("content") or data.get("embeds"):
        return message_text(data)
    message = interaction.message
    if message is not None and message_text(message):
        return message_text(message)
    followups = interaction.followups
    return message_text(followups[0]) if followups else ""


def message_text(message: dict[str, Any]) -> str:
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts.append(embed.get("title") or "")
        parts.append(embed.get("description") or "")
        for field in embed.get("fields") or []:
            parts.append(f"{field.get('name')}: {field.get('value')}")
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(p for p in parts if p)


class Server(Protocol):
    """A fake upstream server a test runs beside the bot (a hub, a feed server)."""

    async def stop(self) -> None: ...


@contextlib.asynccontextmanager
async def serving(agora: AgoraHarness, *servers: Server) -> AsyncIterator[AgoraHarness]:
    """Run a test's world: once the body is done, fail on a dead bot task; whatever happened,
    close the harness (failing on errors, unknown routes, refused request bodies), then stop
    ``servers``."""
    try:
        yield agora
        agora.check_alive()
    finally:
        try:
            await agora.close()
        finally:
            for server in servers:
                await server.stop()


def provided(bot: AgoraBot, cls: type[T]) -> T:
    """``bot.registry.require(cls)`` for a class defined in a feature package.

    discord.py un-imports an extension when it unloads it, so each start of a bot imports the
    package again and registers new class objects: look ``cls`` up in its module as loaded now.
    """
    current = getattr(importlib.import_module(cls.__module__), cls.__qualname__)
    return cast(T, bot.registry.require(current))


async def wait_stored(agora: AgoraHarness, within: float = 15.0) -> None:
    """Wait until the bot stored the message of every poll and debate it posted (it does so
    right after answering, so a test that ends at the answer would close the database under it)."""
    db = agora.running_bot.db

    async def stored() -> bool:
        pending = await db.fetch_value(
            "SELECT (SELECT count(*) FROM polls WHERE message_id IS NULL) + "
            "(SELECT count(*) FROM debates WHERE message_id IS NULL)"
        )
        return not pending

    await agora.wait_for(stored, within=within)
