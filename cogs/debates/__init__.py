"""Debates and polls: `/poll ...`, `/debate ...`, their buttons, deadlines and results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.features import Feature
from bot.interfaces import ReleaseDebates
from bot.repositories.debates import DebateRepository
from bot.repositories.debates_data import DebatesData
from bot.repositories.polls import PollRepository
from cogs.debates.arguments import ArgumentService
from cogs.debates.commands import DebatesCog
from cogs.debates.components import COMPONENTS, FEATURE
from cogs.debates.debates import DebateService
from cogs.debates.polls import PollService
from cogs.debates.service import DeadlineService, DebateParts, DebateServices

if TYPE_CHECKING:
    from bot.client import AgoraBot


async def setup(bot: AgoraBot) -> None:
    polls_repo, debates_repo = PollRepository(bot.db), DebateRepository(bot.db)
    parts = DebateParts(
        bot, polls_repo, debates_repo, bot.guild_repo, bot.charts, bot.cluster.shards
    )
    debates = DebateService(parts)
    polls = PollService(parts, debates)
    arguments = ArgumentService(bot, debates_repo)
    services = DebateServices(polls, debates, arguments)
    deadlines = DeadlineService(services)
    await bot.add_feature(
        Feature(
            name=FEATURE,
            cog=DebatesCog(services),
            components=COMPONENTS,
            jobs=(deadlines.job(),),
            data=DebatesData(),
            provides={
                ReleaseDebates: debates,
                PollService: polls,
                DebateService: debates,
                ArgumentService: arguments,
                DeadlineService: deadlines,
            },
            close=deadlines.close,
        )
    )


async def teardown(bot: AgoraBot) -> None:
    await bot.remove_feature(FEATURE)
