"""Storing debates directly through the repository, for tests that need one in the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.debates.oxford import oxford_schedule
from bot.debates.records import DebateFormat, DebateRecord, DebateSource, PollRecord
from bot.repositories.debates import DebateRepository


async def manual_debate(
    repo: DebateRepository,
    guild_id: int,
    channel_id: int,
    creator_id: int,
    motion: str,
    *,
    now: datetime,
    format: DebateFormat = DebateFormat.QUICK,
    topic: str | None = None,
) -> tuple[DebateRecord, PollRecord]:
    """A debate started by hand at ``now`` on a four-hour Oxford schedule, and its opening
    stance vote."""
    return await repo.create_debate(
        guild_id,
        channel_id,
        creator_id,
        format=format,
        topic=topic,
        motion=motion,
        source=DebateSource.MANUAL,
        schedule=oxford_schedule(now, timedelta(hours=4)),
        now=now,
    )
