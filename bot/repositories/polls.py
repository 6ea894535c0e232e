"""Polls and their votes: every query of custom polls, native polls and debate stance votes.

Times are stored as Unix seconds (UTC) and returned as aware datetimes. A vote is one
write of the batch writer (:mod:`bot.writer`: many votes, one transaction, one commit) that
also reads whether the poll is closed, so no vote is counted after the poll closed; a vote in
a debate's stance poll records the stance observation in the same transaction. Debates (:mod:`bot.repositories.debates`) create their stance polls with
:func:`insert_poll` inside their own transactions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from bot.database import Reader, Row, Transaction
from bot.debates.errors import PollNotFound
from bot.debates.poll import PollSpec
from bot.debates.records import Decide, PollKind, PollRecord, VoteChange
from bot.debates.tally import Vote
from bot.repositories import (
    Repository,
    batched,
    fetch_record,
    fetch_records,
)
from bot.repositories.observations import (
    ObservationRow,
    insert_observation,
    insert_observations,
)
from bot.stance_scale import SCALE, Stance
from bot.writer import Outcome, SyncTransaction

#: The start of every query that reads whole polls: the columns `poll_from_row` reads.
_SELECT_POLLS = (
    "SELECT id, guild_id, number, channel_id, message_id, creator_id, kind, question, options, "
    "max_choices, anonymous, role_id, created_at, deadline, closed_at, result_message_id, "
    "debate_id FROM polls "
)


def to_timestamp(value: datetime) -> float:
    """How a moment is stored: Unix seconds."""
    return value.timestamp()


def from_timestamp(value: float | None) -> datetime | None:
    """A stored moment as an aware UTC datetime (None stays None)."""
    return None if value is None else datetime.fromtimestamp(float(value), UTC)


def like_pattern(text: str) -> str:
    """``text`` with LIKE wildcards escaped (for ``LIKE '%' || ? || '%' ESCAPE '\\'``)."""
    return text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def poll_from_row(row: Row) -> PollRecord:
    """The record of a row read with ``_SELECT_POLLS``. Records are immutable, so the same
    values (every column, ``closed_at`` included) give the one record already built: a burst
    of votes on one poll builds it once, not once per vote."""
    return _poll_from_values(tuple(row))


@lru_cache(maxsize=1024)
def _poll_from_values(values: tuple[Any, ...]) -> PollRecord:
    (
        id_, guild_id, number, channel_id, message_id, creator_id, kind, question, options,
        max_choices, anonymous, role_id, created_at, deadline, closed_at, result_message_id,
        debate_id,
    ) = values  # fmt: skip
    created = from_timestamp(created_at)
    assert created is not None
    return PollRecord(
        id=int(id_),
        guild_id=int(guild_id),
        number=int(number),
        channel_id=int(channel_id),
        message_id=message_id,
        creator_id=int(creator_id),
        kind=PollKind(kind),
        question=str(question),
        options=tuple(json.loads(options)),
        max_choices=int(max_choices),
        anonymous=bool(anonymous),
        role_id=role_id,
        created_at=created,
        deadline=from_timestamp(deadline),
        closed_at=from_timestamp(closed_at),
        result_message_id=result_message_id,
        debate_id=debate_id,
    )


async def read_poll(reader: Reader, poll_id: int) -> PollRecord | None:
    """A poll by its id, read through ``reader`` (the database or an open transaction)."""
    return await fetch_record(reader, poll_from_row, _SELECT_POLLS + "WHERE id = ?", (poll_id,))


async def insert_poll(
    tx: Transaction,
    guild_id: int,
    channel_id: int,
    creator_id: int,
    kind: PollKind,
    spec: PollSpec,
    *,
    now: datetime,
    debate_id: int | None = None,
) -> PollRecord:
    """Store a new poll with the community's next poll number, inside ``tx``."""
    row = await tx.fetch_one(
        "SELECT COALESCE(MAX(number), 0) + 1 FROM polls WHERE guild_id = ?", (guild_id,)
    )
    number = int(row[0]) if row else 1
    poll_id = await tx.fetch_value(
        "INSERT INTO polls (guild_id, number, channel_id, creator_id, kind, question, "
        "options, max_choices, anonymous, role_id, created_at, deadline, debate_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            guild_id,
            number,
            channel_id,
            creator_id,
            kind.value,
            spec.question,
            json.dumps(list(spec.options)),
            spec.max_choices,
            int(spec.anonymous),
            spec.role_id,
            to_timestamp(now),
            to_timestamp(spec.deadline) if spec.deadline else None,
            debate_id,
        ),
    )
    poll = await read_poll(tx, poll_id)
    assert poll is not None
    return poll


def cast_vote(
    tx: SyncTransaction, poll_id: int, member_id: int, decide: Decide, *, now: datetime
) -> VoteChange:
    """One vote (``PollRepository.vote`` runs it through the batch writer and returns after
    the commit), inside a batch on the database's side: read the poll and the member's
    choices, let ``decide`` compute the new ones (or refuse by raising: the vote's savepoint
    is rolled back), store the difference, and record a stance observation for a debate
    vote. The closed check reads the poll inside the same transaction, so no vote is counted
    after the poll closed."""
    row = tx.fetch_one(_SELECT_POLLS + "WHERE id = ?", (poll_id,))
    if row is None:
        raise PollNotFound(poll_id)
    poll = poll_from_row(row)
    rows = tx.fetch_all(
        "SELECT option FROM votes WHERE poll_id = ? AND member_id = ?", (poll_id, member_id)
    )
    before = frozenset(int(row[0]) for row in rows)
    after = decide(poll, before)
    for option in sorted(before - after):
        tx.execute(
            "DELETE FROM votes WHERE poll_id = ? AND member_id = ? AND option = ?",
            (poll_id, member_id, option),
        )
    for option in sorted(after - before):
        tx.execute(
            "INSERT INTO votes (poll_id, member_id, option, voted_at) VALUES (?, ?, ?, ?)",
            (poll_id, member_id, option, to_timestamp(now)),
        )
    if poll.kind is PollKind.DEBATE and poll.debate_id is not None and after - before:
        debate = tx.fetch_one("SELECT topic, number FROM debates WHERE id = ?", (poll.debate_id,))
        assert debate is not None
        (option,) = after - before
        # The community's own debate number (the one members see), not the row id.
        insert_observation(
            tx,
            poll.guild_id,
            member_id,
            SCALE[option],
            f"debate:{debate['number']}",
            topic=debate["topic"],
            at=now,
        )
    return VoteChange(poll=poll, before=before, after=after)


def _marks(count: int) -> str:
    """``?, ?, ...`` for ``count`` parameters."""
    return ", ".join("?" * count)


def cast_votes(tx: SyncTransaction, votes: Sequence[VoteWrite]) -> list[Outcome[VoteChange]]:
    """Many votes waiting together, with the outcome of running :func:`cast_vote` for each in
    turn, in a few statements whatever their number: the polls read at once, the members'
    choices read at once, each vote decided in order (a member's second click in the batch
    sees the first), then the net difference deleted and inserted at once and the debate
    votes' observations inserted at once. A refused vote (``decide`` raised, or no such poll)
    refuses only itself; a failed statement raises (the writer then runs them one by one).

    Fewer statements matter under a crowd: SQLite's module releases Python's lock for every
    statement, and a database thread taking it back from a busy event loop waits."""
    poll_ids = sorted({vote.poll_id for vote in votes})
    polls = {
        int(row[0]): poll_from_row(row)
        for row in tx.fetch_all(_SELECT_POLLS + f"WHERE id IN ({_marks(len(poll_ids))})", poll_ids)
    }
    members = sorted({vote.member_id for vote in votes})
    stored: dict[tuple[int, int], set[int]] = {}
    for row in tx.fetch_all(
        "SELECT poll_id, member_id, option FROM votes "  # noqa: S608 (placeholders only)
        f"WHERE poll_id IN ({_marks(len(poll_ids))}) AND member_id IN ({_marks(len(members))})",
        [*poll_ids, *members],
    ):
        stored.setdefault((int(row[0]), int(row[1])), set()).add(int(row[2]))
    held = {key: frozenset(options) for key, options in stored.items()}
    added_at: dict[tuple[int, int, int], float] = {}
    observed: list[tuple[PollRecord, int, int, datetime]] = []
    outcomes: list[Outcome[VoteChange]] = []
    for vote in votes:
        poll = polls.get(vote.poll_id)
        if poll is None:
            outcomes.append(Outcome(error=PollNotFound(vote.poll_id)))
            continue
        key = (vote.poll_id, vote.member_id)
        before = held.get(key, frozenset())
        try:
            after = vote.decide(poll, before)
        except Exception as exc:
            outcomes.append(Outcome(error=exc))
            continue
        held[key] = after
        for option in after - before:
            added_at[(*key, option)] = to_timestamp(vote.now)
        if poll.kind is PollKind.DEBATE and poll.debate_id is not None and after - before:
            (option,) = after - before
            observed.append((poll, vote.member_id, option, vote.now))
        outcomes.append(Outcome(value=VoteChange(poll=poll, before=before, after=after)))
    removed = [
        (poll_id, member_id, option)
        for (poll_id, member_id), options in sorted(stored.items())
        for option in sorted(options - held[(poll_id, member_id)])
    ]
    if removed:
        tx.execute(
            "DELETE FROM votes WHERE (poll_id, member_id, option) IN "  # noqa: S608 (placeholders)
            f"(VALUES {', '.join(['(?, ?, ?)'] * len(removed))})",
            [value for row in removed for value in row],
        )
    inserted = [
        (poll_id, member_id, option, added_at[(poll_id, member_id, option)])
        for (poll_id, member_id), options in sorted(held.items())
        for option in sorted(options - stored.get((poll_id, member_id), set()))
    ]
    if inserted:
        tx.execute(
            "INSERT INTO votes (poll_id, member_id, option, voted_at) VALUES "  # noqa: S608 (same)
            + ", ".join(["(?, ?, ?, ?)"] * len(inserted)),
            [value for row in inserted for value in row],
        )
    if observed:
        debate_ids = sorted({poll.debate_id for poll, *_ in observed if poll.debate_id})
        debates = {
            int(row[0]): row
            for row in tx.fetch_all(
                f"SELECT id, topic, number FROM debates WHERE id IN ({_marks(len(debate_ids))})",  # noqa: S608
                debate_ids,
            )
        }
        rows: list[ObservationRow] = []
        for poll, member_id, option, at in observed:
            assert poll.debate_id is not None
            debate = debates[poll.debate_id]
            # The community's own debate number (the one members see), not the row id.
            rows.append(
                (poll.guild_id, member_id, debate["topic"], SCALE[option],
                 f"debate:{debate['number']}", to_timestamp(at))
            )  # fmt: skip
        insert_observations(tx, rows)
    return outcomes


@dataclass(frozen=True)
class VoteWrite:
    """A vote as a write of the batch writer: alone it runs :func:`cast_vote`; votes waiting
    together run as one :func:`cast_votes` (see :data:`bot.writer.Write`)."""

    poll_id: int
    member_id: int
    decide: Decide
    now: datetime

    def __call__(self, tx: SyncTransaction) -> VoteChange:
        return cast_vote(tx, self.poll_id, self.member_id, self.decide, now=self.now)

    together = staticmethod(cast_votes)


def cast_native_vote(
    tx: SyncTransaction, message_id: int, member_id: int, option: int, *, add: bool, now: datetime
) -> bool:
    """Record (``add``) or remove a vote on a native poll from a gateway event, inside a batch
    (``PollRepository.native_vote``); whether anything changed. Votes on closed or unknown
    polls are ignored."""
    row = tx.fetch_one(
        "SELECT id, options FROM polls WHERE message_id = ? AND kind = ? AND closed_at IS NULL",
        (message_id, PollKind.NATIVE.value),
    )
    if row is None or not 0 <= option < len(json.loads(row["options"])):
        return False
    if add:
        sql = (
            "INSERT INTO votes (poll_id, member_id, option, voted_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING"
        )
        return tx.execute_rowcount(sql, (int(row["id"]), member_id, option, to_timestamp(now))) > 0
    return (
        tx.execute_rowcount(
            "DELETE FROM votes WHERE poll_id = ? AND member_id = ? AND option = ?",
            (int(row["id"]), member_id, option),
        )
        > 0
    )


class PollRepository(Repository):
    async def create_poll(
        self,
        guild_id: int,
        channel_id: int,
        creator_id: int,
        kind: PollKind,
        spec: PollSpec,
        *,
        now: datetime,
    ) -> PollRecord:
        """Store a new custom or native poll with the community's next poll number."""
        async with self._db.transaction() as tx:
            return await insert_poll(tx, guild_id, channel_id, creator_id, kind, spec, now=now)

    async def set_poll_message(self, poll_id: int, message_id: int) -> None:
        """Remember the message that shows the poll."""
        await self._db.execute(
            "UPDATE polls SET message_id = ? WHERE id = ?", (message_id, poll_id)
        )

    async def get_poll(self, poll_id: int) -> PollRecord | None:
        """A poll by its id."""
        return await read_poll(self._db, poll_id)

    async def poll_by_number(self, guild_id: int, number: int) -> PollRecord | None:
        """A community's poll by the number shown in its footer."""
        return await fetch_record(
            self._db,
            poll_from_row,
            _SELECT_POLLS + "WHERE guild_id = ? AND number = ?",
            (guild_id, number),
        )

    async def search_polls(self, guild_id: int, text: str, limit: int) -> list[PollRecord]:
        """A community's polls whose question contains ``text`` (or whose number is ``text``),
        newest first, for autocomplete."""
        return await fetch_records(
            self._db,
            poll_from_row,
            _SELECT_POLLS + "WHERE guild_id = ? "
            "AND (lower(question) LIKE '%' || lower(?) || '%' ESCAPE '\\' OR CAST(number AS TEXT) = ?) "
            "ORDER BY number DESC LIMIT ?",
            (guild_id, like_pattern(text), text.strip().lstrip("#"), limit),
        )

    async def vote(
        self, poll_id: int, member_id: int, decide: Decide, *, now: datetime
    ) -> VoteChange:
        """Change a member's choices (:func:`cast_vote`, or with other votes waiting
        :func:`cast_votes`) in the writer's next batch; returns after the commit. Raises what
        ``decide`` raised (nothing is stored), or :class:`PollNotFound`."""
        return await self._db.write(VoteWrite(poll_id, member_id, decide, now))

    #: A native poll's vote event (:func:`cast_native_vote`) in the writer's next batch.
    native_vote = batched(cast_native_vote)

    async def votes(self, poll_id: int) -> list[Vote]:
        """Every ``(member_id, option)`` held in a poll."""
        rows = await self._db.fetch_all(
            "SELECT member_id, option FROM votes WHERE poll_id = ? ORDER BY member_id, option",
            (poll_id,),
        )
        return [Vote(int(row[0]), int(row[1])) for row in rows]

    async def voter_rows(self, poll_id: int) -> list[tuple[int, int, datetime]]:
        """``(member_id, option, voted_at)`` of a poll, oldest first (exports)."""
        rows = await self._db.fetch_all(
            "SELECT member_id, option, voted_at FROM votes WHERE poll_id = ? "
            "ORDER BY voted_at, member_id, option",
            (poll_id,),
        )
        return [(int(r[0]), int(r[1]), datetime.fromtimestamp(r[2], UTC)) for r in rows]

    async def stance_votes(self, poll_id: int) -> dict[int, Stance]:
        """A debate poll's votes as member id -> stance."""
        return {vote.member_id: SCALE[vote.option_index] for vote in await self.votes(poll_id)}

    async def close_poll(self, poll_id: int, *, now: datetime) -> bool:
        """Close a poll unless it is closed already; True when this call closed it."""
        async with self._db.transaction() as tx:
            changed = await tx.execute_rowcount(
                "UPDATE polls SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                (to_timestamp(now), poll_id),
            )
        return changed == 1

    async def due_polls(self, now: datetime) -> list[PollRecord]:
        """Open custom and native polls whose deadline has passed."""
        return await fetch_records(
            self._db,
            poll_from_row,
            _SELECT_POLLS + "WHERE closed_at IS NULL AND deadline <= ? "
            "AND kind <> ? ORDER BY deadline",
            (to_timestamp(now), PollKind.DEBATE.value),
        )

    async def unposted_polls(self) -> list[PollRecord]:
        """Closed custom and native polls whose result was not posted (a crash in between)."""
        return await fetch_records(
            self._db,
            poll_from_row,
            _SELECT_POLLS + "WHERE result_message_id IS NULL "
            "AND closed_at IS NOT NULL AND kind <> ? ORDER BY closed_at",
            (PollKind.DEBATE.value,),
        )

    async def set_poll_result_message(self, poll_id: int, message_id: int) -> None:
        """Remember the message that posted a poll's result (so it is posted once)."""
        await self._db.execute(
            "UPDATE polls SET result_message_id = ? WHERE id = ?", (message_id, poll_id)
        )
