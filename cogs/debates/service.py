"""What the poll and debate services share, and the feature's deadline job.

The behaviour itself is in :mod:`cogs.debates.polls` (:class:`PollService`) and
:mod:`cogs.debates.debates` (:class:`DebateService`), on top of the domain code in
:mod:`bot.debates` and the SQL in :mod:`bot.repositories`. :class:`DeadlineService` runs what
is due (polls past their deadline, debate phases, weekly debates) as one background job.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord

from bot.checks import may_start_debates
from bot.cluster import Shards
from bot.errors import UserFacingError
from bot.features import Job
from bot.repositories.guilds import GuildRepository

if TYPE_CHECKING:
    from bot.charts import ChartWorker
    from bot.repositories.debates import DebateRepository
    from bot.repositories.polls import PollRepository

if TYPE_CHECKING:
    from cogs.debates.arguments import ArgumentService
    from cogs.debates.debates import DebateService
    from cogs.debates.polls import PollService

log = logging.getLogger(__name__)

#: How often due polls, debate phases and the weekly debates are checked.
TICK_SECONDS = 10.0
DEADLINE_JOB = "debates-deadlines"
#: Seconds between two edits of one message (Discord allows about 5 edits / 5 s): a burst of
#: votes or upvotes becomes a few edits.
EDIT_INTERVAL = 1.5


def utcnow() -> datetime:
    return datetime.now(UTC)


async def response_message_id(
    interaction: discord.Interaction, callback: discord.InteractionCallbackResponse[Any]
) -> int:
    """The id of the message an interaction response created (from the callback's answer,
    without another request when Discord included it)."""
    if callback.message_id is not None:
        return callback.message_id
    return (await interaction.original_response()).id


@dataclass(frozen=True, slots=True)
class DebateParts:
    """What the poll and debate services are built from (in the feature's `setup`), and
    what both do with it."""

    bot: discord.Client
    polls: PollRepository
    debates: DebateRepository
    guilds: GuildRepository
    charts: ChartWorker
    #: The communities whose deadlines this process handles (its shards; all when alone).
    shards: Shards = Shards()

    async def require_starter(self, interaction: discord.Interaction) -> None:
        """Refuse members outside the community's ``debate_role`` (when one is set)."""
        assert interaction.guild_id is not None
        settings = await self.guilds.get_settings(interaction.guild_id)
        if not may_start_debates(interaction.user, settings):
            raise UserFacingError(
                f"Only members with the <@&{settings.debate_role}> role can start polls and "
                "debates in this server."
            )

    async def post_result(
        self,
        channel: discord.abc.Messageable,
        embed: discord.Embed,
        chart: bytes,
        kind: str,
        row_id: int,
    ) -> int:
        """Post a poll's or a debate's result with its chart, once (the nonce dedupes a repeated
        post); the message id, or 0 when the channel is gone or closed to the bot (the result
        is then recorded as never postable)."""
        try:
            message = await channel.send(
                embed=embed,
                file=discord.File(io.BytesIO(chart), filename="results.png"),
                nonce=f"agora-{kind}-{row_id}",
            )
        except (discord.NotFound, discord.Forbidden) as exc:
            log.warning("cannot post the result of %s %s: %s", kind, row_id, exc)
            return 0
        return message.id


@dataclass(frozen=True, slots=True)
class DebateServices:
    """The feature's three services, built once in `setup`: the cog and the deadline job
    both work through them."""

    polls: PollService
    debates: DebateService
    arguments: ArgumentService


class DeadlineService:
    """Closes due polls, advances debate phases, starts weekly debates: one job that never
    dies (each step's failure is logged, the others still run)."""

    def __init__(self, services: DebateServices) -> None:
        self._services = services

    async def run_due(self) -> None:
        """One pass of the deadline job (tests call it directly instead of waiting)."""
        now, polls, debates = utcnow(), self._services.polls, self._services.debates
        for step in (polls.run_due, debates.run_due, debates.run_weekly):
            try:
                await step(now)
            except Exception:
                log.exception("the deadline job's %s failed", step.__name__)

    def job(self) -> Job:
        return Job(DEADLINE_JOB, TICK_SECONDS, self.run_due)

    async def close(self) -> None:
        """Deliver the pending message edits of every service and stop accepting more."""
        for service in (self._services.polls, self._services.debates, self._services.arguments):
            await service.edits.aclose()
