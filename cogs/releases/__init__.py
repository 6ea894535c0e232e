"""Release radar: `/releases …` and the loop that announces new releases once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.releases._cog import ReleasesCog

if TYPE_CHECKING:
    from bot.client import AgoraBot


async def setup(bot: AgoraBot) -> None:
    await bot.add_cog(ReleasesCog(bot))
