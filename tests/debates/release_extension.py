"""A test-only command standing in for the release radar's "Debate this release" button."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands


@app_commands.command(name="release-debate", description="Test: start a release debate")
async def release_debate(
    interaction: discord.Interaction, title: str, url: str | None = None
) -> None:
    client = interaction.client
    assert isinstance(client, commands.bot.BotBase)
    cog = client.get_cog("Debates")
    await cog.start_release_debate(interaction, title, url)  # type: ignore[union-attr]


async def setup(bot: commands.Bot) -> None:
    bot.tree.add_command(release_debate)
