"""Commands that fail on purpose, to test the error handler after a deferred answer."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError


@app_commands.command(name="fail-after-defer", description="Defers, then fails as told")
@app_commands.describe(kind="expected or unexpected")
async def fail_after_defer(interaction: discord.Interaction, kind: str) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    if kind == "expected":
        raise UserFacingError("That did not work: try `x` instead.")
    raise RuntimeError("boom after defer")


@app_commands.command(name="cooldown", description="At most once a minute")
@app_commands.checks.cooldown(1, 60.0)
async def cooldown(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("ok", ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    bot.tree.add_command(fail_after_defer)
    bot.tree.add_command(cooldown)
