"""Reaching the release feature's service and outbox worker in a running bot."""

from __future__ import annotations

from bot.client import AgoraBot
from cogs.releases.delivery import RADAR_JOB, ReleaseDelivery
from cogs.releases.service import ReleaseService
from tests.harness import provided


def radar_of(bot: AgoraBot) -> ReleaseDelivery:
    """The running bot's outbox worker (radar cycles, the drain)."""
    return provided(bot, ReleaseDelivery)


def releases_of(bot: AgoraBot) -> ReleaseService:
    """The running bot's release service."""
    return provided(bot, ReleaseService)


def radar_runs(bot: AgoraBot) -> int:
    """How many runs of the radar job finished since the bot started (the first one drains
    what a crash left in the outbox, then runs a cycle)."""
    status = bot.jobs.status.get(RADAR_JOB)
    return status.runs if status is not None else 0
