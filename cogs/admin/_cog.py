"""Slash commands about the bot itself and the community's settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.checks import require_manager
from bot.community import (
    CHANNEL_SETTINGS,
    ROLE_SETTINGS,
    SETTING_NAMES,
    GuildSettings,
    change_setting,
    describe_setting,
)
from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.client import AgoraBot

SETTING_HELP = {name: str(field.description) for name, field in GuildSettings.model_fields.items()}


def human_duration(seconds: float) -> str:
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d"] if days else []
    if days or hours:
        parts.append(f"{hours}h")
    if days or hours or minutes:
        parts.append(f"{minutes}m")
    parts.append(f"{sec}s")
    return " ".join(parts)


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


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


class AdminCog(commands.Cog):
    agora = app_commands.Group(
        name="agora",
        description="Configure Agora for this server",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: AgoraBot) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="Agora's version, uptime, latency and size")
    async def about(self, interaction: discord.Interaction) -> None:
        bot = self.bot
        latency = bot.latency
        embed = discord.Embed(
            title="Agora",
            description="Release radar, debates and stances for communities that follow open AI.",
            colour=discord.Colour.blurple(),
        )
        embed.add_field(name="Version", value=__version__)
        embed.add_field(name="Uptime", value=human_duration(bot.uptime_seconds))
        embed.add_field(
            name="Gateway latency",
            value="measuring…"
            if latency != latency or latency == float("inf")
            else f"{latency * 1000:.0f} ms",
        )
        embed.add_field(name="Servers", value=str(len(bot.guilds)))
        embed.add_field(name="Shards", value=str(bot.shard_count or 1))
        embed.add_field(name="Database", value=human_bytes(bot.db.size_bytes()))
        await interaction.response.send_message(embed=embed)

    @agora.command(name="settings", description="Show this server's Agora settings, or change one")
    @app_commands.describe(
        setting="The setting to change (leave empty to see them all)",
        value="The new value: a role, a channel, on/off, a number, or `none` to clear",
    )
    @app_commands.choices(
        setting=[app_commands.Choice(name=name, value=name) for name in SETTING_NAMES]
    )
    async def settings(
        self,
        interaction: discord.Interaction,
        setting: str | None = None,
        value: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        assert interaction.guild_id is not None  # guild_only
        current = await self.bot.guild_repo.get_settings(interaction.guild_id)
        require_manager(interaction, current)
        if setting is None and value is None:
            await interaction.response.send_message(
                embed=self._settings_embed(current), ephemeral=True
            )
            return
        if setting is None or value is None:
            raise UserFacingError(
                "Give both `setting` and `value` to change a setting, or neither to see them all."
            )
        guild = interaction.guild
        if guild is None:
            raise UserFacingError("This command works only inside a server.")

        def apply(stored: GuildSettings) -> GuildSettings:
            updated = change_setting(stored, setting, value)
            check_belongs_to(guild, setting, getattr(updated, setting))
            return updated

        updated = await self.bot.guild_repo.update_settings(guild.id, apply)
        await interaction.response.send_message(
            f"`{setting}` is now {describe_setting(updated, setting)}.", ephemeral=True
        )

    @staticmethod
    def _settings_embed(settings: GuildSettings) -> discord.Embed:
        embed = discord.Embed(title="Agora settings", colour=discord.Colour.blurple())
        for name in SETTING_NAMES:
            embed.add_field(
                name=name,
                value=f"{describe_setting(settings, name)}\n-# {SETTING_HELP[name]}",
                inline=False,
            )
        embed.set_footer(text="Change one with /agora settings setting:<name> value:<value>")
        return embed
