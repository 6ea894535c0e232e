"""The buttons under a release announcement, as `DynamicItem`s that survive restarts.

Their `custom_id` carries the delivery id (a row of `release_deliveries`), so a click works
whether or not the bot restarted since the announcement was posted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.error_handler import reply_with_error
from bot.errors import UserFacingError
from bot.repositories.releases import Delivery, ReleaseRepository
from bot.text import cut

if TYPE_CHECKING:
    from bot.client import AgoraBot

log = logging.getLogger(__name__)

#: The cog and method another feature exposes to start a stance poll about a release.
DEBATES_COG = "Debates"
DEBATE_HOOK = "start_release_debate"
THREAD_NAME_LIMIT = 100
#: Discord's error code for "a thread has already been created for this message".
THREAD_ALREADY_EXISTS = 160004

ReleaseDebateHook = Callable[[discord.Interaction, str, "str | None"], Awaitable[None]]


def release_debate_hook(bot: discord.Client) -> ReleaseDebateHook | None:
    """`DebatesCog.start_release_debate` when the debates feature is loaded, else None."""
    getter = getattr(bot, "get_cog", None)
    cog = getter(DEBATES_COG) if getter is not None else None
    hook = getattr(cog, DEBATE_HOOK, None) if cog is not None else None
    return cast(ReleaseDebateHook, hook) if callable(hook) else None


def thread_name(title: str) -> str:
    """A thread name from an announcement title (Discord allows 100 characters)."""
    return cut(" ".join(title.split()), THREAD_NAME_LIMIT) or "Release discussion"


class DiscussButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"agora:rel:discuss:(?P<delivery>[0-9]{1,20})",
):
    """Opens a thread under the announcement, or points to the one that exists."""

    def __init__(self, delivery_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Discuss",
                emoji="\N{SPEECH BALLOON}",
                style=discord.ButtonStyle.secondary,
                custom_id=f"agora:rel:discuss:{delivery_id}",
            )
        )
        self.delivery_id = delivery_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> DiscussButton:
        return cls(int(match["delivery"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await refuse_foreign_delivery(interaction, self.delivery_id)
            await open_discussion(interaction)
        except Exception as exc:
            await reply_with_error(interaction, exc)


FOREIGN_BUTTON = "This button belongs to another server; nothing was changed."


async def refuse_foreign_delivery(
    interaction: discord.Interaction, delivery_id: int
) -> Delivery | None:
    """Refuse a button whose custom id names another server's announcement (forged); else
    the delivery (None when Agora no longer has it)."""
    bot = cast("AgoraBot", interaction.client)
    delivery = await ReleaseRepository(bot.db).delivery(delivery_id)
    if delivery is not None and delivery.guild_id != interaction.guild_id:
        raise UserFacingError(FOREIGN_BUTTON)
    return delivery


async def open_discussion(interaction: discord.Interaction) -> None:
    """Create the announcement's thread (public, named after the release) and link to it."""
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
    await interaction.response.send_message(f"Discussion opened: {thread.mention}", ephemeral=True)


class DebateButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"agora:rel:debate:(?P<delivery>[0-9]{1,20})",
):
    """Hands the release to the debates feature (`DebatesCog.start_release_debate`)."""

    def __init__(self, delivery_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Debate this release",
                emoji="\u2696\ufe0f",
                style=discord.ButtonStyle.primary,
                custom_id=f"agora:rel:debate:{delivery_id}",
            )
        )
        self.delivery_id = delivery_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> DebateButton:
        return cls(int(match["delivery"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self._start(interaction)
        except Exception as exc:
            await reply_with_error(interaction, exc)

    async def _start(self, interaction: discord.Interaction) -> None:
        hook = release_debate_hook(interaction.client)
        if hook is None:
            raise UserFacingError("Debates are not available on this bot right now.")
        title, url = await self._release(interaction)
        await hook(interaction, title, url)

    async def _release(self, interaction: discord.Interaction) -> tuple[str, str | None]:
        """The release's title and link: from the delivery record, else from the embed."""
        delivery = await refuse_foreign_delivery(interaction, self.delivery_id)
        if delivery is not None:
            return delivery.title, delivery.url
        message = interaction.message
        embed = message.embeds[0] if message is not None and message.embeds else None
        if embed is None or not embed.title:
            raise UserFacingError("This announcement no longer exists in Agora's records.")
        return embed.title, embed.url


def announcement_view(delivery_id: int, *, with_debate: bool) -> discord.ui.View:
    """The buttons of one announcement (the debate button only when debates are loaded)."""
    view = discord.ui.View(timeout=None)
    view.add_item(DiscussButton(delivery_id))
    if with_debate:
        view.add_item(DebateButton(delivery_id))
    return view


def dynamic_items() -> tuple[type[discord.ui.DynamicItem[Any]], ...]:
    """The item classes to register with `bot.add_dynamic_items`."""
    return (DiscussButton, DebateButton)
