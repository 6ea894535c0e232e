"""What `/about` reports and how `/agora settings` changes a community's settings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot import __version__
from bot.community import CHANNEL_SETTINGS, ROLE_SETTINGS, GuildSettings, change_setting
from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.client import AgoraBot


@dataclass(frozen=True, slots=True)
class AboutFacts:
    version: str
    uptime_seconds: float
    #: Gateway latency in seconds; None until the first heartbeat was answered.
    latency: float | None
    servers: int
    shards: int
    database_bytes: int
    features: list[str]


def check_belongs_to(guild: discord.Guild, setting: str, value: object) -> None:
    """Refuse a role or channel id that is not a usable role or text channel of this server."""
    if not isinstance(value, int):
        return
    if setting in ROLE_SETTINGS:
        role = guild.get_role(value)
        if role is None:
            raise UserFacingError(f"`{setting}` was not changed: pick a role of this server.")
        if role.is_default():
            raise UserFacingError(
                f"`{setting}` was not changed: @everyone is every member "
                "(use `none` for everyone), pick a normal role."
            )
    elif setting in CHANNEL_SETTINGS:
        channel = guild.get_channel(value)
        if not isinstance(channel, discord.TextChannel):
            raise UserFacingError(
                f"`{setting}` was not changed: pick a text channel of this server."
            )


class AdminService:
    """Built from the bot itself: what it reports about is the running bot."""

    def __init__(self, bot: AgoraBot) -> None:
        self._bot = bot

    async def about(self) -> AboutFacts:
        bot = self._bot
        latency = bot.latency
        return AboutFacts(
            version=__version__,
            uptime_seconds=bot.uptime_seconds,
            latency=None if math.isnan(latency) or math.isinf(latency) else latency,
            servers=len(bot.guilds),
            shards=bot.shard_count or 1,
            database_bytes=await bot.db.size_bytes(),
            features=bot.registry.names(),
        )

    async def settings(self, guild_id: int) -> GuildSettings:
        return await self._bot.guild_repo.get_settings(guild_id)

    async def change(self, guild: discord.Guild, setting: str, value: str) -> GuildSettings:
        """Change one setting from the member's text (read, check, store in one transaction)."""

        def apply(stored: GuildSettings) -> GuildSettings:
            updated = change_setting(stored, setting, value)
            check_belongs_to(guild, setting, getattr(updated, setting))
            return updated

        return await self._bot.guild_repo.update_settings(guild.id, apply)
