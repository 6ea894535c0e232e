"""Administration: `/about` and `/agora settings`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.features import Feature
from cogs.admin.commands import AdminCog
from cogs.admin.service import AdminService

if TYPE_CHECKING:
    from bot.client import AgoraBot

FEATURE = "admin"


async def setup(bot: AgoraBot) -> None:
    await bot.add_feature(Feature(name=FEATURE, cog=AdminCog(AdminService(bot))))


async def teardown(bot: AgoraBot) -> None:
    await bot.remove_feature(FEATURE)
