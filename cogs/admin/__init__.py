"""Administration: `/about` and `/agora settings`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.admin._cog import AdminCog

if TYPE_CHECKING:
    from bot.client import AgoraBot


async def setup(bot: AgoraBot) -> None:
    await bot.add_cog(AdminCog(bot))
