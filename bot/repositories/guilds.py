"""Communities and their settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bot.community import GuildSettings
from bot.database import Reader
from bot.repositories import (
    Repository,
)

#: How settings with the weekly debate off are stored (``model_dump_json`` is compact), as a
#: ``LIKE`` pattern (the underscore escaped). ``{}``, a community without settings (the
#: defaults), is off too.
_WEEKLY_OFF = '"weekly\\_debate":"off"'


def _now() -> str:
    return datetime.now(UTC).isoformat()


class GuildRepository(Repository):
    async def ensure(self, guild_id: int) -> None:
        """Record that the bot is in `guild_id` (again): clears any pending purge."""
        await self._db.execute(
            "INSERT INTO guilds (guild_id, joined_at) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET left_at = NULL",
            (guild_id, _now()),
        )

    async def mark_left(self, guild_id: int) -> None:
        """Record when the bot left, starting the retention period."""
        await self._db.execute(
            "UPDATE guilds SET left_at = ? WHERE guild_id = ? AND left_at IS NULL",
            (_now(), guild_id),
        )

    async def present_ids(self) -> list[int]:
        """The communities the bot is recorded as being in."""
        rows = await self._db.fetch_all("SELECT guild_id FROM guilds WHERE left_at IS NULL")
        return [int(row[0]) for row in rows]

    async def update_settings(
        self, guild_id: int, change: Callable[[GuildSettings], GuildSettings]
    ) -> GuildSettings:
        """Read, change and store the settings in one transaction (no lost update)."""
        async with self._db.transaction() as tx:
            raw = await tx.fetch_value(
                "SELECT settings FROM guilds WHERE guild_id = ?", (guild_id,)
            )
            current = GuildSettings.model_validate_json(raw) if raw else GuildSettings()
            updated = change(current)
            await tx.execute(
                "INSERT INTO guilds (guild_id, settings, joined_at) VALUES (?, ?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET settings = excluded.settings",
                (guild_id, updated.model_dump_json(), _now()),
            )
        return updated

    async def get_settings(self, guild_id: int) -> GuildSettings:
        """The community's settings (defaults when none are stored)."""
        raw = await self._db.fetch_value(
            "SELECT settings FROM guilds WHERE guild_id = ?", (guild_id,)
        )
        return GuildSettings.model_validate_json(raw) if raw else GuildSettings()

    async def with_weekly_debate(self) -> dict[int, GuildSettings]:
        """The settings of the communities whose weekly debate may be on, in one query (the
        debates job asks every 10 s, whatever the number of communities). Only settings stored
        as Agora writes them with the weekly debate off, and no settings at all, are left out
        in SQL; the caller reads each schedule itself."""
        rows = await self._db.fetch_all(
            "SELECT guild_id, settings FROM guilds "
            "WHERE settings <> '{}' AND settings NOT LIKE ? ESCAPE '\\'",
            (f"%{_WEEKLY_OFF}%",),
        )
        return {int(row[0]): GuildSettings.model_validate_json(row[1]) for row in rows}

    async def save_settings(self, guild_id: int, settings: GuildSettings) -> None:
        """Store the community's settings, creating its row if needed."""
        await self._db.execute(
            "INSERT INTO guilds (guild_id, settings, joined_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET settings = excluded.settings",
            (guild_id, settings.model_dump_json(), _now()),
        )

    async def left_before(self, guild_id: int) -> str | None:
        """When the bot left the community (ISO time), or None while it is present."""
        value = await self._db.fetch_value(
            "SELECT left_at FROM guilds WHERE guild_id = ?", (guild_id,)
        )
        return str(value) if value else None

    async def communities_left(self) -> list[tuple[int, str, str]]:
        """Communities the bot has left: (guild id, left_at ISO time, settings JSON)."""
        rows = await self._db.fetch_all(
            "SELECT guild_id, left_at, settings FROM guilds WHERE left_at IS NOT NULL"
        )
        return [(int(r["guild_id"]), str(r["left_at"]), str(r["settings"])) for r in rows]

    async def count(self) -> int:
        """How many communities the bot is in."""
        return int(await self._db.fetch_value("SELECT count(*) FROM guilds WHERE left_at IS NULL"))


class MetaRepository(Repository):
    """Small key/value facts about this installation (e.g. the synced commands' hash)."""

    async def get(self, key: str) -> str | None:
        value = await self._db.fetch_value("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    async def set(self, key: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


# -- the schema, for the core's community purge -----------------------------------------------


def quote(identifier: str) -> str:
    """An SQL identifier in double quotes (names come from the schema, never from users)."""
    return '"' + identifier.replace('"', '""') + '"'


async def community_tables(db: Reader) -> list[str]:
    """Every table with a `guild_id` column (whichever feature created it), by name."""
    return await db.tables_with_column("guild_id")


async def dependent_tables(db: Reader, parents: list[str]) -> list[tuple[str, str, str, str]]:
    """Tables *without* `guild_id` whose foreign keys point at one of `parents`:
    (child, child column, parent, parent column); a purge deletes their rows first."""
    with_guild = set(parents) | set(await community_tables(db))
    wanted = set(parents)
    return [
        (key.child, key.column, key.parent, key.parent_column)
        for key in await db.foreign_keys()
        if key.parent in wanted and key.child not in with_guild
    ]
