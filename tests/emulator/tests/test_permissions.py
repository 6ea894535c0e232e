"""The emulator computes the bot's permissions in a channel (roles, then the channel's
overwrites) and refuses what Discord refuses: 403 Missing Access / Missing Permissions."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.emulator import DiscordEmulator
from tests.emulator.models import (
    ADMINISTRATOR,
    CREATE_PUBLIC_THREADS,
    EMBED_LINKS,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Channel,
    Guild,
    Member,
    Overwrite,
    Role,
    User,
)

EMBED = {"embeds": [{"title": "a release"}]}


def _guild() -> tuple[Guild, Channel, int]:
    guild = Guild(id=1, name="g", owner_id=99)
    guild.roles[1] = Role(1, 1, "@everyone", VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS)
    guild.roles[2] = Role(2, 1, "bots", CREATE_PUBLIC_THREADS)
    guild.members[5] = Member(User(5, "bot", bot=True), 1, roles=[2])
    channel = Channel(10, 1, "models")
    guild.channels[channel.id] = channel
    return guild, channel, 5


def test_overwrites_apply_everyone_then_roles_then_the_member() -> None:
    guild, channel, bot = _guild()
    everything = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | CREATE_PUBLIC_THREADS
    assert guild.channel_permissions(bot, channel) == everything
    channel.overwrites[1] = Overwrite(1, 0, deny=EMBED_LINKS | SEND_MESSAGES)
    assert guild.channel_permissions(bot, channel) == VIEW_CHANNEL | CREATE_PUBLIC_THREADS
    channel.overwrites[2] = Overwrite(2, 0, allow=SEND_MESSAGES)  # a role's allow wins
    assert guild.channel_permissions(bot, channel) & SEND_MESSAGES
    channel.overwrites[bot] = Overwrite(bot, 1, deny=SEND_MESSAGES)  # the member's wins last
    assert not guild.channel_permissions(bot, channel) & SEND_MESSAGES
    channel.overwrites[1] = Overwrite(1, 0, deny=VIEW_CHANNEL)  # no view: nothing at all
    assert guild.channel_permissions(bot, channel) == 0
    thread = Channel(11, 1, "t", type=11, parent_id=channel.id)
    guild.channels[thread.id] = thread
    assert guild.channel_permissions(bot, thread) == 0  # a thread follows its parent
    guild.roles[2].permissions |= ADMINISTRATOR  # administrators ignore overwrites
    assert guild.channel_permissions(bot, channel) == guild.permissions_for(bot)
    assert guild.channel_permissions(99, channel) == guild.permissions_for(99)  # the owner


async def _post(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Any:
    async with session.post(url, json=body) as response:
        return response.status, await response.json()


async def test_sends_are_refused_without_the_permission_they_need() -> None:
    async with DiscordEmulator() as emu:
        guild = emu.add_guild("g")
        channel = guild.general_id
        bot_role = next(r.id for r in guild.roles.values() if r.bot_id == emu.bot.id)
        url = f"{emu.api_base}/channels/{channel}/messages"
        async with aiohttp.ClientSession() as session:
            status, message = await _post(session, url, {"content": "first", **EMBED})
            assert status == 200
            emu.set_overwrite(channel, bot_role, deny=EMBED_LINKS)
            assert await _post(session, url, {"content": "embed", **EMBED}) == (
                403,
                {"code": 50013, "message": "Missing Permissions"},
            )
            assert (await _post(session, url, {"content": "plain text"}))[0] == 200
            thread_url = f"{url}/{message['id']}/threads"
            assert (await _post(session, thread_url, {"name": "t"}))[0] == 201
            emu.set_overwrite(channel, guild.id, deny=VIEW_CHANNEL)
            status, body = await _post(session, url, {"content": "hidden"})
            assert (status, body["code"]) == (403, 50001)
            channel_payload = emu.channels[channel].payload()
            assert {o["id"] for o in channel_payload["permission_overwrites"]} == {
                str(bot_role),
                str(guild.id),
            }
            emu.delete_channel(channel)
            status, body = await _post(session, url, {"content": "gone"})
            assert (status, body["code"]) == (404, 10003)
