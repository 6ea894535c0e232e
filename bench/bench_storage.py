"""Durable votes per second: the bot's repository against plain ``sqlite3`` (the ceiling).

    .venv/bin/python -m bench.bench_storage

Every variant writes to its own fresh database file created by the bot's migrations (the
same schema and indexes), opened as the bot opens it: WAL, ``synchronous = NORMAL``,
foreign keys on, busy timeout. In WAL with NORMAL a committed vote survives a crash of the
process (``kill -9``); only an OS crash or power loss may lose the last commits.

* ``PollRepository.vote``: what a click on a poll costs in storage (the hot path; the issue's
  ``DebateRepository.vote`` of that time is this method today, which also takes a debate's
  stance votes). Each vote is one write of the batch writer (``bot/writer.py``): read the poll,
  read the member's choices, decide (the real toggle rule), insert, in its own savepoint;
  every vote waiting goes to the database thread in one hop and commits in one transaction.
  Run one voter at a time (a batch of one, a commit per vote), with 10 and with 50 at once
  (the growth).
* the same for a debate's stance vote (50 at once): it also records a stance observation.
* plain ``sqlite3``, the repository's statements, one transaction per vote: the same SQL
  without asyncio and aiosqlite (how much of the cost is the async layer).
* plain ``sqlite3`` ``INSERT``, one transaction per vote: the ceiling for durable single
  votes on this disk.
* plain ``sqlite3`` ``INSERT``, batched: all votes in one transaction (``executemany``): the
  ceiling of grouping (the bot groups only the votes waiting at once, and acknowledges each
  after its batch's commit).

Records ``storage_ratio_single`` and ``storage_ratio_concurrent``: ``PollRepository.vote`` with
one voter and with 50 at once, over plain ``INSERT`` with a transaction per vote.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import results
from bench.loopwatch import LoopWatch
from bot.database import Database
from bot.database_target import DatabaseTarget
from bot.debates.oxford import oxford_schedule
from bot.debates.poll import PollSpec, apply_vote
from bot.debates.records import DebateFormat, DebateSource, PollKind, PollRecord
from bot.repositories.debates import DebateRepository
from bot.repositories.polls import PollRepository

REPO_VOTES = 5_000
PLAIN_VOTES = 20_000
BATCH_VOTES = 100_000
CEILING_VOTES = 5_000  # the reference measured beside each repository variant
CONCURRENT = 50
VOTERS = (1, 10, CONCURRENT)  # at once: the growth
MEMBER0 = 10**17


async def fresh(path: Path | DatabaseTarget, *, debate: bool = False) -> tuple[Database, int]:
    """A migrated database with one open 4-option poll (or a debate's 5-stance vote); returns
    it and the poll id."""
    db = await Database.open(path)
    await db.migrate()
    now = datetime.now(UTC)
    if debate:
        _, stance_poll = await DebateRepository(db).create_debate(
            1, 2, 3, format=DebateFormat.QUICK, topic=None, motion="Bench?",
            source=DebateSource.MANUAL, schedule=oxford_schedule(now, timedelta(hours=4)), now=now,
        )  # fmt: skip
        return db, stance_poll.id
    spec = PollSpec(question="Bench?", options=("a", "b", "c", "d"))
    poll = await PollRepository(db).create_poll(1, 2, 3, PollKind.CUSTOM, spec, now=now)
    return db, poll.id


def decide_for(option: int) -> Callable[[PollRecord, frozenset[int]], frozenset[int]]:
    def decide(poll: PollRecord, current: frozenset[int]) -> frozenset[int]:
        return apply_vote(current, option, poll.max_choices)

    return decide


async def repository_votes(
    path: Path | DatabaseTarget, voters: int, *, debate: bool = False
) -> tuple[float, str]:
    """Votes per second through the repository, and the loop's stall meanwhile (watched only
    here: the plain variants block the loop on purpose)."""
    db, poll_id = await fresh(path, debate=debate)
    watch = LoopWatch()
    repo = PollRepository(db)
    members = iter(range(MEMBER0, MEMBER0 + REPO_VOTES))
    now = datetime.now(UTC)

    async def voter() -> None:
        for member in members:  # shared iterator: each member votes once
            await repo.vote(poll_id, member, decide_for(member % 4), now=now)

    watch.start()
    started = time.perf_counter()
    await asyncio.gather(*(voter() for _ in range(voters)))
    elapsed = time.perf_counter() - started
    await watch.stop()
    stall = watch.describe()
    stored = await db.fetch_value("SELECT count(*) FROM votes WHERE poll_id = ?", (poll_id,))
    await db.close()
    assert stored == REPO_VOTES, stored
    return REPO_VOTES / elapsed, stall


def plain_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        "journal_mode = WAL",
        "foreign_keys = ON",
        "busy_timeout = 5000",
        "synchronous = NORMAL",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def plain_votes(path: Path, poll_id: int, mode: str, count: int) -> float:
    conn = plain_connection(path)
    now = time.time()
    insert = "INSERT INTO votes (poll_id, member_id, option, voted_at) VALUES (?, ?, ?, ?)"
    started = time.perf_counter()
    if mode == "batched":
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(insert, ((poll_id, MEMBER0 + n, n % 4, now) for n in range(count)))
        conn.execute("COMMIT")
    elif mode == "insert":
        for n in range(count):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(insert, (poll_id, MEMBER0 + n, n % 4, now))
            conn.execute("COMMIT")
    else:  # the repository's statements
        for n in range(count):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("SELECT * FROM polls WHERE id = ?", (poll_id,)).fetchone()
            conn.execute(
                "SELECT option FROM votes WHERE poll_id = ? AND member_id = ?",
                (poll_id, MEMBER0 + n),
            ).fetchall()
            conn.execute(insert, (poll_id, MEMBER0 + n, n % 4, now))
            conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    stored = conn.execute("SELECT count(*) FROM votes WHERE poll_id = ?", (poll_id,)).fetchone()
    conn.close()
    assert stored[0] == count, stored
    return count / elapsed


async def plain(path: Path, mode: str, count: int) -> float:
    """Votes per second of a plain ``sqlite3`` variant on a fresh file."""
    db, poll_id = await fresh(path)
    await db.close()
    return plain_votes(path, poll_id, mode, count)


async def main() -> None:
    rows: list[tuple[str, int, float, str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        files = (base / f"{n}.db" for n in range(1_000))
        warm, _ = await fresh(next(files))
        await warm.close()
        variants = [(f"PollRepository.vote, {v} at once", v, False) for v in VOTERS]
        variants.append((f"debate stance vote, {CONCURRENT} at once", CONCURRENT, True))
        for label, voters, debate in variants:
            # The ceiling right before and right after: a change of load on a shared
            # machine weighs on the variant and on its reference alike.
            before = await plain(next(files), "insert", CEILING_VOTES)
            rate, stall = await repository_votes(next(files), voters, debate=debate)
            after = await plain(next(files), "insert", CEILING_VOTES)
            rows.append((label, REPO_VOTES, rate, stall, (before + after) / 2))
        for mode, label, count in (
            ("statements", "plain sqlite3, the repository's SQL, 1 txn/vote", PLAIN_VOTES),
            ("insert", "plain sqlite3 INSERT, 1 txn/vote (ceiling)", PLAIN_VOTES),
            ("batched", "plain sqlite3 INSERT, one txn for all", BATCH_VOTES),
        ):
            rows.append((label, count, await plain(next(files), mode, count), "", 0.0))
    print(f"SQLite {sqlite3.sqlite_version}, WAL, synchronous=NORMAL, a fresh file per variant")
    print(
        f"{'variant':<50} {'votes':>7} {'votes/s':>9} {'loop stall':>22} "
        f"{'ceiling/s':>10} {'ratio':>7}"
    )
    for label, count, rate, stall, ceiling in rows:
        ratio = f"{rate / ceiling:>6.3f}x" if ceiling else ""
        reference = f"{ceiling:>10,.0f}" if ceiling else ""
        print(f"{label:<50} {count:>7,} {rate:>9,.0f} {stall:>22} {reference:>10} {ratio:>7}")
    statements, ceiling, batched = (row[2] for row in rows[-3:])
    print(
        "ceiling/s: plain INSERT with a transaction per vote, measured right before and after the "
        f"variant (mean); plain repository SQL / plain INSERT: {statements / ceiling:.2f}x; "
        f"batched / per txn: {batched / ceiling:.1f}x"
    )
    ratios = [row[2] / row[4] for row in rows[: len(VOTERS)]]
    results.record(
        storage_ratio_single=round(ratios[0], 3), storage_ratio_concurrent=round(ratios[-1], 3)
    )


if __name__ == "__main__":
    asyncio.run(main())
