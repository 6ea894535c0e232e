"""Stances: privacy choices, opinion-map statements and votes, forgetting and purging.

All SQL of the stances feature lives here (the observations themselves are shared with the
debates feature through :mod:`bot.repositories.observations`). One documented method per query.

Two reads are heavy enough to leave the bot's single aiosqlite connection alone:
:meth:`StanceRepository.observation_columns` (the trend of ``/stance community`` reads every
observation of a community, up to millions of rows) and :meth:`StanceRepository.vote_triples`
(the opinion map's whole vote matrix). They open a short-lived read-only connection in a worker
thread and stream rows straight into numpy arrays, so neither the event loop nor other queries
wait for them (WAL lets the read proceed while the bot writes).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.database import Database
from bot.repositories.debates_data import DebatesData
from bot.stance_scale import Stance
from bot.stances.models import Observation, StatementVote, Visibility, from_timestamp

log = logging.getLogger(__name__)

#: Tables the community purge never touches (they hold no community data).
_NOT_COMMUNITY_TABLES = frozenset({"meta"})

_OBSERVATION_DTYPE = np.dtype([("member_id", np.int64), ("value", np.int8), ("at", np.float64)])
_VOTE_DTYPE = np.dtype([("member_id", np.int64), ("statement_id", np.int64), ("value", np.int8)])


def _now() -> float:
    return datetime.now(UTC).timestamp()


@dataclass(frozen=True, slots=True)
class ObservationColumns:
    """A community's observations as numpy columns, in time order (ties: insertion order)."""

    member_ids: npt.NDArray[np.int64]
    values: npt.NDArray[np.int8]
    timestamps: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.member_ids.size)


@dataclass(frozen=True, slots=True)
class Statement:
    id: int
    guild_id: int
    number: int
    author_id: int | None
    text: str
    created_at: datetime
    removed: bool


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """How many rows `/stance forget` deleted or unlinked, per kind."""

    observations: int
    statement_votes: int
    statements_unlinked: int
    visibility: int


def _statement(row: sqlite3.Row) -> Statement:
    return Statement(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        number=int(row["number"]),
        author_id=None if row["author_id"] is None else int(row["author_id"]),
        text=str(row["text"]),
        created_at=from_timestamp(row["created_at"]),
        removed=bool(row["removed"]),
    )


def _option_label(options: str, index: int) -> str | None:
    """Label ``index`` of a poll's JSON array of options (None if it cannot be read)."""
    try:
        labels = json.loads(options)
        return str(labels[index])
    except (ValueError, TypeError, IndexError, KeyError):
        return None


def _quote(identifier: str) -> str:
    """An SQL identifier in double quotes (names come from sqlite_master, never from users)."""
    return '"' + identifier.replace('"', '""') + '"'


class StanceRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- visibility -----------------------------------------------------------------------

    async def get_visibility(self, guild_id: int, member_id: int) -> Visibility:
        """The member's choice; private when they never chose."""
        value = await self._db.fetch_value(
            "SELECT visibility FROM stance_visibility WHERE guild_id = ? AND member_id = ?",
            (guild_id, member_id),
        )
        return Visibility(value) if value else Visibility.PRIVATE

    async def set_visibility(self, guild_id: int, member_id: int, visibility: Visibility) -> None:
        """Store the member's choice (public or private)."""
        await self._db.execute(
            "INSERT INTO stance_visibility (guild_id, member_id, visibility, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (guild_id, member_id) DO UPDATE SET "
            "visibility = excluded.visibility, updated_at = excluded.updated_at",
            (guild_id, member_id, Visibility(visibility).value, _now()),
        )

    # -- observations ---------------------------------------------------------------------

    async def member_observations(self, guild_id: int, member_id: int) -> list[Observation]:
        """A member's observations in one community (every topic), oldest first."""
        rows = await self._db.fetch_all(
            "SELECT member_id, topic, value, source, observed_at FROM stance_observations "
            "WHERE guild_id = ? AND member_id = ? ORDER BY observed_at, id",
            (guild_id, member_id),
        )
        return [
            Observation(
                member_id=int(r["member_id"]),
                value=Stance(int(r["value"])),
                at=from_timestamp(r["observed_at"]),
                source=str(r["source"]),
                topic=r["topic"],
            )
            for r in rows
        ]

    async def observation_columns(self, guild_id: int, topic: str | None) -> ObservationColumns:
        """Every observation of a community on one topic (None: the general question) as
        numpy columns, oldest first. Read in a worker thread on a separate read-only connection
        (see the module docstring); the covering index of migration 0005 answers it."""
        return await asyncio.to_thread(_read_observation_columns, self._db.path, guild_id, topic)

    # -- statements -----------------------------------------------------------------------

    async def add_statement(self, guild_id: int, author_id: int, text: str) -> Statement:
        """Store a statement under the community's next number (1, 2, 3… never reused)."""
        now = _now()
        async with self._db.transaction() as tx:
            number = await tx.fetch_one(
                "SELECT coalesce(max(number), 0) + 1 FROM stance_statements WHERE guild_id = ?",
                (guild_id,),
            )
            assert number is not None
            rowid = await tx.execute(
                "INSERT INTO stance_statements (guild_id, number, author_id, text, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (guild_id, int(number[0]), author_id, text, now),
            )
        return Statement(
            rowid, guild_id, int(number[0]), author_id, text, from_timestamp(now), False
        )

    async def statement_by_number(self, guild_id: int, number: int) -> Statement | None:
        """The community's statement with this number (removed ones included)."""
        row = await self._db.fetch_one(
            "SELECT * FROM stance_statements WHERE guild_id = ? AND number = ?",
            (guild_id, number),
        )
        return None if row is None else _statement(row)

    async def statement_by_id(self, statement_id: int) -> Statement | None:
        """A statement by its internal id (the id carried by vote buttons)."""
        row = await self._db.fetch_one(
            "SELECT * FROM stance_statements WHERE id = ?", (statement_id,)
        )
        return None if row is None else _statement(row)

    async def find_statements(self, guild_id: int, text: str, limit: int = 25) -> list[Statement]:
        """Active statements whose number or text contains `text`, newest first (autocomplete)."""
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await self._db.fetch_all(
            "SELECT * FROM stance_statements WHERE guild_id = ? AND removed = 0 AND "
            "(CAST(number AS TEXT) LIKE ? ESCAPE '\\' OR text LIKE ? ESCAPE '\\') "
            "ORDER BY number DESC LIMIT ?",
            (guild_id, pattern, pattern, limit),
        )
        return [_statement(r) for r in rows]

    async def active_statements(self, guild_id: int) -> list[Statement]:
        """The community's statements that are not removed, by number."""
        rows = await self._db.fetch_all(
            "SELECT * FROM stance_statements WHERE guild_id = ? AND removed = 0 ORDER BY number",
            (guild_id,),
        )
        return [_statement(r) for r in rows]

    async def remove_statement(self, statement_id: int) -> bool:
        """Hide a statement from dealing and from the map; False if it was already removed."""
        async with self._db.transaction() as tx:
            changed = await tx.execute_rowcount(
                "UPDATE stance_statements SET removed = 1 WHERE id = ? AND removed = 0",
                (statement_id,),
            )
        return changed > 0

    async def next_statement(self, guild_id: int, member_id: int) -> Statement | None:
        """An active statement the member has not voted on: the one with the fewest votes so
        far (so new statements reach members quickly), oldest first on a tie; None when the
        member has seen them all."""
        row = await self._db.fetch_one(
            "SELECT s.* FROM stance_statements s WHERE s.guild_id = ? AND s.removed = 0 "
            "AND NOT EXISTS (SELECT 1 FROM stance_statement_votes v "
            "WHERE v.statement_id = s.id AND v.member_id = ?) "
            "ORDER BY (SELECT count(*) FROM stance_statement_votes c "
            "WHERE c.statement_id = s.id), s.number LIMIT 1",
            (guild_id, member_id),
        )
        return None if row is None else _statement(row)

    async def record_vote(self, statement: Statement, member_id: int, value: int) -> None:
        """Store (or change) the member's vote on a statement."""
        if value not in (-1, 0, 1):
            raise ValueError("a statement vote is -1, 0 or +1")
        await self._db.execute(
            "INSERT INTO stance_statement_votes "
            "(statement_id, guild_id, member_id, value, voted_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (statement_id, member_id) DO UPDATE SET "
            "value = excluded.value, voted_at = excluded.voted_at",
            (statement.id, statement.guild_id, member_id, value, _now()),
        )

    async def member_votes(self, guild_id: int, member_id: int) -> list[StatementVote]:
        """The member's statement votes in one community (removed statements included)."""
        rows = await self._db.fetch_all(
            "SELECT statement_id, member_id, value, voted_at FROM stance_statement_votes "
            "WHERE guild_id = ? AND member_id = ? ORDER BY statement_id",
            (guild_id, member_id),
        )
        return [
            StatementVote(
                member_id=int(r["member_id"]),
                statement_id=int(r["statement_id"]),
                value=int(r["value"]),
                at=from_timestamp(r["voted_at"]),
            )
            for r in rows
        ]

    async def statements_for_export(self, guild_id: int, member_id: int) -> list[Statement]:
        """Statements the member wrote or voted on in one community (for the export file)."""
        rows = await self._db.fetch_all(
            "SELECT * FROM stance_statements WHERE guild_id = ? AND (author_id = ? OR id IN "
            "(SELECT statement_id FROM stance_statement_votes WHERE guild_id = ? "
            "AND member_id = ?)) ORDER BY number",
            (guild_id, member_id, guild_id, member_id),
        )
        return [_statement(r) for r in rows]

    async def member_poll_votes(self, guild_id: int, member_id: int) -> list[dict[str, Any]]:
        """The member's votes in the community's polls and debate votes (for the export file):
        poll number, kind, question, debate number, option index and label, time; oldest first."""
        rows = await self._db.fetch_all(
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
                "at": from_timestamp(r["voted_at"]),
            }
            for r in rows
        ]

    async def member_arguments(self, guild_id: int, member_id: int) -> list[dict[str, Any]]:
        """The debate arguments the member posted in the community (for the export file)."""
        rows = await self._db.fetch_all(
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
                "at": from_timestamp(r["posted_at"]),
            }
            for r in rows
        ]

    async def member_upvotes(self, guild_id: int, member_id: int) -> list[dict[str, Any]]:
        """The arguments the member upvoted in the community (for the export file)."""
        rows = await self._db.fetch_all(
            "SELECT d.number, a.text, u.upvoted_at FROM argument_upvotes u "
            "JOIN debate_arguments a ON a.id = u.argument_id JOIN debates d ON d.id = a.debate_id "
            "WHERE d.guild_id = ? AND u.member_id = ? ORDER BY u.upvoted_at, a.id",
            (guild_id, member_id),
        )
        return [
            {
                "debate_number": int(r["number"]),
                "argument": r["text"],
                "at": from_timestamp(r["upvoted_at"]),
            }
            for r in rows
        ]

    async def vote_triples(self, guild_id: int) -> tuple[npt.NDArray[np.int64], ...]:
        """Every vote on the community's active statements as three numpy columns
        (member ids, statement ids, values), read off the event loop like the observations."""
        return await asyncio.to_thread(_read_vote_triples, self._db.path, guild_id)

    async def known_members(self, guild_id: int) -> int:
        """How many distinct members have any stance data in the community."""
        return int(
            await self._db.fetch_value(
                "SELECT count(*) FROM (SELECT member_id FROM stance_observations "
                "WHERE guild_id = ? UNION SELECT member_id FROM stance_statement_votes "
                "WHERE guild_id = ?)",
                (guild_id, guild_id),
            )
        )

    # -- forgetting and purging -----------------------------------------------------------

    async def forget_member(self, guild_id: int, member_id: int) -> ForgetReport:
        """Delete everything the stances feature keeps about one member in one community.

        In one transaction: every observation (declared and from debates or polls), every
        statement vote, the visibility choice; statements the member wrote keep their text
        (others voted on them) but lose their author. In the same transaction the member is
        unlinked from polls and debates (`bot.repositories.debates_data.DebatesData.forget_member`): closed
        polls keep their published totals.
        """
        async with self._db.transaction() as tx:
            observations = await tx.execute_rowcount(
                "DELETE FROM stance_observations WHERE guild_id = ? AND member_id = ?",
                (guild_id, member_id),
            )
            votes = await tx.execute_rowcount(
                "DELETE FROM stance_statement_votes WHERE guild_id = ? AND member_id = ?",
                (guild_id, member_id),
            )
            unlinked = await tx.execute_rowcount(
                "UPDATE stance_statements SET author_id = NULL "
                "WHERE guild_id = ? AND author_id = ?",
                (guild_id, member_id),
            )
            visibility = await tx.execute_rowcount(
                "DELETE FROM stance_visibility WHERE guild_id = ? AND member_id = ?",
                (guild_id, member_id),
            )
            await DebatesData().forget_member(tx, guild_id, member_id)
        return ForgetReport(observations, votes, unlinked, visibility)

    async def community_tables(self) -> list[str]:
        """Every table with a `guild_id` column (whichever feature created it), by name."""
        rows = await self._db.fetch_all(
            "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' "
            "AND m.name NOT LIKE 'sqlite_%' AND EXISTS "
            "(SELECT 1 FROM pragma_table_info(m.name) p WHERE p.name = 'guild_id') "
            "ORDER BY m.name"
        )
        return [str(r["name"]) for r in rows if r["name"] not in _NOT_COMMUNITY_TABLES]

    async def dependent_tables(self, parents: list[str]) -> list[tuple[str, str, str, str]]:
        """Tables *without* `guild_id` whose foreign keys point at one of `parents`:
        (child, child column, parent, parent column); the purge deletes their rows first."""
        rows = await self._db.fetch_all(
            'SELECT m.name AS child, f."from" AS col, f."table" AS parent, '
            "coalesce(f.\"to\", 'rowid') AS pcol "
            "FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
            "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND NOT EXISTS "
            "(SELECT 1 FROM pragma_table_info(m.name) p WHERE p.name = 'guild_id') "
            "ORDER BY m.name"
        )
        wanted = set(parents)
        return [
            (str(r["child"]), str(r["col"]), str(r["parent"]), str(r["pcol"]))
            for r in rows
            if r["parent"] in wanted
        ]

    async def purge_community(self, guild_id: int, *, keep_settings: bool = False) -> int:
        """Delete every row of the community, in every table with a `guild_id` column (tables
        of releases and debates included, found by introspection), plus rows of tables that
        reference those through a foreign key, in one transaction; returns the rows deleted.

        `keep_settings` keeps the `guilds` row (the settings and the left/joined times): a
        manager's immediate purge keeps the configuration; the retention purge removes it.
        """
        tables = await self.community_tables()
        dependents = await self.dependent_tables(tables)
        deleted = 0
        async with self._db.transaction() as tx:
            # Checked at COMMIT, when every related row is gone, whatever the deletion order.
            await tx.execute("PRAGMA defer_foreign_keys = ON")
            for child, column, parent, parent_column in dependents:
                deleted += await tx.execute_rowcount(
                    f"DELETE FROM {_quote(child)} WHERE {_quote(column)} IN "  # noqa: S608
                    f"(SELECT {_quote(parent_column)} FROM {_quote(parent)} WHERE guild_id = ?)",
                    (guild_id,),
                )
            for table in tables:
                if keep_settings and table == "guilds":
                    continue
                deleted += await tx.execute_rowcount(
                    f"DELETE FROM {_quote(table)} WHERE guild_id = ?",  # noqa: S608
                    (guild_id,),
                )
        log.info("purged community %s: %d rows from %d tables", guild_id, deleted, len(tables))
        return deleted

    async def communities_left(self) -> list[tuple[int, str, str]]:
        """Communities the bot has left: (guild id, left_at ISO time, settings JSON)."""
        rows = await self._db.fetch_all(
            "SELECT guild_id, left_at, settings FROM guilds WHERE left_at IS NOT NULL"
        )
        return [(int(r["guild_id"]), str(r["left_at"]), str(r["settings"])) for r in rows]


def _read_only(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def _read_observation_columns(path: Path, guild_id: int, topic: str | None) -> ObservationColumns:
    conn = _read_only(path)
    try:
        cursor = conn.execute(
            "SELECT member_id, value, observed_at FROM stance_observations "
            "WHERE guild_id = ? AND topic IS ? ORDER BY observed_at, id",
            (guild_id, topic),
        )
        data = np.fromiter(cursor, dtype=_OBSERVATION_DTYPE)
    finally:
        conn.close()
    return ObservationColumns(
        np.ascontiguousarray(data["member_id"]),
        np.ascontiguousarray(data["value"]),
        np.ascontiguousarray(data["at"]),
    )


def _read_vote_triples(path: Path, guild_id: int) -> tuple[npt.NDArray[np.int64], ...]:
    conn = _read_only(path)
    try:
        cursor = conn.execute(
            "SELECT v.member_id, v.statement_id, v.value FROM stance_statement_votes v "
            "JOIN stance_statements s ON s.id = v.statement_id "
            "WHERE v.guild_id = ? AND s.removed = 0",
            (guild_id,),
        )
        data = np.fromiter(cursor, dtype=_VOTE_DTYPE)
    finally:
        conn.close()
    return (
        data["member_id"].astype(np.int64),
        data["statement_id"].astype(np.int64),
        data["value"].astype(np.int64),
    )
