"""The debates feature's data hooks (:class:`bot.features.DataHooks`): what polls and debates
keep about a member, exported, forgotten, and a community's rows purged.

The core's lifecycle calls them inside its one transaction (``/stance export``, ``/stance
forget``, ``/stance purge``, the retention job), so they only use the reader or transaction
they are given. Stance observations made by debate votes belong to the stances feature's hooks.
"""

from __future__ import annotations

import json
from typing import Any

from bot.database import Reader, Transaction
from bot.debates.export import iso_utc
from bot.repositories.polls import from_timestamp

#: Who an argument's author or a poll's creator becomes once forgotten ("a former member").
FORMER_MEMBER = 0


def _option_label(options: str, index: int) -> str | None:
    """Label ``index`` of a poll's JSON array of options (None if it cannot be read)."""
    try:
        return str(json.loads(options)[index])
    except (ValueError, TypeError, IndexError, KeyError):
        return None


def _at(seconds: float) -> str:
    moment = from_timestamp(seconds)
    assert moment is not None
    return iso_utc(moment)


class DebatesData:
    """Export, forget and purge what polls and debates keep."""

    async def export_member(self, db: Reader, guild_id: int, member_id: int) -> dict[str, Any]:
        """The member's poll and debate votes, the arguments they posted and the ones they
        upvoted in the community, oldest first, times as ISO 8601 UTC."""
        return {
            "poll_votes": await self._poll_votes(db, guild_id, member_id),
            "debate_arguments": await self._arguments(db, guild_id, member_id),
            "argument_upvotes": await self._upvotes(db, guild_id, member_id),
        }

    async def _poll_votes(self, db: Reader, guild_id: int, member_id: int) -> list[dict[str, Any]]:
        rows = await db.fetch_all(
            "SELECT p.number, p.kind, p.question, p.options, d.number AS debate, v.option, "
            "v.voted_at FROM votes v JOIN polls p ON p.id = v.poll_id "
            "LEFT JOIN debates d ON d.id = p.debate_id "
            "WHERE p.guild_id = ? AND v.member_id = ? ORDER BY v.voted_at, p.number, v.option",
            (guild_id, member_id),
        )
        return [
            {
                "poll_number": int(r["number"]),
                "kind": r["kind"],
                "question": r["question"],
                "debate_number": r["debate"],
                "option": int(r["option"]),
                "option_label": _option_label(r["options"], int(r["option"])),
                "at": _at(r["voted_at"]),
            }
            for r in rows
        ]

    async def _arguments(self, db: Reader, guild_id: int, member_id: int) -> list[dict[str, Any]]:
        rows = await db.fetch_all(
            "SELECT d.number, a.side, a.text, a.posted_at FROM debate_arguments a "
            "JOIN debates d ON d.id = a.debate_id WHERE d.guild_id = ? AND a.member_id = ? "
            "ORDER BY a.posted_at, a.id",
            (guild_id, member_id),
        )
        return [
            {
                "debate_number": int(r["number"]),
                "side": "share" if int(r["side"]) > 0 else "safeguard",
                "text": r["text"],
                "at": _at(r["posted_at"]),
            }
            for r in rows
        ]

    async def _upvotes(self, db: Reader, guild_id: int, member_id: int) -> list[dict[str, Any]]:
        rows = await db.fetch_all(
            "SELECT d.number, a.text, u.upvoted_at FROM argument_upvotes u "
            "JOIN debate_arguments a ON a.id = u.argument_id JOIN debates d ON d.id = a.debate_id "
            "WHERE d.guild_id = ? AND u.member_id = ? ORDER BY u.upvoted_at, a.id",
            (guild_id, member_id),
        )
        return [
            {
                "debate_number": int(r["number"]),
                "argument": r["text"],
                "at": _at(r["upvoted_at"]),
            }
            for r in rows
        ]

    async def forget_member(self, tx: Transaction, guild_id: int, member_id: int) -> int:
        """Remove the member from the community's polls and debates; returns rows changed.

        Votes in open polls are deleted (the member can no longer be counted there). Votes in
        closed polls stay under a pseudonym (the next unused negative id in that poll), so
        the published totals and turnout do not change but the member is gone. Arguments keep
        their text without an author; the member's upvotes are deleted; polls and debates
        they started stay, without their creator (only managers may close them then).
        """
        changed = await tx.execute_rowcount(
            "DELETE FROM votes WHERE member_id = ? AND poll_id IN "
            "(SELECT id FROM polls WHERE guild_id = ? AND closed_at IS NULL)",
            (member_id, guild_id),
        )
        closed = await tx.fetch_all(
            "SELECT DISTINCT v.poll_id FROM votes v JOIN polls p ON p.id = v.poll_id "
            "WHERE v.member_id = ? AND p.guild_id = ?",
            (member_id, guild_id),
        )
        for row in closed:
            lowest = await tx.fetch_one(
                "SELECT CASE WHEN min(member_id) < 0 THEN min(member_id) ELSE 0 END FROM votes "
                "WHERE poll_id = ?",
                (row[0],),
            )
            pseudonym = int(lowest[0] if lowest else 0) - 1
            changed += await tx.execute_rowcount(
                "UPDATE votes SET member_id = ? WHERE poll_id = ? AND member_id = ?",
                (pseudonym, row[0], member_id),
            )
        changed += await tx.execute_rowcount(
            "DELETE FROM argument_upvotes WHERE member_id = ? AND argument_id IN "
            "(SELECT a.id FROM debate_arguments a JOIN debates d ON d.id = a.debate_id "
            "WHERE d.guild_id = ?)",
            (member_id, guild_id),
        )
        changed += await tx.execute_rowcount(
            "UPDATE debate_arguments SET member_id = ? WHERE member_id = ? AND debate_id IN "
            "(SELECT id FROM debates WHERE guild_id = ?)",
            (FORMER_MEMBER, member_id, guild_id),
        )
        for sql in (
            "UPDATE polls SET creator_id = ? WHERE guild_id = ? AND creator_id = ?",
            "UPDATE debates SET creator_id = ? WHERE guild_id = ? AND creator_id = ?",
        ):
            changed += await tx.execute_rowcount(sql, (FORMER_MEMBER, guild_id, member_id))
        return changed

    async def purge_community(self, tx: Transaction, guild_id: int) -> int:
        """Delete every poll, vote, debate, argument, upvote and weekly run of the community,
        children before parents; returns rows deleted."""
        statements = (
            "DELETE FROM argument_upvotes WHERE argument_id IN (SELECT a.id FROM "
            "debate_arguments a JOIN debates d ON d.id = a.debate_id WHERE d.guild_id = ?)",
            "DELETE FROM debate_arguments WHERE debate_id IN "
            "(SELECT id FROM debates WHERE guild_id = ?)",
            "DELETE FROM votes WHERE poll_id IN (SELECT id FROM polls WHERE guild_id = ?)",
            "DELETE FROM polls WHERE guild_id = ?",
            "DELETE FROM debates WHERE guild_id = ?",
            "DELETE FROM weekly_debate_runs WHERE guild_id = ?",
        )
        deleted = 0
        for sql in statements:
            deleted += await tx.execute_rowcount(sql, (guild_id,))
        return deleted
