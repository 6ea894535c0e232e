"""Stance observations: the shared record between debates (writer) and stances (reader), and the
analytics derived from them (migration 0009), kept up to date in the same transaction:

* ``stance_positions``: each member's current position per topic (their latest observation);
* ``stance_daily_changes``: per topic and UTC day, how many more or fewer members hold each
  position at the day's end (:func:`bot.stances.community.position_changes` is the rule).

So ``/stance community`` reads O(days) rows and a profile's comparison O(members), never every
observation. An observation recorded in time order (the usual case: it is observed now) costs
one lookup and two upserts beside its insert; one recorded before the member's latest (a test,
an import) recomputes that member's changes on that topic. Forgetting a member takes their
changes out again (:func:`forget_member_observations`); a purge deletes the community's rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import groupby

import numpy as np

from bot.database import Transaction
from bot.repositories import Repository
from bot.stance_scale import Stance
from bot.stances.community import Changes, DailyChanges, position_changes
from bot.stances.trend import day_of

#: The general question's topic in the analytics tables (a primary key column cannot be NULL).
GENERAL = ""

_INSERT = (
    "INSERT INTO stance_observations "
    "(guild_id, member_id, topic, value, source, observed_at) VALUES (?, ?, ?, ?, ?, ?)"
)
_ADD_CHANGES = (
    "INSERT INTO stance_daily_changes (guild_id, topic, day, change_m2, change_m1, change_0, "
    "change_p1, change_p2) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (guild_id, topic, day) DO UPDATE SET "
    "change_m2 = change_m2 + excluded.change_m2, change_m1 = change_m1 + excluded.change_m1, "
    "change_0 = change_0 + excluded.change_0, change_p1 = change_p1 + excluded.change_p1, "
    "change_p2 = change_p2 + excluded.change_p2"
)
_SET_POSITION = (
    "INSERT INTO stance_positions "
    "(guild_id, topic, member_id, value, observed_at, observation_id) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (guild_id, topic, member_id) DO UPDATE SET value = excluded.value, "
    "observed_at = excluded.observed_at, observation_id = excluded.observation_id"
)


class ObservationRepository(Repository):
    async def record(
        self,
        guild_id: int,
        member_id: int,
        value: Stance,
        source: str,
        *,
        topic: str | None = None,
        at: datetime | None = None,
        tx: Transaction | None = None,
    ) -> int:
        """Store one observation and update the analytics with it, in one transaction; pass
        `tx` to make it part of a larger one (a vote)."""
        when = (at or datetime.now(UTC)).timestamp()
        if tx is not None:
            return await _record(tx, guild_id, member_id, int(value), source, topic, when)
        async with self._db.transaction() as own:
            return await _record(own, guild_id, member_id, int(value), source, topic, when)

    async def daily_changes(self, guild_id: int, topic: str | None) -> DailyChanges:
        """The community's per-day position changes on one topic (None: the general
        question), and its oldest observation's time: O(days) rows and one index lookup."""
        rows = await self._db.fetch_all(
            "SELECT day, change_m2, change_m1, change_0, change_p1, change_p2 "
            "FROM stance_daily_changes WHERE guild_id = ? AND topic = ? ORDER BY day",
            (guild_id, topic or GENERAL),
        )
        earliest = await self._db.fetch_value(
            "SELECT min(observed_at) FROM stance_observations WHERE guild_id = ? AND topic IS ?",
            (guild_id, topic),
        )
        table = np.array([tuple(r) for r in rows], dtype=np.int64).reshape(len(rows), 6)
        return DailyChanges(
            np.ascontiguousarray(table[:, 0]),
            np.ascontiguousarray(table[:, 1:]),
            None if earliest is None else float(earliest),
        )

    async def current_positions(self, guild_id: int, topic: str | None) -> dict[int, int]:
        """Every member's current position on one topic (member id -> value): O(members)."""
        rows = await self._db.fetch_all(
            "SELECT member_id, value FROM stance_positions WHERE guild_id = ? AND topic = ?",
            (guild_id, topic or GENERAL),
        )
        return {int(r[0]): int(r[1]) for r in rows}


async def _record(
    tx: Transaction,
    guild_id: int,
    member_id: int,
    value: int,
    source: str,
    topic: str | None,
    when: float,
) -> int:
    key = topic or GENERAL
    current = await tx.fetch_one(
        "SELECT value, observed_at FROM stance_positions "
        "WHERE guild_id = ? AND topic = ? AND member_id = ?",
        (guild_id, key, member_id),
    )
    rowid = await tx.execute(_INSERT, (guild_id, member_id, topic, value, source, when))
    if current is None or when >= float(current["observed_at"]):
        changes = [0] * 5
        changes[value + 2] += 1
        if current is not None:
            changes[int(current["value"]) + 2] -= 1
        await tx.execute(_ADD_CHANGES, (guild_id, key, day_of(when), *changes))
        await tx.execute(_SET_POSITION, (guild_id, key, member_id, value, when, rowid))
        return rowid
    # Recorded before the member's latest observation: the position stays, the history moves.
    rows = await tx.fetch_all(
        "SELECT id, observed_at, value FROM stance_observations "
        "WHERE guild_id = ? AND member_id = ? AND topic IS ? ORDER BY observed_at, id",
        (guild_id, member_id, topic),
    )
    history = [(float(r["observed_at"]), int(r["value"])) for r in rows]
    before = [h for r, h in zip(rows, history, strict=True) if r["id"] != rowid]
    await _add(tx, guild_id, key, position_changes(history), sign=1)
    await _add(tx, guild_id, key, position_changes(before), sign=-1)
    return rowid


async def _add(
    tx: Transaction, guild_id: int, topic: str, changes: dict[int, Changes], *, sign: int
) -> None:
    """Add (``sign`` 1) or take out (-1) per-day changes."""
    await tx.executemany(
        _ADD_CHANGES,
        [(guild_id, topic, day, *(sign * c for c in row)) for day, row in changes.items()],
    )


async def forget_member_observations(tx: Transaction, guild_id: int, member_id: int) -> int:
    """Delete the member's observations in the community, with their share of the analytics;
    returns how many observations were deleted."""
    rows = await tx.fetch_all(
        "SELECT topic, observed_at, value FROM stance_observations "
        "WHERE guild_id = ? AND member_id = ? ORDER BY topic, observed_at, id",
        (guild_id, member_id),
    )
    for topic, group in groupby(rows, key=lambda r: r["topic"]):
        history = [(float(r["observed_at"]), int(r["value"])) for r in group]
        await _add(tx, guild_id, topic or GENERAL, position_changes(history), sign=-1)
    await tx.execute(
        "DELETE FROM stance_positions WHERE guild_id = ? AND member_id = ?",
        (guild_id, member_id),
    )
    return await tx.execute_rowcount(
        "DELETE FROM stance_observations WHERE guild_id = ? AND member_id = ?",
        (guild_id, member_id),
    )
