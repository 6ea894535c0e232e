"""Debates, their arguments and upvotes, and the weekly debate's last run: every query.

A debate's stance votes are polls (:mod:`bot.repositories.polls`). Changes that must be
all-or-nothing each run in one transaction: a new debate and its opening vote; a phase change
and the polls it closes or opens (compare-and-set on the phase the caller saw, so the deadline
job and ``/debate next`` never both move a debate); an upvote and the check that the debate
is still running.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bot.database import Reader, Row
from bot.debates.arguments import Argument
from bot.debates.debate import stance_poll_spec
from bot.debates.errors import ArgumentNotFound, DebateEnded
from bot.debates.oxford import OxfordSchedule, Phase
from bot.debates.records import (
    DebateFormat,
    DebateRecord,
    DebateSource,
    PhaseChange,
    PollKind,
    PollRecord,
    StoredArgument,
)
from bot.repositories import (
    Repository,
    fetch_record,
    fetch_records,
)
from bot.repositories.polls import (
    from_timestamp,
    insert_poll,
    like_pattern,
    read_poll,
    to_timestamp,
)
from bot.stance_scale import Side

#: The start of every query that reads whole debates: the columns `_debate` reads.
_SELECT_DEBATES = (
    "SELECT id, guild_id, number, channel_id, message_id, thread_id, creator_id, format, phase, "
    "topic, motion, source, created_at, pre_vote_end, discussion_end, post_vote_end, "
    "pre_poll_id, post_poll_id, closed_at, result_message_id FROM debates "
)


def _debate(row: Row) -> DebateRecord:
    created = from_timestamp(row["created_at"])
    pre, discussion, post = (
        from_timestamp(row["pre_vote_end"]),
        from_timestamp(row["discussion_end"]),
        from_timestamp(row["post_vote_end"]),
    )
    assert created and pre and discussion and post
    return DebateRecord(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        number=int(row["number"]),
        channel_id=int(row["channel_id"]),
        message_id=row["message_id"],
        thread_id=row["thread_id"],
        creator_id=int(row["creator_id"]),
        format=DebateFormat(row["format"]),
        phase=Phase(row["phase"]),
        topic=row["topic"],
        motion=str(row["motion"]),
        source=DebateSource(row["source"]),
        created_at=created,
        schedule=OxfordSchedule(
            start=created, pre_vote_end=pre, discussion_end=discussion, post_vote_end=post
        ),
        pre_poll_id=row["pre_poll_id"],
        post_poll_id=row["post_poll_id"],
        closed_at=from_timestamp(row["closed_at"]),
        result_message_id=row["result_message_id"],
    )


def _argument(row: Row) -> Argument:
    return Argument(
        side=Side(int(row["side"])),
        text=str(row["text"]),
        author=int(row["member_id"]),
        upvotes=int(row["upvotes"]),
        posted_at=datetime.fromtimestamp(float(row["posted_at"]), UTC),
        id=int(row["id"]),
    )


async def _read_debate(reader: Reader, debate_id: int) -> DebateRecord | None:
    return await fetch_record(reader, _debate, _SELECT_DEBATES + "WHERE id = ?", (debate_id,))


class DebateRepository(Repository):
    # -- debates ----------------------------------------------------------------------------

    async def create_debate(
        self,
        guild_id: int,
        channel_id: int,
        creator_id: int,
        *,
        format: DebateFormat,
        topic: str | None,
        motion: str,
        source: DebateSource,
        schedule: OxfordSchedule,
        now: datetime,
    ) -> tuple[DebateRecord, PollRecord]:
        """Store a debate (next debate number) and its opening stance vote, together."""
        quick = format is DebateFormat.QUICK
        end = schedule.post_vote_end if quick else schedule.pre_vote_end
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM debates WHERE guild_id = ?",
                (guild_id,),
            )
            number = int(row[0]) if row else 1
            debate_id = await tx.fetch_value(
                "INSERT INTO debates (guild_id, number, channel_id, creator_id, format, topic, "
                "motion, source, created_at, pre_vote_end, discussion_end, post_vote_end) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    guild_id,
                    number,
                    channel_id,
                    creator_id,
                    format.value,
                    topic,
                    motion,
                    source.value,
                    to_timestamp(now),
                    to_timestamp(end),
                    to_timestamp(end if quick else schedule.discussion_end),
                    to_timestamp(schedule.post_vote_end),
                ),
            )
            poll = await insert_poll(
                tx,
                guild_id,
                channel_id,
                creator_id,
                PollKind.DEBATE,
                stance_poll_spec(motion, end),
                now=now,
                debate_id=debate_id,
            )
            await tx.execute(
                "UPDATE debates SET pre_poll_id = ? WHERE id = ?", (poll.id, debate_id)
            )
            debate = await _read_debate(tx, debate_id)
        assert debate is not None
        return debate, poll

    async def get_debate(self, debate_id: int) -> DebateRecord | None:
        """A debate by its id."""
        return await _read_debate(self._db, debate_id)

    async def debate_by_number(self, guild_id: int, number: int) -> DebateRecord | None:
        """A community's debate by the number shown in its footer."""
        return await fetch_record(
            self._db,
            _debate,
            _SELECT_DEBATES + "WHERE guild_id = ? AND number = ?",
            (guild_id, number),
        )

    async def search_debates(self, guild_id: int, text: str, limit: int) -> list[DebateRecord]:
        """A community's debates whose motion contains ``text`` (or whose number is
        ``text``), running ones first, newest first, for autocomplete."""
        return await fetch_records(
            self._db,
            _debate,
            _SELECT_DEBATES + "WHERE guild_id = ? "
            "AND (lower(motion) LIKE '%' || lower(?) || '%' ESCAPE '\\' OR CAST(number AS TEXT) = ?) "
            "ORDER BY phase = ?, number DESC LIMIT ?",
            (guild_id, like_pattern(text), text.strip().lstrip("#"), Phase.RESULT.value, limit),
        )

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
            debate = await _read_debate(tx, debate_id)
            if debate is None or debate.phase is not expected or expected is Phase.RESULT:
                return None
            quick = debate.format is DebateFormat.QUICK
            target = Phase.RESULT if to_result or quick else expected.next()
            await tx.execute(
                "UPDATE debates SET phase = ?, closed_at = ? WHERE id = ?",
                (target.value, to_timestamp(now) if target is Phase.RESULT else None, debate_id),
            )
            if expected is Phase.PRE_VOTE or target is Phase.RESULT:
                await tx.execute(
                    "UPDATE polls SET closed_at = ? WHERE debate_id = ? AND closed_at IS NULL",
                    (to_timestamp(now), debate_id),
                )
            post_poll = None
            if target is Phase.POST_VOTE:
                post_poll = await insert_poll(
                    tx,
                    debate.guild_id,
                    debate.channel_id,
                    debate.creator_id,
                    PollKind.DEBATE,
                    stance_poll_spec(debate.motion, max(debate.schedule.post_vote_end, now)),
                    now=now,
                    debate_id=debate_id,
                )
                await tx.execute(
                    "UPDATE debates SET post_poll_id = ? WHERE id = ?", (post_poll.id, debate_id)
                )
            updated = await _read_debate(tx, debate_id)
        assert updated is not None
        return PhaseChange(debate=updated, post_poll=post_poll)

    async def due_debates(self, now: datetime) -> list[DebateRecord]:
        """Running debates whose current phase has ended."""
        return await fetch_records(
            self._db,
            _debate,
            _SELECT_DEBATES + "WHERE phase <> 'result' "
            "AND CASE phase WHEN 'pre_vote' THEN pre_vote_end WHEN 'discussion' "
            "THEN discussion_end ELSE post_vote_end END <= ? ORDER BY id",
            (to_timestamp(now),),
        )

    async def unposted_debates(self) -> list[DebateRecord]:
        """Finished debates whose result was not posted (a crash in between)."""
        return await fetch_records(
            self._db,
            _debate,
            _SELECT_DEBATES + "WHERE phase = 'result' AND result_message_id IS NULL ORDER BY id",
        )

    async def unposted_closing_votes(self) -> list[tuple[DebateRecord, PollRecord]]:
        """Debates in their closing vote whose closing poll has no message (its post failed)."""
        rows = await self._db.fetch_all(
            _SELECT_DEBATES + "WHERE phase = 'post_vote' AND post_poll_id IS NOT NULL ORDER BY id",
        )
        found = []
        for row in rows:
            debate = _debate(row)
            assert debate.post_poll_id is not None
            poll = await read_poll(self._db, debate.post_poll_id)
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
        """Store an argument and return its id; :class:`DebateEnded` once the debate has
        its result (or does not exist)."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one("SELECT phase FROM debates WHERE id = ?", (debate_id,))
            if row is None or row[0] == Phase.RESULT.value:
                raise DebateEnded(debate_id)
            return int(
                await tx.fetch_value(
                    "INSERT INTO debate_arguments (debate_id, member_id, side, text, posted_at) "
                    "VALUES (?, ?, ?, ?, ?) RETURNING id",
                    (debate_id, member_id, int(side), text, to_timestamp(now)),
                )
            )

    async def set_argument_message(self, argument_id: int, message_id: int) -> None:
        """Remember the message that shows an argument."""
        await self._db.execute(
            "UPDATE debate_arguments SET message_id = ? WHERE id = ?", (message_id, argument_id)
        )

    async def get_argument(self, argument_id: int) -> StoredArgument | None:
        """One argument with its upvotes, its debate and its message."""
        row = await self._db.fetch_one(
            "SELECT a.id, a.debate_id, a.member_id, a.side, a.text, a.posted_at, a.message_id, "
            "(SELECT count(*) FROM argument_upvotes u WHERE u.argument_id = a.id) AS upvotes "
            "FROM debate_arguments a WHERE a.id = ?",
            (argument_id,),
        )
        if row is None:
            return None
        return StoredArgument(int(row["debate_id"]), _argument(row), row["message_id"])

    async def arguments(self, debate_id: int) -> list[Argument]:
        """A debate's arguments with their upvotes, oldest first."""
        return await fetch_records(
            self._db,
            _argument,
            "SELECT a.id, a.member_id, a.side, a.text, a.posted_at, count(u.member_id) AS upvotes "
            "FROM debate_arguments a LEFT JOIN argument_upvotes u ON u.argument_id = a.id "
            "WHERE a.debate_id = ? GROUP BY a.id ORDER BY a.posted_at, a.id",
            (debate_id,),
        )

    async def toggle_upvote(
        self,
        argument_id: int,
        member_id: int,
        *,
        now: datetime,
        allowed: Callable[[Argument], None],
    ) -> tuple[bool, int]:
        """Upvote an argument, or take the upvote back if the member gave one; ``allowed``
        raises to refuse (an own argument). Returns (upvoted now, upvotes).

        Raises :class:`ArgumentNotFound` or :class:`DebateEnded` (upvotes close with it)."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT a.id, a.debate_id, a.member_id, a.side, a.text, a.posted_at, d.phase, "
                "0 AS upvotes FROM debate_arguments a JOIN debates d ON d.id = a.debate_id "
                "WHERE a.id = ?",
                (argument_id,),
            )
            if row is None:
                raise ArgumentNotFound(argument_id)
            if row["phase"] == Phase.RESULT.value:
                raise DebateEnded(int(row["debate_id"]))
            allowed(_argument(row))
            removed = await tx.execute_rowcount(
                "DELETE FROM argument_upvotes WHERE argument_id = ? AND member_id = ?",
                (argument_id, member_id),
            )
            if not removed:
                await tx.execute(
                    "INSERT INTO argument_upvotes (argument_id, member_id, upvoted_at) "
                    "VALUES (?, ?, ?)",
                    (argument_id, member_id, to_timestamp(now)),
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
        return from_timestamp(value)

    async def claim_weekly_slot(self, guild_id: int, slot: datetime) -> bool:
        """Record ``slot`` as handled unless it (or a later one) already is; True when this
        call claimed it, so a slot's debate starts once even if two loops race."""
        async with self._db.transaction() as tx:
            changed = await tx.execute_rowcount(
                "INSERT INTO weekly_debate_runs (guild_id, last_slot) VALUES (?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET last_slot = excluded.last_slot "
                "WHERE weekly_debate_runs.last_slot < excluded.last_slot",
                (guild_id, to_timestamp(slot)),
            )
        return changed == 1
