"""Stances: members' positions, the community's picture, the opinion map (`/stance`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.stances._cog import StancesCog

if TYPE_CHECKING:
    from bot.client import AgoraBot


async def setup(bot: AgoraBot) -> None:
    await bot.add_cog(StancesCog(bot))
