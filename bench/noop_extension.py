"""A bench-only extension: `/bench-noop`, a slash command that only answers (the reference).

Loaded next to the real cogs by patching `bot.client.cog_extensions`, as the error-handler
tests load theirs, so the no-op and the real commands run on the same bot.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands


@app_commands.command(name="bench-noop", description="Answers at once (benchmark reference)")
@app_commands.guild_only()
async def bench_noop(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("ok", ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    bot.tree.add_command(bench_noop)
