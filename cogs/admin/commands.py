"""Slash commands about the bot itself and the community's settings."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import require_manager
from bot.community import SETTING_NAMES, describe_setting
from bot.errors import UserFacingError
from bot.slash import manager_group
from cogs.admin.embeds import about_embed, settings_embed
from cogs.admin.service import AdminService


class AdminCog(commands.Cog):
    agora = manager_group("agora", "Configure Agora for this server")

    def __init__(self, service: AdminService) -> None:
        self.service = service

    @app_commands.command(name="about", description="Agora's version, uptime, latency and size")
    async def about(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(embed=about_embed(await self.service.about()))

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
        current = await self.service.settings(interaction.guild_id)
        require_manager(interaction, current)
        if setting is None and value is None:
            await interaction.response.send_message(embed=settings_embed(current), ephemeral=True)
            return
        if setting is None or value is None:
            raise UserFacingError(
                "Give both `setting` and `value` to change a setting, or neither to see them all."
            )
        guild = interaction.guild
        if guild is None:
            raise UserFacingError("This command works only inside a server.")
        updated = await self.service.change(guild, setting, value)
        await interaction.response.send_message(
            f"`{setting}` is now {describe_setting(updated, setting)}.", ephemeral=True
        )
