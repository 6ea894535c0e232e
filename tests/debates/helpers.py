"""Helpers for the debates end-to-end tests."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from tests.emulator import EmulatedInteraction
from tests.emulator.messages import walk_components
from tests.harness import AgoraHarness, message_text

JSON = dict[str, Any]
T = TypeVar("T")

#: Custom ids of the components the bot posts today.
VOTE = "agora:debates:vote:"
SELECT = "agora:debates:select:"
WITHDRAW = "agora:debates:withdraw:"
ARGUMENT = "agora:debates:argument:"
UPVOTE = "agora:debates:upvote:"
ARGUMENT_FORM = "agora:debates:argument-form:"


def provided(agora: AgoraHarness, cls: type[T]) -> T:
    """The running bot's instance of ``cls``, a service the debates feature provides.

    discord.py un-imports an extension's modules when it unloads it (every bot stop), so each
    start registers new class objects: ``cls`` is looked up in its module as loaded now."""
    current = getattr(importlib.import_module(cls.__module__), cls.__qualname__)
    return cast(T, agora.running_bot.registry.require(current))


def custom_ids(message: JSON) -> list[str]:
    return [
        c["custom_id"] for c in walk_components(message.get("components") or []) if "custom_id" in c
    ]


def option_id(message: JSON, option: int) -> str:
    """The custom_id of option ``option`` (0-based) of a poll or stance vote."""
    for cid in custom_ids(message):
        if cid.startswith(VOTE) and cid.endswith(f":{option}"):
            return cid
    raise AssertionError(f"no option {option} in {custom_ids(message)}")


def poll_id_of(message: JSON) -> int:
    for cid in custom_ids(message):
        if cid.startswith((VOTE, SELECT)):
            return int(cid.split(":")[3])
    raise AssertionError(f"no poll component in {custom_ids(message)}")


async def click(
    agora: AgoraHarness, user: int, message: JSON, custom_id: str
) -> EmulatedInteraction:
    interaction = await agora.emu.click(agora.guild.id, user, int(message["id"]), custom_id)
    await interaction.response(timeout=10)
    return interaction


def reply(interaction: EmulatedInteraction) -> str:
    """The text of an interaction's answer (callback message or first follow-up)."""
    callback = interaction.callback or {}
    data = callback.get("data") or {}
    if data.get("content") or data.get("embeds"):
        return message_text(data)
    message = interaction.message
    if message is not None and message_text(message):
        return message_text(message)
    followups = interaction.followups
    return message_text(followups[0]) if followups else ""


async def answer(interaction: EmulatedInteraction) -> str:
    """Wait for a deferred interaction's follow-up and return its text."""
    if interaction.response_type == 5:
        await interaction.wait_followup(timeout=15)
    return reply(interaction)


def channel_messages(agora: AgoraHarness, channel_id: int | None = None) -> list[JSON]:
    channel = channel_id if channel_id is not None else agora.guild.general_id
    return [m for m in agora.emu.messages.get(channel, []) if not m.get("deleted")]


async def wait_message(
    agora: AgoraHarness, text: str, channel_id: int | None = None, within: float = 15
) -> JSON:
    def find() -> JSON | None:
        for message in channel_messages(agora, channel_id):
            if text in message_text(message):
                return message
        return None

    return await agora.wait_for(find, within=within)


async def wait_until(
    condition: Callable[[], Awaitable[T]], within: float = 15, what: str = "a condition"
) -> T:
    """Wait until the async ``condition()`` (a database read) is truthy and return it; the
    emulator's ``wait_for`` covers what the emulator sees, this covers what the bot stored."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await condition()
        if value:
            return value
        if loop.time() >= deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.01)


async def wait_stored(agora: AgoraHarness) -> None:
    """Wait until the bot stored the message of every poll and debate it posted (it does so
    right after answering, so a test that ends at the answer would close the database under it)."""
    db = agora.running_bot.db

    async def stored() -> bool:
        pending = await db.fetch_value(
            "SELECT (SELECT count(*) FROM polls WHERE message_id IS NULL) + "
            "(SELECT count(*) FROM debates WHERE message_id IS NULL)"
        )
        return not pending

    await wait_until(stored, what="the bot to store its poll and debate messages")
