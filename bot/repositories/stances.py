"""Stances: privacy choices, opinion-map statements and votes, and the stances part of the
core's data lifecycle (a member's rows read for an export, forgotten; a community's purged).

All SQL of the stances feature lives here (the observations themselves are shared with the
debates feature through :mod:`bot.repositories.observations`; the stances feature owns their
export, forgetting and purging). One documented method per query. Methods that the core's
lifecycle calls inside its one transaction take that transaction (or reader) explicitly.

The analytics of migration 0009 are kept up to date by triggers, in the statement that writes
or deletes an observation or vote, whoever runs it: ``/stance community`` reads
:meth:`StanceRepository.daily_changes` (O(days)), a profile's comparison
:meth:`StanceRepository.position_counts` (counted over the members in SQL), and the map's matrix
(``stance_vote_rows``) one row per member instead of every vote. The matrix is still the
largest read of the feature (members x statements), so :meth:`StanceRepository.vote_matrix`
opens a short-lived read-only connection in a worker thread: neither the event loop nor other
queries wait for it (WAL lets the read proceed while the bot writes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from bot.database import Reader, Row, Transaction
from bot.repositories import (
    Repository,
    fetch_records,
    now,
    record_from_row,
)
from bot.stance_scale import Stance
from bot.stances.community import DailyChanges
from bot.stances.models import (
    ForgetReport,
    Observation,
    Statement,
    StatementVote,
    Visibility,
    VoteMatrix,
    from_timestamp,
)

#: The general question's topic in the analytics tables (a primary key column cannot be NULL).
GENERAL = ""
#: The analytics derived from the observations and votes by the triggers of migration 0009:
#: purged first (the triggers then skip the work of taking each deleted row out) and not
#: counted (a purge reports the rows of data it deleted).
DERIVED_TABLES = ("stance_vote_rows", "stance_daily_changes", "stance_positions")
#: The stances feature's tables, children first (the order a purge deletes them in).
STANCE_TABLES = (
    "stance_statement_votes",
    "stance_statements",
    "stance_observations",
    "stance_visibility",
)


def _statement(row: Row) -> Statement:
    return record_from_row(Statement, row, created_at=from_timestamp(row["created_at"]))


class StanceRepository(Repository):
    # -- visibility -----------------------------------------------------------------------

    async def get_visibility(
        self, guild_id: int, member_id: int, *, db: Reader | None = None
    ) -> Visibility:
        """The member's choice; private when they never chose. ``db``: read inside a
        transaction (an export) instead of on the shared connection."""
        value = await (db or self._db).fetch_value(
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
            (guild_id, member_id, Visibility(visibility).value, now()),
        )

    # -- observations ---------------------------------------------------------------------

    async def member_observations(
        self, guild_id: int, member_id: int, *, db: Reader | None = None
    ) -> list[Observation]:
        """A member's observations in one community (every topic), oldest first."""
        rows = await (db or self._db).fetch_all(
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

    async def daily_changes(self, guild_id: int, topic: str | None) -> DailyChanges:
        """The community's per-day position changes on one topic (None: the general
        question) and its oldest observation's time: O(days) rows and one lookup in the
        covering index of migration 0005."""
        rows = await self._db.fetch_all(
            "SELECT day, change_m2, change_m1, change_0, change_p1, change_p2 "
            "FROM stance_daily_changes WHERE guild_id = ? AND topic = ? ORDER BY day",
            (guild_id, topic or GENERAL),
        )
        earliest = await self._db.fetch_value(
            "SELECT min(observed_at) FROM stance_observations WHERE guild_id = ? "
            "AND topic IS NOT DISTINCT FROM ?",
            (guild_id, topic),
        )
        table = np.array([tuple(r) for r in rows], dtype=np.int64).reshape(len(rows), 6)
        return DailyChanges(
            np.ascontiguousarray(table[:, 0]),
            np.ascontiguousarray(table[:, 1:]),
            None if earliest is None else float(earliest),
        )

    async def position_counts(self, guild_id: int, topic: str | None) -> dict[int, int]:
        """How many members currently hold each position on one topic (value -> members):
        counted in SQL, five rows back however large the community."""
        rows = await self._db.fetch_all(
            "SELECT value, count(*) FROM stance_positions WHERE guild_id = ? AND topic = ? "
            "GROUP BY value",
            (guild_id, topic or GENERAL),
        )
        return {int(r[0]): int(r[1]) for r in rows}

    # -- statements -----------------------------------------------------------------------

    async def add_statement(self, guild_id: int, author_id: int, text: str) -> Statement:
        """Store a statement under the community's next number (1, 2, 3… never reused)."""
        moment = now()
        async with self._db.transaction() as tx:
            number = await tx.fetch_one(
                "SELECT coalesce(max(number), 0) + 1 FROM stance_statements WHERE guild_id = ?",
                (guild_id,),
            )
            assert number is not None
            rowid = await tx.fetch_value(
                "INSERT INTO stance_statements (guild_id, number, author_id, text, created_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (guild_id, int(number[0]), author_id, text, moment),
            )
        return Statement(
            int(rowid), guild_id, int(number[0]), author_id, text, from_timestamp(moment), False
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
        return await fetch_records(
            self._db,
            _statement,
            "SELECT * FROM stance_statements WHERE guild_id = ? AND removed = 0 AND "
            "(CAST(number AS TEXT) LIKE ? ESCAPE '\\' OR lower(text) LIKE lower(?) ESCAPE '\\') "
            "ORDER BY number DESC LIMIT ?",
            (guild_id, pattern, pattern, limit),
        )

    async def active_statements(self, guild_id: int) -> list[Statement]:
        """The community's statements that are not removed, by number."""
        return await fetch_records(
            self._db,
            _statement,
            "SELECT * FROM stance_statements WHERE guild_id = ? AND removed = 0 ORDER BY number",
            (guild_id,),
        )

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
        """Store (or change) the member's vote on a statement (a trigger of migration 0009
        puts it into the map's matrix in the same statement)."""
        if value not in (-1, 0, 1):
            raise ValueError("a statement vote is -1, 0 or +1")
        await self._db.execute(
            "INSERT INTO stance_statement_votes "
            "(statement_id, guild_id, member_id, value, voted_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (statement_id, member_id) DO UPDATE SET "
            "value = excluded.value, voted_at = excluded.voted_at",
            (statement.id, statement.guild_id, member_id, value, now()),
        )

    async def member_votes(
        self, guild_id: int, member_id: int, *, db: Reader | None = None
    ) -> list[StatementVote]:
        """The member's statement votes in one community (removed statements included)."""
        rows = await (db or self._db).fetch_all(
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

    async def statements_for_export(
        self, guild_id: int, member_id: int, *, db: Reader | None = None
    ) -> list[Statement]:
        """Statements the member wrote or voted on in one community (for the export file)."""
        return await fetch_records(
            (db or self._db),
            _statement,
            "SELECT * FROM stance_statements WHERE guild_id = ? AND (author_id = ? OR id IN "
            "(SELECT statement_id FROM stance_statement_votes WHERE guild_id = ? "
            "AND member_id = ?)) ORDER BY number",
            (guild_id, member_id, guild_id, member_id),
        )

    async def vote_matrix(self, guild_id: int, statements: Sequence[Statement]) -> VoteMatrix:
        """The opinion map's matrix over ``statements`` (the active ones, by number): one row
        per member from ``stance_vote_rows`` (kept by the triggers of migration 0009), read off
        the event loop on a read-only connection. O(members x statements), not O(votes)."""
        rows = await self._db.fetch_all_aside(
            "SELECT member_id, votes FROM stance_vote_rows WHERE guild_id = ? ORDER BY member_id",
            (guild_id,),
        )
        return await asyncio.to_thread(_vote_matrix, rows, statements)

    async def known_members(self, guild_id: int) -> int:
        """How many distinct members have any stance data in the community (a position or a
        statement vote): O(members), from the analytics tables, in member order on the index
        ``stance_positions_member`` (twice as fast as a UNION, which sorts in a temporary tree)."""
        return int(
            await self._db.fetch_value(
                "SELECT (SELECT count(DISTINCT member_id) FROM stance_positions "
                "WHERE guild_id = ?1) + (SELECT count(*) FROM stance_vote_rows v "
                "WHERE v.guild_id = ?1 AND NOT EXISTS (SELECT 1 FROM stance_positions p "
                "WHERE p.guild_id = ?1 AND p.member_id = v.member_id))",
                (guild_id,),
            )
        )

    # -- the core's data lifecycle ------------------------------------------------------

    async def forget_preview(self, guild_id: int, member_id: int) -> ForgetReport:
        """What :meth:`forget_member` would delete or unlink now, per kind (the counts
        ``/stance forget`` reports; the core's forget itself only counts rows)."""
        row = await self._db.fetch_one(
            "SELECT (SELECT count(*) FROM stance_observations WHERE guild_id = ?1 "
            "AND member_id = ?2), (SELECT count(*) FROM stance_statement_votes "
            "WHERE guild_id = ?1 AND member_id = ?2), (SELECT count(*) FROM stance_statements "
            "WHERE guild_id = ?1 AND author_id = ?2), (SELECT count(*) FROM stance_visibility "
            "WHERE guild_id = ?1 AND member_id = ?2)",
            (guild_id, member_id),
        )
        assert row is not None
        return ForgetReport(int(row[0]), int(row[1]), int(row[2]), int(row[3]))

    async def forget_member(self, tx: Transaction, guild_id: int, member_id: int) -> ForgetReport:
        """Delete everything the stances feature keeps about one member in one community,
        inside the core's transaction: every observation (declared and from debates), every
        statement vote, the visibility choice; statements the member wrote keep their text
        (others voted on them) but lose their author."""
        observations = await tx.execute_rowcount(
            "DELETE FROM stance_observations WHERE guild_id = ? AND member_id = ?",
            (guild_id, member_id),
        )
        votes = await tx.execute_rowcount(
            "DELETE FROM stance_statement_votes WHERE guild_id = ? AND member_id = ?",
            (guild_id, member_id),
        )
        unlinked = await tx.execute_rowcount(
            "UPDATE stance_statements SET author_id = NULL WHERE guild_id = ? AND author_id = ?",
            (guild_id, member_id),
        )
        visibility = await tx.execute_rowcount(
            "DELETE FROM stance_visibility WHERE guild_id = ? AND member_id = ?",
            (guild_id, member_id),
        )
        return ForgetReport(observations, votes, unlinked, visibility)

    async def purge_community(self, tx: Transaction, guild_id: int) -> int:
        """Delete every stance row of the community (votes before their statements) and its
        analytics, inside the core's transaction; returns the rows of data deleted."""
        await _delete_community(tx, DERIVED_TABLES, guild_id)
        return await _delete_community(tx, STANCE_TABLES, guild_id)


async def _delete_community(tx: Transaction, tables: tuple[str, ...], guild_id: int) -> int:
    deleted = 0
    for table in tables:
        deleted += await tx.execute_rowcount(
            f"DELETE FROM {table} WHERE guild_id = ?",  # noqa: S608 (a constant name)
            (guild_id,),
        )
    return deleted


def _vote_matrix(rows: Sequence[Row], statements: Sequence[Statement]) -> VoteMatrix:
    columns = np.array([s.number - 1 for s in statements], dtype=np.int64)
    width = max([len(votes) for _, votes in rows] + [int(columns.max(initial=-1)) + 1])
    text = "".join(votes.ljust(width, "0") for _, votes in rows).encode("ascii")
    codes = np.frombuffer(text, dtype=np.uint8).reshape(len(rows), width)[:, columns] - ord("0")
    voted = (codes > 0).any(axis=1)
    matrix = np.where(codes > 0, codes.astype(np.float64) - 2, np.nan)[voted]
    members = np.array([member for member, _ in rows], dtype=np.int64)[voted]
    return VoteMatrix(members.tolist(), [s.id for s in statements], matrix)
