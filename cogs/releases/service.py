"""The release radar's behaviour behind `/releases …` and the announcement buttons.

Built in the feature's `setup()` from its collaborators (repositories, the radar, the feature
registry for the debates interface); the commands call it and render what it returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord
from discord import app_commands

from bot import limits
from bot.checks import require_manager
from bot.errors import UserFacingError, ensure_same_community
from bot.features import FeatureRegistry
from bot.interfaces import ReleaseDebates
from bot.releases import (
    AnnouncementCard,
    Radar,
    ReleaseFilter,
    SourceError,
    parse_source,
)
from bot.releases.errors import SubscriptionLimitReached
from bot.releases.ledger import LedgerEntry
from bot.releases.policy import MAX_SUBSCRIPTIONS_PER_GUILD
from bot.releases.records import Delivery, SourceStatus, Subscription
from bot.repositories.guilds import GuildRepository
from bot.repositories.release_ledger import LedgerRepository
from bot.repositories.release_outbox import OutboxRepository
from bot.repositories.release_subscriptions import SubscriptionRepository
from bot.text import safe_line
from cogs.releases.embeds import code, thread_name
from cogs.releases.permissions import missing_permissions

#: The most announcements `/releases latest` shows.
LATEST_MOST = 10

log = logging.getLogger(__name__)

#: How many items `/releases preview` shows (one message holds 6000 embed characters).
PREVIEW_COUNT = 3
#: Discord's error code for "a thread has already been created for this message".
THREAD_ALREADY_EXISTS = 160004


@dataclass(frozen=True, slots=True)
class Followed:
    """What `/releases follow` did."""

    subscription: Subscription
    created: bool


@dataclass(frozen=True, slots=True)
class Collaborators:
    """What the service and the outbox worker are built from (in the feature's `setup`)."""

    subscriptions: SubscriptionRepository
    outbox: OutboxRepository
    ledger: LedgerRepository
    guilds: GuildRepository
    #: The one radar of the bot (its HTTP sessions), shared by commands and the worker.
    radar: Radar
    #: For the interfaces other features offer (release debates).
    registry: FeatureRegistry
    poll_seconds: float
    #: Marks this process's claims on queued announcements (`bot.cluster.Cluster.node_id`).
    claimer: str = "local"


class ReleaseService:
    """Subscriptions of a community, previews, the last announcements, and the buttons."""

    def __init__(self, parts: Collaborators) -> None:
        self.parts = parts

    async def require_manager(self, interaction: discord.Interaction) -> None:
        """Refuse a member who may not configure Agora in this community."""
        assert interaction.guild_id is not None  # the commands are guild-only
        require_manager(interaction, await self.parts.guilds.get_settings(interaction.guild_id))

    # -- subscriptions --------------------------------------------------------------------

    async def check_permissions(self, guild_id: int, channel: discord.abc.GuildChannel) -> None:
        """Refuse a channel where the bot could not announce (nothing is stored), naming the
        first permission it lacks there; the thread permissions count when the community
        opens a thread under every announcement."""
        settings = await self.parts.guilds.get_settings(guild_id)
        missing = missing_permissions(channel, threads=settings.announce_threads)
        if missing:
            raise UserFacingError(
                f"I cannot announce in {channel.mention}: I lack **{missing[0]}** there"
                + (f" (and {', '.join(missing[1:])})" if missing[1:] else "")
                + ". Grant it to my role in the channel's permissions, then try again."
            )

    async def follow(
        self,
        guild_id: int,
        channel_id: int,
        source: str,
        *,
        release_filter: ReleaseFilter,
        mention_role: int | None,
        created_by: int,
    ) -> Followed:
        """Follow `source` in a channel (or update the role and filter of that subscription);
        a feed's host must be public. Refuses a new one beyond the community's limit."""
        key = await self.parts.radar.validate_source(source)
        await self.parts.guilds.ensure(guild_id)
        try:
            subscription, created = await self.parts.subscriptions.follow(
                guild_id,
                channel_id,
                key,
                mention_role=mention_role,
                filter_text=release_filter.to_string(),
                created_by=created_by,
                limit=MAX_SUBSCRIPTIONS_PER_GUILD,
            )
        except SubscriptionLimitReached as exc:
            raise UserFacingError(
                f"This server already has {exc.limit} subscriptions "
                "(a source followed in a channel counts once per channel); "
                "unfollow one first."
            ) from None
        return Followed(subscription, created)

    async def unfollow(self, guild_id: int, source: str, channel_id: int | None) -> tuple[str, int]:
        """Stop following `source` (in one channel, or all); returns the key and how many
        subscriptions ended."""
        key = parse_source(source)
        removed = await self.parts.subscriptions.unfollow(guild_id, key, channel_id)
        if not removed:
            where = f" in <#{channel_id}>" if channel_id is not None else ""
            raise UserFacingError(f"This server does not follow {code(key)}{where}.")
        return key, removed

    async def listing(self, guild_id: int) -> list[tuple[Subscription, SourceStatus | None]]:
        """The community's subscriptions with their source's status."""
        return await self.parts.subscriptions.for_guild(guild_id)

    async def resume(self, guild_id: int, source: str) -> tuple[str, bool]:
        """Resume a source the community follows; returns the key and whether it was paused."""
        key = parse_source(source)
        status = await self.parts.outbox.source_status(key)
        if not await self.parts.subscriptions.resume(guild_id, key):
            raise UserFacingError(f"This server does not follow {code(key)}.")
        return key, status is not None and status.paused

    async def source_choices(self, guild_id: int, typed: str) -> list[app_commands.Choice[str]]:
        """The sources this community follows (at most 25; keys over 100 characters are
        typed rather than picked, as Discord caps a choice at 100)."""
        keys = await self.parts.subscriptions.guild_source_keys(
            guild_id, typed.strip()[: limits.CHOICE_NAME], limits.CHOICES
        )
        choices = [
            app_commands.Choice(name=k, value=k) for k in keys if len(k) <= limits.CHOICE_NAME
        ]
        return choices[: limits.CHOICES]

    # -- what was and would be announced --------------------------------------------------

    async def why(self, guild_id: int, item: str, channel_id: int | None) -> list[LedgerEntry]:
        """What happened to `item` in each subscription of the community (in one channel)."""
        rows = await self.parts.subscriptions.for_guild(guild_id)
        if channel_id is not None:
            rows = [(s, status) for s, status in rows if s.channel_id == channel_id]
        if not rows:
            where = f" in <#{channel_id}>" if channel_id is not None else ""
            raise UserFacingError(
                f"This server follows no release source{where}: try `/releases follow`."
            )
        return await self.parts.ledger.entries(rows, item)

    async def item_choices(self, guild_id: int, typed: str) -> list[app_commands.Choice[str]]:
        """The items the community's sources listed lately (at most 25, newest first)."""
        ids = await self.parts.ledger.recent_items(
            guild_id, typed.strip()[: limits.CHOICE_NAME], limits.CHOICES
        )
        return [app_commands.Choice(name=i, value=i) for i in ids if len(i) <= limits.CHOICE_NAME][
            : limits.CHOICES
        ]

    async def preview(self, source: str) -> tuple[str, list[AnnouncementCard]]:
        """The key and the cards of the newest items of `source`, newest first; posts nothing."""
        key = await self.parts.radar.validate_source(source)
        try:
            shown = await self.parts.radar.preview(key, count=PREVIEW_COUNT)
        except SourceError as exc:
            raise UserFacingError(
                f"{code(key)} could not be fetched ({exc.kind}): {safe_line(exc.message)}"
            ) from None
        return key, [card for _, card in reversed(shown)]

    async def latest(self, guild_id: int, count: int) -> list[Delivery]:
        """The community's last ``count`` posted announcements (1 to :data:`LATEST_MOST`:
        Discord checks the option's range, this holds without it), newest first."""
        count = min(max(count, 1), LATEST_MOST)
        return await self.parts.outbox.latest_for_guild(guild_id, count)

    # -- the announcement buttons ---------------------------------------------------------

    async def _own_delivery(
        self, interaction: discord.Interaction, delivery_id: int
    ) -> Delivery | None:
        """The announcement a button names (None when Agora no longer has it); a button naming
        another server's announcement (forged) is refused."""
        delivery = await self.parts.outbox.delivery(delivery_id)
        if delivery is not None:
            ensure_same_community(delivery.guild_id, interaction.guild_id)
        return delivery

    async def discuss(self, interaction: discord.Interaction, delivery_id: int) -> None:
        """Create the announcement's thread (public, named after the release) and link to it,
        or link to the thread that exists."""
        await self._own_delivery(interaction, delivery_id)
        message = interaction.message
        guild = interaction.guild
        if message is None or guild is None:
            raise UserFacingError("This button only works on an announcement in a server.")
        existing = guild.get_thread(message.id)
        if existing is not None:
            await interaction.response.send_message(
                f"The discussion is here: {existing.mention}", ephemeral=True
            )
            return
        title = message.embeds[0].title if message.embeds and message.embeds[0].title else ""
        try:
            thread = await message.create_thread(
                name=thread_name(title), auto_archive_duration=1440, reason="Release discussion"
            )
        except discord.HTTPException as exc:
            if exc.code != THREAD_ALREADY_EXISTS:
                raise
            # A thread started from a message has the message's id.
            await interaction.response.send_message(
                f"The discussion is here: <#{message.id}>", ephemeral=True
            )
            return
        await interaction.response.send_message(
            f"Discussion opened: {thread.mention}", ephemeral=True
        )

    async def debate(self, interaction: discord.Interaction, delivery_id: int) -> None:
        """Hand the release to the feature that offers release debates (it answers)."""
        debates = self.parts.registry.get(ReleaseDebates)
        if debates is None:
            raise UserFacingError("Debates are not available on this bot right now.")
        title, url = await self._release(interaction, delivery_id)
        await debates.start_release_debate(interaction, title, url)

    async def _release(
        self, interaction: discord.Interaction, delivery_id: int
    ) -> tuple[str, str | None]:
        """The release's title and link: from the delivery record, else from the embed."""
        delivery = await self._own_delivery(interaction, delivery_id)
        if delivery is not None:
            return delivery.title, delivery.url
        message = interaction.message
        embed = message.embeds[0] if message is not None and message.embeds else None
        if embed is None or not embed.title:
            raise UserFacingError("This announcement no longer exists in Agora's records.")
        return embed.title, embed.url
