"""The buttons under a release announcement, persistent across restarts.

Their custom id carries the delivery id (a row of `release_deliveries`):
``agora:releases:discuss:<delivery>`` and ``agora:releases:debate:<delivery>``; announcements
posted by earlier versions carry ``agora:rel:discuss:<delivery>`` / ``agora:rel:debate:<delivery>``
and keep working (``legacy``).
"""

from __future__ import annotations

from typing import Any

import discord

from bot.components import AgoraButton, AgoraItem, service
from cogs.releases.service import ReleaseService

FEATURE = "releases"


class DiscussButton(AgoraButton, feature=FEATURE, kind="discuss", legacy=("agora:rel:discuss",)):
    """Opens a thread under the announcement, or points to the one that exists."""

    label, emoji = "Discuss", "\N{SPEECH BALLOON}"

    async def run(self, interaction: discord.Interaction) -> None:
        await service(interaction, ReleaseService).discuss(interaction, self.target_id)


class DebateButton(AgoraButton, feature=FEATURE, kind="debate", legacy=("agora:rel:debate",)):
    """Hands the release to the feature offering :class:`bot.interfaces.ReleaseDebates`."""

    label, emoji, style = "Debate this release", "\u2696\ufe0f", discord.ButtonStyle.primary

    async def run(self, interaction: discord.Interaction) -> None:
        await service(interaction, ReleaseService).debate(interaction, self.target_id)


#: The persistent components the feature registers.
COMPONENTS: tuple[type[AgoraItem[Any]], ...] = (DiscussButton, DebateButton)


class AnnouncementButtons:
    """The buttons of announcements, built once (per drain) and pointed at each announcement
    in turn: only their custom ids differ. The view is serialised into each announcement's
    request (`to_components`); nothing is kept per message, as the buttons are dynamic items
    the feature registers once."""

    def __init__(self, *, with_debate: bool) -> None:
        self.view = discord.ui.View(timeout=None)
        self._buttons: list[AgoraButton] = [DiscussButton(0)]
        if with_debate:  # only when a loaded feature offers release debates
            self._buttons.append(DebateButton(0))
        for button in self._buttons:
            self.view.add_item(button)

    def for_delivery(self, delivery_id: int) -> discord.ui.View:
        """The view, its buttons now carrying `delivery_id`."""
        for button in self._buttons:
            button.custom_id = button.make_id(delivery_id)
        return self.view
