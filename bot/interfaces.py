"""Typed interfaces one feature offers another, found with ``bot.registry.get(Interface)``.

A feature that needs another one asks the registry for an interface by type and works without it
when that feature is not loaded (``get`` returns None); nothing names a cog or a method in a string.
"""

from __future__ import annotations

from typing import Protocol

import discord


class ReleaseDebates(Protocol):
    """Offered by the debates feature; used by the release radar's "Debate this release" button."""

    async def start_release_debate(
        self, interaction: discord.Interaction, title: str, url: str | None
    ) -> None:
        """Start a quick debate "Should <title> have been released this openly?" in the
        interaction's channel and answer the interaction (errors are raised to the caller)."""
        ...
