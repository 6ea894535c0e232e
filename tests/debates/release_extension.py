"""A test-only command standing in for the release radar's "Debate this release" button: like
the button, it asks the feature registry for whichever loaded feature offers release debates
(:class:`bot.interfaces.ReleaseDebates`) and hands it the release."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.components import registry_of
from bot.interfaces import ReleaseDebates


@app_commands.command(name="release-debate", description="Test: start a release debate")
async def release_debate(
    interaction: discord.Interaction, title: str, url: str | None = None
) -> None:
    debates = registry_of(interaction.client).require(ReleaseDebates)
    await debates.start_release_debate(interaction, title, url)


async def setup(bot: commands.Bot) -> None:
    bot.tree.add_command(release_debate)
