"""`/releases …`: options in, a call to the release service, the answer out."""

from __future__ import annotations

from collections.abc import Awaitable

import discord
from discord import app_commands
from discord.ext import commands

from bot.components import service
from bot.errors import UserFacingError
from bot.releases import parse_filter, parse_source
from bot.releases.ledger import explain
from bot.slash import Suggested, manager_group
from cogs.releases.embeds import (
    chunk_lines,
    code,
    discord_time,
    latest_embed,
    preview_embeds,
    subscription_line,
)
from cogs.releases.service import LATEST_MOST, ReleaseService

#: A source this server follows, suggested from its subscriptions.
FollowedSource = app_commands.Transform[
    str,
    Suggested(
        str,
        lambda i, guild, typed: service(i, ReleaseService).source_choices(guild, typed),
        min_value=1,
        max_value=300,
    ),
]


#: What an autocomplete answers.
Choices = list[app_commands.Choice[str]]


def _recent_items(i: discord.Interaction, guild: int, typed: str) -> Awaitable[Choices]:
    return service(i, ReleaseService).item_choices(guild, typed)


#: An item the community's sources listed lately, suggested newest first.
RecentItem = app_commands.Transform[str, Suggested(str, _recent_items, min_value=1, max_value=500)]
#: An optional channel option.
Channel = discord.TextChannel | None
#: The options of `/releases why`.
WHY_OPTIONS = {
    "item": "The release: its link, or an id such as meta-llama/Llama-3.1-8B or a GitHub tag",
    "channel": "Only this channel (default: every channel following a source)",
}


class ReleasesCog(commands.Cog, name="Releases"):
    """Follow release sources into channels; the radar job announces new items once."""

    releases = manager_group(
        "releases", "Announce new open models and AI framework releases in this server"
    )

    def __init__(self, service: ReleaseService) -> None:
        self.service = service

    @releases.command(name="follow", description="Announce a source's new releases in a channel")
    @app_commands.describe(
        source="hf:<author>, github:<owner>/<repo> or feed:<URL> (a web address works too)",
        channel="The channel where new releases are announced",
        mention_role="A role pinged with each announcement (the only ping Agora makes)",
        filter="Optional, e.g. include:llama* exclude:*gguf* min_params:7B license:permissive",
    )
    async def follow(
        self,
        interaction: discord.Interaction,
        source: app_commands.Range[str, 1, 300],
        channel: discord.TextChannel,
        mention_role: discord.Role | None = None,
        filter: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        guild = interaction.guild
        assert guild is not None  # guild_only
        await self.service.require_manager(interaction)
        parse_source(source)  # shape errors answer at once
        release_filter = parse_filter(filter)
        if mention_role is not None and (mention_role.is_default() or mention_role.managed):
            raise UserFacingError(
                "Pick a normal role to mention (not @everyone or a bot's role), or leave it empty."
            )
        await self.service.check_permissions(guild.id, channel)
        await interaction.response.defer(ephemeral=True, thinking=True)
        followed = await self.service.follow(
            guild.id,
            channel.id,
            source,
            release_filter=release_filter,
            mention_role=mention_role.id if mention_role else None,
            created_by=interaction.user.id,
        )
        key = followed.subscription.source_key
        verb = "Now following" if followed.created else "Updated"
        lines = [f"{verb} {code(key)} in {channel.mention}."]
        lines.append(f"Filter: {code(str(release_filter))}")
        lines.append(f"Mention: {mention_role.mention if mention_role else 'nobody'}")
        if followed.created:
            lines.append(
                "What the source lists now is recorded as a baseline and not announced; "
                "new releases are posted from the next check on "
                f"(every {int(self.service.parts.poll_seconds)} s)."
            )
        await interaction.followup.send("\n".join(lines), ephemeral=True)

    @releases.command(name="unfollow", description="Stop announcing a source")
    @app_commands.describe(
        source="A source this server follows",
        channel="Only stop in this channel (default: every channel)",
    )
    async def unfollow(
        self,
        interaction: discord.Interaction,
        source: FollowedSource,
        channel: discord.TextChannel | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        await self.service.require_manager(interaction)
        key, removed = await self.service.unfollow(
            interaction.guild_id, source, channel.id if channel else None
        )
        await interaction.response.send_message(
            f"Stopped following {code(key)} ({removed} channel{'s' if removed != 1 else ''}).",
            ephemeral=True,
        )

    @releases.command(name="list", description="The sources this server follows")
    async def list_subscriptions(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        rows = await self.service.listing(interaction.guild_id)
        if not rows:
            await interaction.response.send_message(
                "This server follows no release source yet: try `/releases follow`.",
                ephemeral=True,
            )
            return
        await send_lines(interaction, [subscription_line(s, status) for s, status in rows])

    @releases.command(name="resume", description="Resume a source paused after failures")
    @app_commands.describe(source="A paused source this server follows")
    async def resume(self, interaction: discord.Interaction, source: FollowedSource) -> None:
        assert interaction.guild_id is not None
        await self.service.require_manager(interaction)
        key, was_paused = await self.service.resume(interaction.guild_id, source)
        was = "was paused" if was_paused else "was not paused"
        await interaction.response.send_message(
            f"{code(key)} {was}; it will be checked at the next cycle.", ephemeral=True
        )

    @releases.command(name="preview", description="See a source's newest items; posts nothing")
    @app_commands.describe(source="hf:<author>, github:<owner>/<repo> or feed:<URL>")
    async def preview(self, interaction: discord.Interaction, source: FollowedSource) -> None:
        parse_source(source)  # shape errors answer at once
        await interaction.response.defer(ephemeral=True, thinking=True)
        key, cards = await self.service.preview(source)
        if not cards:
            await interaction.followup.send(f"{code(key)} lists nothing yet.", ephemeral=True)
            return
        embeds = preview_embeds(cards)
        await interaction.followup.send(
            f"The newest {len(embeds)} item(s) of {code(key)}, as they would be announced "
            "(nothing was posted):",
            embeds=embeds,
            ephemeral=True,
        )

    @releases.command(name="latest", description="The last release announcements in this server")
    @app_commands.describe(count="How many (1–10, default 5)")
    async def latest(
        self, interaction: discord.Interaction, count: app_commands.Range[int, 1, LATEST_MOST] = 5
    ) -> None:
        assert interaction.guild_id is not None
        deliveries = await self.service.latest(interaction.guild_id, count)
        if not deliveries:
            await interaction.response.send_message(
                "No release has been announced here yet.", ephemeral=True
            )
            return
        await interaction.response.send_message(embed=latest_embed(deliveries))

    @releases.command(name="why", description="What happened to a release in each channel here")
    @app_commands.describe(**WHY_OPTIONS)
    async def why(
        self, interaction: discord.Interaction, item: RecentItem, channel: Channel = None
    ) -> None:
        assert interaction.guild_id is not None
        await self.service.require_manager(interaction)
        entries = await self.service.why(
            interaction.guild_id, item, channel.id if channel else None
        )
        lines = [f"What happened to {code(item[:200])}:"]
        where = "<#{}>".format
        lines += [
            "• " + explain(e, where(e.subscription.channel_id), discord_time) for e in entries
        ]
        await send_lines(
            interaction, lines if entries else [*lines, "No channel here follows its source."]
        )


async def send_lines(interaction: discord.Interaction, lines: list[str]) -> None:
    """An ephemeral answer of many lines, in as few messages as they fit; nothing pings."""
    first, *rest = chunk_lines(lines)
    none = discord.AllowedMentions.none()
    await interaction.response.send_message(first, ephemeral=True, allowed_mentions=none)
    for chunk in rest:
        await interaction.followup.send(chunk, ephemeral=True, allowed_mentions=none)
