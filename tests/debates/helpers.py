"""Helpers for the debates end-to-end tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tests.emulator import EmulatedInteraction
from tests.emulator.messages import walk_components
from tests.harness import AgoraHarness, message_text, reply_text

JSON = dict[str, Any]
T = TypeVar("T")

#: Custom ids of the components the bot posts today.
VOTE = "agora:debates:vote:"
SELECT = "agora:debates:select:"
WITHDRAW = "agora:debates:withdraw:"
ARGUMENT = "agora:debates:argument:"
UPVOTE = "agora:debates:upvote:"
ARGUMENT_FORM = "agora:debates:argument-form:"


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


async def answer(interaction: EmulatedInteraction) -> str:
    """Wait for a deferred interaction's follow-up and return its text."""
    if interaction.response_type == 5:
        await interaction.wait_followup(timeout=15)
    return reply_text(interaction)


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
