"""Debates and polls: `/poll ...`, `/debate ...`, their buttons, deadlines and results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.debates._cog import DebatesCog

if TYPE_CHECKING:
    from bot.client import AgoraBot


async def setup(bot: AgoraBot) -> None:
    await bot.add_cog(DebatesCog(bot))
