"""When a community's stance data is deleted after the bot left it.

``/agora settings retention_days`` (1–365, default 30) is how long data is kept after the bot
leaves a server, in case it is re-invited; a periodic task purges what is due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.stances.models import require_aware


def purge_at(left_at: datetime, retention_days: int) -> datetime:
    """The moment data of a community left at ``left_at`` becomes due for deletion."""
    require_aware(left_at, "left_at")
    if retention_days < 0:
        raise ValueError("retention_days cannot be negative")
    return left_at + timedelta(days=retention_days)


def purge_due(left_at: datetime | None, retention_days: int, now: datetime) -> bool:
    """True when the bot left the community (``left_at`` set) at least ``retention_days`` ago.

    ``None`` means the bot is still there (or was re-invited): never due. Both datetimes must be
    timezone-aware.
    """
    require_aware(now, "now")
    if left_at is None:
        return False
    return now >= purge_at(left_at, retention_days)
