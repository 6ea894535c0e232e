"""Helpers of the sweeps: a bot on its own event loop thread, database snapshots, pings,
forged component clicks, the background work stopped, the release radar run on demand."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import discord

from bot.client import AgoraBot
from bot.database import Database
from bot.releases import RadarConfig
from bot.settings import Settings
from tests.emulator import EmulatedInteraction
from tests.harness import AgoraHarness

T = TypeVar("T")
JSON = dict[str, Any]


class LoopThread:
    """An event loop in a daemon thread: hypothesis drives a sync test, the bot runs here."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:  # noqa: ASYNC109
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        async def cancel_rest() -> None:
            current = asyncio.current_task()
            rest = [t for t in asyncio.all_tasks() if t is not current]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        self.run(cancel_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


def short_radar_limits(original: Any) -> Any:
    """`Settings.radar_config` with short time limits for the local fakes."""

    def config(self: Settings) -> RadarConfig:
        return dataclasses.replace(original(self), hf_timeout=1.5, feed_timeout=1.5)

    return config


class RefusalRecorder:
    """Wraps the command tree's error handler: the ids of interactions it answered."""

    def __init__(self, bot: discord.Client) -> None:
        tree: Any = getattr(bot, "tree")  # noqa: B009
        self.original = tree.on_error
        self.refused: set[int] = set()

        async def on_error(interaction: discord.Interaction, error: Exception) -> None:
            self.refused.add(interaction.id)
            await self.original(interaction, error)

        tree.on_error = on_error


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name in await db.tables():
        rows = await db.fetch_all(f'SELECT * FROM "{name}"')  # noqa: S608 - names from the schema
        out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def bot_messages(h: AgoraHarness) -> Iterator[JSON]:
    bot_id = h.emu.bot.id
    for message in list(h.emu._messages_by_id.values()):
        if int(message["author"]["id"]) == bot_id:
            yield message


def pinging(h: AgoraHarness, allowed_roles: set[int] = frozenset()) -> list[JSON]:  # type: ignore[assignment]
    """Bot messages that ping someone (beyond the given release mention roles)."""
    bad = []
    for message in bot_messages(h):
        roles = {int(r) for r in message.get("mention_roles") or []}
        if message.get("mentions") or message.get("mention_everyone") or roles - allowed_roles:
            bad.append(message)
    return bad


async def settled(h: AgoraHarness, interaction: EmulatedInteraction) -> None:
    """The first response arrived and a deferred "thinking" message was replaced."""
    await interaction.response(timeout=15)
    await h.wait_for(lambda: not interaction.loading, within=15)


async def stop_background_work(bot: AgoraBot) -> None:
    """Stop every background job, whichever feature runs it (the core runs them all): in a
    sweep, only what the members do may change data."""
    await bot.jobs.stop_all()


async def forge_click(
    h: AgoraHarness,
    guild_id: int,
    user_id: int,
    custom_id: str,
    values: list[str] | None = None,
) -> EmulatedInteraction:
    """Click ``custom_id`` on a message in ``guild_id`` that carries it.

    Discord (and discord.py, which rebuilds the view from the message) only deliver a click
    for a component the message has, so the worst case is a message in A whose components
    carry B's ids: it is made here, then clicked like any other."""
    if values is None:
        component: JSON = {"type": 2, "style": 2, "label": "forged", "custom_id": custom_id}
    else:
        options = [{"label": f"option {v}", "value": v} for v in values]
        component = {"type": 3, "custom_id": custom_id, "options": options}
    guild = h.emu.guilds[guild_id]
    carrier = h.emu.user_message(
        guild.general_id,
        user_id,
        "a message carrying another server's custom id",
        components=[{"type": 1, "components": [component]}],
    )
    message_id = int(carrier["id"])
    if values is None:
        interaction = await h.emu.click(guild_id, user_id, message_id, custom_id)
    else:
        interaction = await h.emu.select(guild_id, user_id, message_id, custom_id, values)
    await interaction.response(timeout=15)
    return interaction
