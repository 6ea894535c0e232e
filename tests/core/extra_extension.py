"""A tiny extension used to change the command set between two restarts."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands


@app_commands.command(name="extra", description="A command that appears in a later version")
async def extra(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("extra", ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    bot.tree.add_command(extra)
