"""What the operator endpoint reads when scraped: counts across the whole installation, never
one community's data."""

from __future__ import annotations

from dataclasses import dataclass

from bot.repositories import Repository


@dataclass(frozen=True, slots=True)
class ReleaseBacklog:
    pending_deliveries: int
    sources_paused: int


class OperationsRepository(Repository):
    async def release_backlog(self) -> ReleaseBacklog:
        """Announcements queued and not posted yet, and release sources paused after failures."""
        row = await self._db.fetch_one(
            "SELECT (SELECT count(*) FROM release_deliveries WHERE status = 'pending'), "
            "(SELECT count(*) FROM release_sources WHERE paused = 1)"
        )
        assert row is not None
        return ReleaseBacklog(int(row[0]), int(row[1]))
