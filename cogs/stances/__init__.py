"""Stances: members' positions, the community's picture, the opinion map (`/stance`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.features import Feature
from bot.repositories.observations import ObservationRepository
from bot.repositories.stances import StanceRepository
from cogs.stances.commands import StancesCog
from cogs.stances.components import COMPONENTS
from cogs.stances.data import FEATURE, StanceData
from cogs.stances.service import StanceService

if TYPE_CHECKING:
    from bot.client import AgoraBot


async def setup(bot: AgoraBot) -> None:
    stances = StanceRepository(bot.db)
    service = StanceService(
        stances, ObservationRepository(bot.db), bot.guild_repo, bot.charts, bot.lifecycle
    )
    await bot.add_feature(
        Feature(
            name=FEATURE,
            cog=StancesCog(service),
            components=COMPONENTS,
            data=StanceData(stances),
            provides={StanceService: service},
        )
    )


async def teardown(bot: AgoraBot) -> None:
    await bot.remove_feature(FEATURE)
