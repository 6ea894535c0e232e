"""`kill -9` of the real bot process in the middle of a burst of poll votes.

The scenario (shared by the test suite, at a small size, and by the soak run, at full size):

1. `python -m bot` runs against the emulator; a member creates a multiple-choice poll with
   `/poll create` (duration `1m`, every member may pick every option).
2. Every member clicks every option once, in a shuffled order, fired concurrently in bounded
   batches: each click adds exactly one `(member, option)` vote, so the votes that must exist
   are known click by click.
3. When about half of the clicks were acknowledged, the process gets SIGKILL in the middle
   of a batch. A click counts as acknowledged when the emulator received its interaction callback
   ("Your vote…"): the bot answers only after the vote's transaction committed.
4. The process is started again on the same database; the members send their remaining clicks.
5. The poll closes at its deadline (the restarted process's deadline loop) and posts its result.

Checked afterwards, from the database (SQLite or PostgreSQL) and from what the emulator holds: every acknowledged
vote is stored; nothing is stored that was not clicked; no vote is stored twice; the stored
tally (the result message and the closed poll message) equals a recount of the votes table;
the poll closed no earlier than its deadline and posted its result exactly once.
"""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bot.database import Database
from bot.database_target import DatabaseTarget
from tests.emulator import DiscordEmulator, EmulatedInteraction
from tests.harness import message_text
from tests.resilience.process import BotProcess

Vote = tuple[int, int]  # (member id, option index)


@dataclass
class Click:
    member: int
    option: int
    interaction: EmulatedInteraction | None = None

    @property
    def vote(self) -> Vote:
        return (self.member, self.option)

    @property
    def reply(self) -> str:
        callback = self.interaction.callback if self.interaction is not None else None
        return str(((callback or {}).get("data") or {}).get("content") or "")

    @property
    def acknowledged(self) -> bool:
        """The emulator received this click's "Your vote…" callback."""
        return self.reply.startswith("Your vote")


@dataclass
class CrashReport:
    members: int
    options: int
    clicks: int
    acknowledged_before_kill: int = 0
    in_flight_at_kill: int = 0
    committed_but_unanswered: int = 0
    sent_after_restart: int = 0
    acknowledged_after_restart: int = 0
    stored: int = 0
    recount: list[int] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"{self.clicks} vote clicks from {self.members} members on {self.options} options",
            f"SIGKILL after {self.acknowledged_before_kill} acknowledged clicks, "
            f"{self.in_flight_at_kill} in flight",
            f"in flight and committed but never answered: {self.committed_but_unanswered}",
            f"after the restart: {self.acknowledged_after_restart} of "
            f"{self.sent_after_restart} clicks acknowledged",
            f"stored votes: {self.stored}; recount per option: {self.recount}",
            "seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in self.seconds.items()),
        ]


def parse_tally(text: str, options: int) -> tuple[list[int], int]:
    """Per-option counts and the voter count from a poll or result embed's text."""
    counts = [int(n) for n in re.findall(r"` (\d+) votes? · ", text)]
    voters = re.search(r"(\d+) voters?", text)
    assert len(counts) == options and voters is not None, text
    return counts, int(voters.group(1))


async def db_rows(
    target: DatabaseTarget, sql: str, params: tuple[object, ...] = ()
) -> list[tuple[object, ...]]:
    """What is committed now (a connection of the test's own, beside the bot process's)."""
    db = await Database.open(target)
    try:
        return [tuple(row) for row in await db.fetch_all(sql, params)]
    finally:
        await db.close()


async def refuses_duplicate_vote(target: DatabaseTarget, member: int, option: int) -> bool:
    """The votes table itself refuses a second ``(member, option)`` vote on poll 1 (the
    transaction is rolled back either way)."""
    db = await Database.open(target)
    try:
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO votes (poll_id, member_id, option, voted_at) VALUES (1, ?, ?, 0)",
                (member, option),
            )
            raise _Accepted
    except (sqlite3.IntegrityError, asyncpg.UniqueViolationError):
        return True
    except _Accepted:
        return False
    finally:
        await db.close()


class _Accepted(Exception):
    """The duplicate went in (raised to roll it back)."""


async def fire(emu: DiscordEmulator, guild_id: int, message_id: int, click: Click) -> None:
    custom_id = f"agora:debates:vote:{POLL_ID}:{click.option}"
    click.interaction = await emu.click(guild_id, click.member, message_id, custom_id)


POLL_ID = 1  # the first poll in a fresh database


async def crash_during_vote_burst(
    workdir: Path,
    database: DatabaseTarget | None = None,
    *,
    members: int,
    options: int,
    batch: int = 40,
    seed: int = 6,
) -> CrashReport:
    started = time.monotonic()
    report = CrashReport(members=members, options=options, clicks=members * options)
    emu = DiscordEmulator()
    await emu.start()
    bot = BotProcess(emu, workdir, database)
    db = bot.database
    try:
        guild = emu.add_guild("community")
        creator = emu.add_member(guild.id, "creator")
        voters = [emu.add_member(guild.id, f"voter{n}") for n in range(members)]
        await bot.start(guild, creator)
        report.seconds["first start"] = time.monotonic() - started

        labels = [f"o{n}" for n in range(options)]
        created = await emu.slash(
            guild.id,
            creator,
            "poll create",
            {
                "question": "Which licence?",
                "options": " | ".join(labels),
                "duration": "1m",
                "multiple": options,
            },
        )
        await created.response(timeout=10)
        poll_message = created.message
        assert poll_message is not None and created.response_type == 4, created.callback
        message_id = int(poll_message["id"])
        assert f"agora:debates:vote:{POLL_ID}:0" in str(poll_message["components"])

        rng = random.Random(seed)
        clicks = [Click(m, o) for m in voters for o in range(options)]
        rng.shuffle(clicks)
        # Off a batch boundary, so the kill lands while the bot handles a batch.
        half = len(clicks) // 2 + batch // 2
        killed = asyncio.Event()

        async def killer() -> None:
            await emu.wait_for(
                lambda: sum(c.acknowledged for c in clicks) >= half,
                timeout=120,
                what="half of the clicks acknowledged",
            )
            await bot.kill()
            killed.set()

        async def burst(todo: list[Click], stop: asyncio.Event | None) -> None:
            for start in range(0, len(todo), batch):
                if stop is not None and stop.is_set():
                    return
                group = todo[start : start + batch]
                for click in group:
                    await fire(emu, guild.id, message_id, click)

                def answered(group: list[Click] = group) -> bool:
                    return all(
                        c.interaction is not None
                        and (c.interaction.callback or c.interaction.callback_error)
                        for c in group
                    )

                waits: list[asyncio.Future[object]] = [
                    asyncio.ensure_future(emu.wait_for(answered, timeout=60))
                ]
                if stop is not None:
                    waits.append(asyncio.ensure_future(stop.wait()))
                done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for task in pending:
                    task.cancel()
                for task in done:
                    task.result()

        t0 = time.monotonic()
        kill_task = asyncio.create_task(killer())
        await burst(clicks, killed)
        await kill_task
        report.seconds["burst until SIGKILL"] = time.monotonic() - t0
        sent = [c for c in clicks if c.interaction is not None]
        acked_before = {c.vote for c in sent if c.acknowledged}
        in_flight = {c.vote for c in sent if not c.acknowledged}
        report.acknowledged_before_kill = len(acked_before)
        report.in_flight_at_kill = len(in_flight)
        assert acked_before and in_flight, "the kill did not land in the middle of the burst"
        assert any(c.interaction is None for c in clicks), "every click was sent before the kill"
        # Nothing answered these clicks, and the dead process never will.
        for c in sent:
            if not c.acknowledged:
                assert c.interaction is not None and c.interaction.callback is None

        t0 = time.monotonic()
        await bot.start(guild, creator)
        report.seconds["restart"] = time.monotonic() - t0
        rest = [c for c in clicks if c.interaction is None]
        t0 = time.monotonic()
        await burst(rest, None)
        report.seconds["rest of the burst"] = time.monotonic() - t0
        report.sent_after_restart = len(rest)
        report.acknowledged_after_restart = sum(c.acknowledged for c in rest)
        for c in rest:
            # Each is a vote, or (on a slow machine) a refusal after the deadline: never lost
            # silently, never an error.
            assert c.acknowledged or "closed" in c.reply, c.reply

        deadline = float(str((await db_rows(db, "SELECT deadline FROM polls"))[0][0]))
        t0 = time.monotonic()
        result = await emu.wait_for_message(
            guild.general_id,
            lambda m: "Result of poll #1" in message_text(m),
            timeout=max(0.0, deadline - time.time()) + 60,
        )
        report.seconds["waiting for the deadline"] = time.monotonic() - t0
        assert await bot.terminate() == 0, bot.log_text()
        # The SIGTERM may land between posting the result and recording it: one more start
        # finishes that (the same nonce, so Discord returns the first post) and changes nothing
        # otherwise.
        await bot.start(guild, creator)

        async def result_recorded() -> bool:
            rows = await db_rows(db, "SELECT result_message_id FROM polls WHERE id = 1")
            return rows[0][0] is not None

        await emu.wait_for(result_recorded, timeout=30, what="the result recorded")
        assert await bot.terminate() == 0, bot.log_text()

        # -- what is stored ------------------------------------------------------------------
        rows = await db_rows(db, "SELECT member_id, option FROM votes WHERE poll_id = ?", (1,))
        stored = [(int(str(m)), int(str(o))) for m, o in rows]
        report.stored = len(stored)
        assert len(stored) == len(set(stored)), "a vote is stored twice"
        acked = acked_before | {c.vote for c in rest if c.acknowledged}
        missing = acked - set(stored)
        assert not missing, f"{len(missing)} acknowledged votes were lost: {sorted(missing)[:5]}"
        clicked = {c.vote for c in clicks if c.interaction is not None}
        assert set(stored) <= clicked, "a vote nobody clicked is stored"
        assert set(stored) - acked <= in_flight
        report.committed_but_unanswered = len(set(stored) - acked)
        # Every acknowledgement told the member a set of votes that includes this click.
        for c in clicks:
            if c.acknowledged:
                assert labels[c.option] in re.split(r"[:,] ", c.reply)[1:], c.reply
        # The database refuses a duplicate by itself.
        assert await refuses_duplicate_vote(db, *stored[0]), "the votes table takes a duplicate"

        # -- the tally equals a recount -----------------------------------------------------
        recount = [0] * options
        for _, option in stored:
            recount[option] += 1
        report.recount = recount
        sql_recount = await db_rows(
            db,
            "SELECT option, count(*) FROM votes WHERE poll_id = 1 GROUP BY option ORDER BY option",
        )
        assert [int(str(n)) for _, n in sql_recount] == [n for n in recount if n]
        voters_count = len({m for m, _ in stored})
        counts, shown_voters = parse_tally(message_text(result), options)
        assert (counts, shown_voters) == (recount, voters_count), "result differs from recount"
        final = emu.get_message(message_id) or {}
        counts, shown_voters = parse_tally(message_text(final), options)
        assert (counts, shown_voters) == (recount, voters_count), "poll message differs"
        assert "Closed" in message_text(final), message_text(final)
        assert not final.get("components"), "the closed poll still has its buttons"

        # -- closed at its deadline, result posted once ----------------------------------------
        [(closed_at, result_id)] = await db_rows(
            db, "SELECT closed_at, result_message_id FROM polls WHERE id = 1"
        )
        assert closed_at is not None and float(str(closed_at)) >= deadline
        assert int(str(result_id)) == int(result["id"])
        results = [
            m
            for m in emu.messages[guild.general_id]
            if "Result of poll #1" in message_text(m) and not m.get("deleted")
        ]
        assert len(results) == 1
        assert not emu.problems(), emu.problems()  # unknown routes, refused request bodies
        errors = bot.error_lines()
        assert not errors, "\n".join(errors)
        report.seconds["total"] = time.monotonic() - started
        return report
    finally:
        if bot.process is not None and bot.process.returncode is None:
            bot.process.kill()
            await bot.process.wait()
        await emu.stop()
