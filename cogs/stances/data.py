"""The stances feature's data hooks for the core's lifecycle (:class:`bot.features.DataHooks`).

The core calls them for `/stance export`, `/stance forget`, `/stance purge` and the retention
purge, inside one transaction across every loaded feature. The stances feature answers for its
own tables and for the observations (which debates write too): a debate's other data is the
debates feature's hooks' business.
"""

from __future__ import annotations

from typing import Any

from bot.database import Reader, Transaction
from bot.repositories.stances import StanceRepository
from bot.stances.export import authored_statements, build_export, declared_positions

#: The feature's name in the registry (and the key of its part of an export).
FEATURE = "stances"


class StanceData:
    """Export, forget and purge what the stances feature keeps."""

    def __init__(self, stances: StanceRepository) -> None:
        self._stances = stances

    async def export_member(self, db: Reader, guild_id: int, member_id: int) -> dict[str, Any]:
        """The member's observations, current declared positions, statement votes (with the
        statements' text), statements written, and visibility choice."""
        observations = await self._stances.member_observations(guild_id, member_id, db=db)
        votes = await self._stances.member_votes(guild_id, member_id, db=db)
        statements = await self._stances.statements_for_export(guild_id, member_id, db=db)
        visibility = await self._stances.get_visibility(guild_id, member_id, db=db)
        data = build_export(
            member_id,
            guild_id,
            declared_positions(observations),
            observations,
            votes,
            {s.id: s.text for s in statements},
            visibility,
        )
        data["statements_authored"] = authored_statements(member_id, statements)
        return data

    async def forget_member(self, tx: Transaction, guild_id: int, member_id: int) -> int:
        """Observations, statement votes and the visibility choice deleted; statements the
        member wrote keep their text without an author."""
        return (await self._stances.forget_member(tx, guild_id, member_id)).total

    async def purge_community(self, tx: Transaction, guild_id: int) -> int:
        return await self._stances.purge_community(tx, guild_id)
