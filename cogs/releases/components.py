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


def announcement_view(delivery_id: int, *, with_debate: bool) -> discord.ui.View:
    """The buttons of one announcement (the debate button only when a loaded feature offers
    release debates)."""
    view = discord.ui.View(timeout=None)
    view.add_item(DiscussButton(delivery_id))
    if with_debate:
        view.add_item(DebateButton(delivery_id))
    return view
