"""A chart in an embed, described in words: for screen readers and for members who do not open
images. Every feature that posts a chart goes through here."""

from __future__ import annotations

import io

import discord

from bot import limits
from bot.text import cut

CHART_FIELD = "The chart"


def describe_chart(embed: discord.Embed, text: str) -> None:
    """Add the field that says what the embed's chart shows."""
    embed.add_field(name=CHART_FIELD, value=cut(text, limits.FIELD_VALUE), inline=False)


def chart_file(embed: discord.Embed, png: bytes, name: str, text: str) -> discord.File:
    """Show ``png`` as the embed's image, describe it (a field, and the image's alt text), and
    return the file to send with the embed."""
    embed.set_image(url=f"attachment://{name}")
    describe_chart(embed, text)
    return discord.File(
        io.BytesIO(png), filename=name, description=cut(text, limits.ATTACHMENT_DESCRIPTION)
    )
