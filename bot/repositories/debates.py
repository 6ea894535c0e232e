"""Polls, votes, debates, arguments and upvotes: every query the debates feature runs.

Times are stored as Unix seconds (UTC) and returned as aware datetimes. Changes that must be
all-or-nothing (a vote and its stance observation, a phase change and the polls it opens or
closes) each run in one transaction; a poll's "closed" state is read inside the same
transaction as the vote, so no vote can be counted after the poll closed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.database import Database, Reader, Transaction
from bot.debates.arguments import Argument
from bot.debates.oxford import OxfordSchedule, Phase
from bot.debates.poll import PollSpec
from bot.debates.tally import Vote
from bot.errors import UserFacingError
from bot.repositories.observations import ObservationRepository
from bot.stance_scale import SCALE, Side, Stance

#: The options of every debate (stance) poll: the scale, +2 first; option i is ``SCALE[i]``.
STANCE_OPTIONS: tuple[str, ...] = tuple(stance.label for stance in SCALE)


def _ts(value: datetime) -> float:
    return value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(float(value), UTC)


#: The start of every query that reads whole polls: the columns `PollRecord.from_row` reads.
_SELECT_POLLS = (
    "SELECT id, guild_id, number, channel_id, message_id, creator_id, kind, question, options, "
    "max_choices, anonymous, role_id, created_at, deadline, closed_at, result_message_id, "
    "debate_id FROM polls "
)
#: The start of every query that reads whole debates: the columns `DebateRecord.from_row` reads.
_SELECT_DEBATES = (
    "SELECT id, guild_id, number, channel_id, message_id, thread_id, creator_id, format, phase, "
    "topic, motion, source, created_at, pre_vote_end, discussion_end, post_vote_end, "
    "pre_poll_id, post_poll_id, closed_at, result_message_id FROM debates "
)


@dataclass(frozen=True)
class PollRecord:
    """A stored poll. ``kind`` is ``custom``, ``native`` or ``debate``."""

    id: int
    guild_id: int
    number: int
    channel_id: int
    message_id: int | None
    creator_id: int
    kind: str
    question: str
    options: tuple[str, ...]
    max_choices: int
    anonymous: bool
    role_id: int | None
    created_at: datetime
    deadline: datetime | None
    closed_at: datetime | None
    result_message_id: int | None
    debate_id: int | None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def spec(self) -> PollSpec:
        """The domain view of this poll."""
        return PollSpec(
            question=self.question,
            options=self.options,
            max_choices=self.max_choices,
            anonymous=self.anonymous,
            role_id=self.role_id,
            deadline=self.deadline,
        )

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> PollRecord:
        created = _dt(row["created_at"])
        assert created is not None
        return cls(
            id=int(row["id"]),
            guild_id=int(row["guild_id"]),
            number=int(row["number"]),
            channel_id=int(row["channel_id"]),
            message_id=row["message_id"],
            creator_id=int(row["creator_id"]),
            kind=str(row["kind"]),
            question=str(row["question"]),
            options=tuple(json.loads(row["options"])),
            max_choices=int(row["max_choices"]),
            anonymous=bool(row["anonymous"]),
            role_id=row["role_id"],
            created_at=created,
            deadline=_dt(row["deadline"]),
            closed_at=_dt(row["closed_at"]),
            result_message_id=row["result_message_id"],
            debate_id=row["debate_id"],
        )


@dataclass(frozen=True)
class DebateRecord:
    """A stored debate; ``phase`` is a :class:`Phase` value (quick: pre_vote, then result)."""

    id: int
    guild_id: int
    number: int
    channel_id: int
    message_id: int | None
    thread_id: int | None
    creator_id: int
    format: str
    phase: Phase
    topic: str | None
    motion: str
    source: str
    created_at: datetime
    schedule: OxfordSchedule
    pre_poll_id: int | None
    post_poll_id: int | None
    closed_at: datetime | None
    result_message_id: int | None

    @property
    def deadline(self) -> datetime | None:
        """When the current phase ends (a quick debate has one phase, ending at the end)."""
        if self.format == "quick":
            return None if self.phase is Phase.RESULT else self.schedule.post_vote_end
        return self.schedule.deadline(self.phase)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> DebateRecord:
        created = _dt(row["created_at"])
        pre, discussion, post = (
            _dt(row["pre_vote_end"]),
            _dt(row["discussion_end"]),
            _dt(row["post_vote_end"]),
        )
        assert created and pre and discussion and post
        return cls(
            id=int(row["id"]),
            guild_id=int(row["guild_id"]),
            number=int(row["number"]),
            channel_id=int(row["channel_id"]),
            message_id=row["message_id"],
            thread_id=row["thread_id"],
            creator_id=int(row["creator_id"]),
            format=str(row["format"]),
            phase=Phase(row["phase"]),
            topic=row["topic"],
            motion=str(row["motion"]),
            source=str(row["source"]),
            created_at=created,
            schedule=OxfordSchedule(
                start=created, pre_vote_end=pre, discussion_end=discussion, post_vote_end=post
            ),
            pre_poll_id=row["pre_poll_id"],
            post_poll_id=row["post_poll_id"],
            closed_at=_dt(row["closed_at"]),
            result_message_id=row["result_message_id"],
        )


@dataclass(frozen=True)
class VoteChange:
    """What a click did: the member's choices before and after, on which poll."""

    poll: PollRecord
    before: frozenset[int]
    after: frozenset[int]


@dataclass(frozen=True)
class PhaseChange:
    """A debate moved to its next phase; ``post_poll`` is set when the closing vote was
    opened by this change."""

    debate: DebateRecord
    post_poll: PollRecord | None


#: Decides a member's new choices from the poll (read inside the vote's transaction) and the
#: choices they hold; raises :class:`UserFacingError` to refuse the vote.
Decide = Callable[[PollRecord, frozenset[int]], frozenset[int]]


class DebateRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._observations = ObservationRepository(db)

    # -- polls ------------------------------------------------------------------------------

    async def create_poll(
        self,
        guild_id: int,
        channel_id: int,
        creator_id: int,
        kind: str,
        spec: PollSpec,
        *,
        now: datetime,
        debate_id: int | None = None,
        tx: Transaction | None = None,
    ) -> PollRecord:
        """Store a new poll with the community's next poll number (inside ``tx`` if given)."""
        if tx is None:
            async with self._db.transaction() as own:
                return await self._insert_poll(
                    own, guild_id, channel_id, creator_id, kind, spec, now, debate_id
                )
        return await self._insert_poll(
            tx, guild_id, channel_id, creator_id, kind, spec, now, debate_id
        )

    async def _insert_poll(
        self,
        tx: Transaction,
        guild_id: int,
        channel_id: int,
        creator_id: int,
        kind: str,
        spec: PollSpec,
        now: datetime,
        debate_id: int | None,
    ) -> PollRecord:
        row = await tx.fetch_one(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM polls WHERE guild_id = ?", (guild_id,)
        )
        number = int(row[0]) if row else 1
        poll_id = await tx.execute(
            "INSERT INTO polls (guild_id, number, channel_id, creator_id, kind, question, "
            "options, max_choices, anonymous, role_id, created_at, deadline, debate_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                guild_id,
                number,
                channel_id,
                creator_id,
                kind,
                spec.question,
                json.dumps(list(spec.options)),
                spec.max_choices,
                int(spec.anonymous),
                spec.role_id,
                _ts(now),
                _ts(spec.deadline) if spec.deadline else None,
                debate_id,
            ),
        )
        poll = await self._poll_in(tx, poll_id)
        assert poll is not None
        return poll

    async def _poll_in(self, reader: Reader, poll_id: int) -> PollRecord | None:
        row = await reader.fetch_one(_SELECT_POLLS + "WHERE id = ?", (poll_id,))
        return PollRecord.from_row(row) if row else None

    async def set_poll_message(self, poll_id: int, message_id: int) -> None:
        """Remember the message that shows the poll."""
        await self._db.execute(
            "UPDATE polls SET message_id = ? WHERE id = ?", (message_id, poll_id)
        )

    async def get_poll(self, poll_id: int) -> PollRecord | None:
        """A poll by its id."""
        return await self._poll_in(self._db, poll_id)

    async def poll_by_number(self, guild_id: int, number: int) -> PollRecord | None:
        """A community's poll by the number shown in its footer."""
        row = await self._db.fetch_one(
            _SELECT_POLLS + "WHERE guild_id = ? AND number = ?",
            (guild_id, number),
        )
        return PollRecord.from_row(row) if row else None

    async def search_polls(self, guild_id: int, text: str, limit: int = 25) -> list[PollRecord]:
        """A community's polls whose question contains ``text`` (or whose number is ``text``),
        newest first, for autocomplete."""
        rows = await self._db.fetch_all(
            _SELECT_POLLS + "WHERE guild_id = ? "
            "AND (question LIKE '%' || ? || '%' ESCAPE '\\' OR CAST(number AS TEXT) = ?) "
            "ORDER BY number DESC LIMIT ?",
            (guild_id, _like(text), text.strip().lstrip("#"), limit),
        )
        return [PollRecord.from_row(row) for row in rows]

    async def vote(
        self, poll_id: int, member_id: int, decide: Decide, *, now: datetime
    ) -> VoteChange:
        """Change a member's choices in one transaction: read the poll and the member's
        choices, let ``decide`` compute the new ones (or refuse), store the difference, and
        record a stance observation for a debate vote. Returns after the commit."""
        async with self._db.transaction() as tx:
            poll = await self._poll_in(tx, poll_id)
            if poll is None:
                raise UserFacingError("This poll no longer exists.")
            rows = await tx.fetch_all(
                "SELECT option FROM votes WHERE poll_id = ? AND member_id = ?",
                (poll_id, member_id),
            )
            before = frozenset(int(row[0]) for row in rows)
            after = decide(poll, before)
            for option in sorted(before - after):
                await tx.execute(
                    "DELETE FROM votes WHERE poll_id = ? AND member_id = ? AND option = ?",
                    (poll_id, member_id, option),
                )
            for option in sorted(after - before):
                await tx.execute(
                    "INSERT INTO votes (poll_id, member_id, option, voted_at) VALUES (?, ?, ?, ?)",
                    (poll_id, member_id, option, _ts(now)),
                )
            if poll.kind == "debate" and poll.debate_id is not None and after - before:
                debate_row = await tx.fetch_one(
                    "SELECT topic, number FROM debates WHERE id = ?", (poll.debate_id,)
                )
                assert debate_row is not None
                (option,) = after - before
                # The community's own debate number (the one members see), not the row id.
                await self._observations.record(
                    poll.guild_id,
                    member_id,
                    SCALE[option],
                    f"debate:{debate_row['number']}",
                    topic=debate_row["topic"],
                    at=now,
                    tx=tx,
                )
        return VoteChange(poll=poll, before=before, after=after)

    async def native_vote(
        self, message_id: int, member_id: int, option: int, *, add: bool, now: datetime
    ) -> bool:
        """Record (``add``) or remove a vote on a native poll from a gateway event; returns
        whether anything changed. Votes on closed or unknown polls are ignored."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT id, options FROM polls WHERE message_id = ? AND kind = 'native' "
                "AND closed_at IS NULL",
                (message_id,),
            )
            if row is None or not 0 <= option < len(json.loads(row["options"])):
                return False
            if add:
                changed = await tx.execute_rowcount(
                    "INSERT OR IGNORE INTO votes (poll_id, member_id, option, voted_at) "
                    "VALUES (?, ?, ?, ?)",
                    (int(row["id"]), member_id, option, _ts(now)),
                )
            else:
                changed = await tx.execute_rowcount(
                    "DELETE FROM votes WHERE poll_id = ? AND member_id = ? AND option = ?",
                    (int(row["id"]), member_id, option),
                )
        return changed > 0

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
                (_ts(now), poll_id),
            )
        return changed == 1

    async def due_polls(self, now: datetime) -> list[PollRecord]:
        """Open custom and native polls whose deadline has passed."""
        rows = await self._db.fetch_all(
            _SELECT_POLLS + "WHERE closed_at IS NULL AND deadline <= ? "
            "AND kind <> 'debate' ORDER BY deadline",
            (_ts(now),),
        )
        return [PollRecord.from_row(row) for row in rows]

    async def unposted_polls(self) -> list[PollRecord]:
        """Closed custom and native polls whose result was not posted (a crash in between)."""
        rows = await self._db.fetch_all(
            _SELECT_POLLS + "WHERE result_message_id IS NULL "
            "AND closed_at IS NOT NULL AND kind <> 'debate' ORDER BY closed_at",
        )
        return [PollRecord.from_row(row) for row in rows]

    async def set_poll_result_message(self, poll_id: int, message_id: int) -> None:
        """Remember the message that posted a poll's result (so it is posted once)."""
        await self._db.execute(
            "UPDATE polls SET result_message_id = ? WHERE id = ?", (message_id, poll_id)
        )

    # -- debates ----------------------------------------------------------------------------

    async def create_debate(
        self,
        guild_id: int,
        channel_id: int,
        creator_id: int,
        *,
        format: str,
        topic: str | None,
        motion: str,
        source: str,
        schedule: OxfordSchedule,
        now: datetime,
    ) -> tuple[DebateRecord, PollRecord]:
        """Store a debate (next debate number) and its opening stance vote, together."""
        end = schedule.post_vote_end if format == "quick" else schedule.pre_vote_end
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM debates WHERE guild_id = ?",
                (guild_id,),
            )
            number = int(row[0]) if row else 1
            debate_id = await tx.execute(
                "INSERT INTO debates (guild_id, number, channel_id, creator_id, format, topic, "
                "motion, source, created_at, pre_vote_end, discussion_end, post_vote_end) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    number,
                    channel_id,
                    creator_id,
                    format,
                    topic,
                    motion,
                    source,
                    _ts(now),
                    _ts(end),
                    _ts(schedule.discussion_end if format == "oxford" else end),
                    _ts(schedule.post_vote_end),
                ),
            )
            poll = await self._insert_poll(
                tx,
                guild_id,
                channel_id,
                creator_id,
                "debate",
                _stance_spec(motion, end),
                now,
                debate_id,
            )
            await tx.execute(
                "UPDATE debates SET pre_poll_id = ? WHERE id = ?", (poll.id, debate_id)
            )
            debate = await self._debate_in(tx, debate_id)
        assert debate is not None
        return debate, poll

    async def _debate_in(self, reader: Reader, debate_id: int) -> DebateRecord | None:
        row = await reader.fetch_one(_SELECT_DEBATES + "WHERE id = ?", (debate_id,))
        return DebateRecord.from_row(row) if row else None

    async def get_debate(self, debate_id: int) -> DebateRecord | None:
        """A debate by its id."""
        return await self._debate_in(self._db, debate_id)

    async def debate_by_number(self, guild_id: int, number: int) -> DebateRecord | None:
        """A community's debate by the number shown in its footer."""
        row = await self._db.fetch_one(
            _SELECT_DEBATES + "WHERE guild_id = ? AND number = ?",
            (guild_id, number),
        )
        return DebateRecord.from_row(row) if row else None

    async def search_debates(self, guild_id: int, text: str, limit: int = 25) -> list[DebateRecord]:
        """A community's debates whose motion contains ``text`` (or whose number is
        ``text``), running ones first, newest first, for autocomplete."""
        rows = await self._db.fetch_all(
            _SELECT_DEBATES + "WHERE guild_id = ? "
            "AND (motion LIKE '%' || ? || '%' ESCAPE '\\' OR CAST(number AS TEXT) = ?) "
            "ORDER BY phase = 'result', number DESC LIMIT ?",
            (guild_id, _like(text), text.strip().lstrip("#"), limit),
        )
        return [DebateRecord.from_row(row) for row in rows]

    async def recent_topics(self, guild_id: int, limit: int = 10) -> list[str]:
        """Topic ids of a community's latest debates (so a random pick avoids repeats)."""
        rows = await self._db.fetch_all(
            "SELECT topic FROM debates WHERE guild_id = ? AND topic IS NOT NULL "
            "ORDER BY id DESC LIMIT ?",
            (guild_id, limit),
        )
        return [str(row[0]) for row in rows]

    async def set_debate_message(self, debate_id: int, message_id: int) -> None:
        """Remember the debate's opening message."""
        await self._db.execute(
            "UPDATE debates SET message_id = ? WHERE id = ?", (message_id, debate_id)
        )

    async def set_debate_thread(self, debate_id: int, thread_id: int) -> None:
        """Remember the debate's discussion thread."""
        await self._db.execute(
            "UPDATE debates SET thread_id = ? WHERE id = ?", (thread_id, debate_id)
        )

    async def advance_phase(
        self, debate_id: int, expected: Phase, *, now: datetime, to_result: bool = False
    ) -> PhaseChange | None:
        """Move a debate from ``expected`` to its next phase (or straight to the result with
        ``to_result``), in one transaction with the polls that closes and opens. Returns
        ``None`` when the debate is no longer in ``expected`` (someone else moved it)."""
        async with self._db.transaction() as tx:
            debate = await self._debate_in(tx, debate_id)
            if debate is None or debate.phase is not expected or expected is Phase.RESULT:
                return None
            target = Phase.RESULT if to_result or debate.format == "quick" else expected.next()
            await tx.execute(
                "UPDATE debates SET phase = ?, closed_at = ? WHERE id = ?",
                (target.value, _ts(now) if target is Phase.RESULT else None, debate_id),
            )
            if expected is Phase.PRE_VOTE or target is Phase.RESULT:
                await tx.execute(
                    "UPDATE polls SET closed_at = ? WHERE debate_id = ? AND closed_at IS NULL",
                    (_ts(now), debate_id),
                )
            post_poll = None
            if target is Phase.POST_VOTE:
                post_poll = await self._insert_poll(
                    tx,
                    debate.guild_id,
                    debate.channel_id,
                    debate.creator_id,
                    "debate",
                    _stance_spec(debate.motion, max(debate.schedule.post_vote_end, now)),
                    now,
                    debate_id,
                )
                await tx.execute(
                    "UPDATE debates SET post_poll_id = ? WHERE id = ?", (post_poll.id, debate_id)
                )
            updated = await self._debate_in(tx, debate_id)
        assert updated is not None
        return PhaseChange(debate=updated, post_poll=post_poll)

    async def due_debates(self, now: datetime) -> list[DebateRecord]:
        """Running debates whose current phase has ended."""
        rows = await self._db.fetch_all(
            _SELECT_DEBATES + "WHERE phase <> 'result' "
            "AND CASE phase WHEN 'pre_vote' THEN pre_vote_end WHEN 'discussion' THEN discussion_end ELSE post_vote_end END <= ? ORDER BY id",
            (_ts(now),),
        )
        return [DebateRecord.from_row(row) for row in rows]

    async def unposted_debates(self) -> list[DebateRecord]:
        """Finished debates whose result was not posted (a crash in between)."""
        rows = await self._db.fetch_all(
            _SELECT_DEBATES + "WHERE phase = 'result' AND result_message_id IS NULL ORDER BY id",
        )
        return [DebateRecord.from_row(row) for row in rows]

    async def unposted_closing_votes(self) -> list[tuple[DebateRecord, PollRecord]]:
        """Debates in their closing vote whose closing poll has no message (its post failed)."""
        rows = await self._db.fetch_all(
            _SELECT_DEBATES + "WHERE phase = 'post_vote' AND post_poll_id IS NOT NULL ORDER BY id",
        )
        found = []
        for row in rows:
            debate = DebateRecord.from_row(row)
            assert debate.post_poll_id is not None
            poll = await self.get_poll(debate.post_poll_id)
            if poll is not None and poll.message_id is None:
                found.append((debate, poll))
        return found

    async def set_debate_result_message(self, debate_id: int, message_id: int) -> None:
        """Remember the message that posted a debate's result (so it is posted once)."""
        await self._db.execute(
            "UPDATE debates SET result_message_id = ? WHERE id = ?", (message_id, debate_id)
        )

    # -- arguments --------------------------------------------------------------------------

    async def add_argument(
        self, debate_id: int, member_id: int, side: Side, text: str, *, now: datetime
    ) -> int:
        """Store an argument, unless the debate has ended; returns its id."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one("SELECT phase FROM debates WHERE id = ?", (debate_id,))
            if row is None or row[0] == Phase.RESULT.value:
                raise UserFacingError("This debate has ended: arguments are closed.")
            return await tx.execute(
                "INSERT INTO debate_arguments (debate_id, member_id, side, text, posted_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (debate_id, member_id, int(side), text, _ts(now)),
            )

    async def set_argument_message(self, argument_id: int, message_id: int) -> None:
        """Remember the message that shows an argument."""
        await self._db.execute(
            "UPDATE debate_arguments SET message_id = ? WHERE id = ?", (message_id, argument_id)
        )

    async def get_argument(self, argument_id: int) -> tuple[int, Argument, int | None] | None:
        """``(debate_id, argument with its upvotes, message_id)`` of one argument."""
        row = await self._db.fetch_one(
            "SELECT a.id, a.debate_id, a.member_id, a.side, a.text, a.posted_at, a.message_id, "
            "(SELECT count(*) FROM argument_upvotes u WHERE u.argument_id = a.id) AS upvotes "
            "FROM debate_arguments a WHERE a.id = ?",
            (argument_id,),
        )
        if row is None:
            return None
        return int(row["debate_id"]), _argument(row), row["message_id"]

    async def arguments(self, debate_id: int) -> list[Argument]:
        """A debate's arguments with their upvotes, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT a.id, a.member_id, a.side, a.text, a.posted_at, count(u.member_id) AS upvotes "
            "FROM debate_arguments a LEFT JOIN argument_upvotes u ON u.argument_id = a.id "
            "WHERE a.debate_id = ? GROUP BY a.id ORDER BY a.posted_at, a.id",
            (debate_id,),
        )
        return [_argument(row) for row in rows]

    async def toggle_upvote(
        self,
        argument_id: int,
        member_id: int,
        *,
        now: datetime,
        allowed: Callable[[Argument], None],
    ) -> tuple[bool, int]:
        """Upvote an argument, or take the upvote back if the member gave one; ``allowed``
        raises to refuse (own argument, ended debate). Returns (upvoted now, upvotes)."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT a.id, a.member_id, a.side, a.text, a.posted_at, d.phase, "
                "0 AS upvotes FROM debate_arguments a JOIN debates d ON d.id = a.debate_id "
                "WHERE a.id = ?",
                (argument_id,),
            )
            if row is None:
                raise UserFacingError("This argument no longer exists.")
            if row["phase"] == Phase.RESULT.value:
                raise UserFacingError("This debate has ended: upvotes are closed.")
            allowed(_argument(row))
            removed = await tx.execute_rowcount(
                "DELETE FROM argument_upvotes WHERE argument_id = ? AND member_id = ?",
                (argument_id, member_id),
            )
            if not removed:
                await tx.execute(
                    "INSERT INTO argument_upvotes (argument_id, member_id, upvoted_at) "
                    "VALUES (?, ?, ?)",
                    (argument_id, member_id, _ts(now)),
                )
            count = await tx.fetch_one(
                "SELECT count(*) FROM argument_upvotes WHERE argument_id = ?", (argument_id,)
            )
        return not removed, int(count[0]) if count else 0

    # -- weekly debates ---------------------------------------------------------------------

    async def last_weekly_slot(self, guild_id: int) -> datetime | None:
        """The last weekly slot handled for a community (None: never)."""
        value = await self._db.fetch_value(
            "SELECT last_slot FROM weekly_debate_runs WHERE guild_id = ?", (guild_id,)
        )
        return _dt(value)

    async def claim_weekly_slot(self, guild_id: int, slot: datetime) -> bool:
        """Record ``slot`` as handled unless it (or a later one) already is; True when this
        call claimed it, so a slot's debate starts once even if two loops race."""
        async with self._db.transaction() as tx:
            changed = await tx.execute_rowcount(
                "INSERT INTO weekly_debate_runs (guild_id, last_slot) VALUES (?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET last_slot = excluded.last_slot "
                "WHERE last_slot < excluded.last_slot",
                (guild_id, _ts(slot)),
            )
        return changed == 1


def _stance_spec(motion: str, deadline: datetime) -> PollSpec:
    return PollSpec(
        question=motion, options=STANCE_OPTIONS, max_choices=1, anonymous=True, deadline=deadline
    )


def _argument(row: sqlite3.Row) -> Argument:
    return Argument(
        side=Side(int(row["side"])),
        text=str(row["text"]),
        author=int(row["member_id"]),
        upvotes=int(row["upvotes"]),
        posted_at=datetime.fromtimestamp(float(row["posted_at"]), UTC),
        id=int(row["id"]),
    )


def _like(text: str) -> str:
    """``text`` with LIKE wildcards escaped."""
    return text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


__all__: Sequence[str] = (
    "STANCE_OPTIONS",
    "DebateRecord",
    "DebateRepository",
    "PhaseChange",
    "PollRecord",
    "VoteChange",
)


async def unlink_member(tx: Transaction, guild_id: int, member_id: int) -> int:
    """Remove a member from this community's polls and debates (`/stance forget`).

    Votes in open polls are deleted (the member can no longer be counted there). Votes in
    closed polls stay under a pseudonym (the next unused negative id in that poll), so the
    published totals and turnout do not change but the member is gone. Arguments keep their
    text without an author (member 0); the member's upvotes are deleted.
    Returns how many vote rows were deleted or pseudonymised.
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
            "SELECT min(min(member_id), 0) FROM votes WHERE poll_id = ?", (row[0],)
        )
        pseudonym = int(lowest[0] if lowest else 0) - 1
        changed += await tx.execute_rowcount(
            "UPDATE votes SET member_id = ? WHERE poll_id = ? AND member_id = ?",
            (pseudonym, row[0], member_id),
        )
    await tx.execute(
        "DELETE FROM argument_upvotes WHERE member_id = ? AND argument_id IN "
        "(SELECT a.id FROM debate_arguments a JOIN debates d ON d.id = a.debate_id "
        "WHERE d.guild_id = ?)",
        (member_id, guild_id),
    )
    await tx.execute(
        "UPDATE debate_arguments SET member_id = 0 WHERE member_id = ? AND debate_id IN "
        "(SELECT id FROM debates WHERE guild_id = ?)",
        (member_id, guild_id),
    )
    return changed
