"""The batch writer (group commit) on a real database of each engine: one transaction per
batch, a write refused alone, no acknowledgement before the commit, a clean shutdown."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from typing import Any, ClassVar

import asyncpg
import pytest

from bot.database import Database
from bot.database_target import DatabaseTarget
from bot.writer import (
    BatchWriter,
    Outcome,
    SyncTransaction,
    Write,
    WriterClosed,
    start_with_task,
)


@pytest.fixture
async def db(database_target: DatabaseTarget):
    database = await Database.open(database_target)
    await database.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    try:
        yield database
    finally:
        await database.close()


def insert(key: int, value: str = "x") -> Write[int]:
    def write(tx: SyncTransaction) -> int:
        row = tx.fetch_one("INSERT INTO t (k, v) VALUES (?, ?) RETURNING k", (key, value))
        assert row is not None
        return int(row[0])

    return write


async def stored(target: DatabaseTarget) -> dict[int, str]:
    """What another connection reads: only committed rows."""
    other = await Database.open(target)
    try:
        return {int(r[0]): str(r[1]) for r in await other.fetch_all("SELECT k, v FROM t")}
    finally:
        await other.close()


class Refused(Exception):
    pass


async def test_writes_waiting_together_commit_in_one_batch_and_a_refusal_stays_alone(
    db: Database,
) -> None:
    def refused(tx: SyncTransaction) -> int:
        tx.execute("INSERT INTO t (k, v) VALUES (?, ?)", (99, "half-done"))
        raise Refused("no")

    batches = db.writer.batches
    writes = [db.write(insert(k)) for k in range(10)]
    writes.insert(5, db.write(refused))
    outcomes = await asyncio.gather(*writes, return_exceptions=True)

    assert db.writer.batches == batches + 1  # one transaction, one commit for all eleven
    assert isinstance(outcomes[5], Refused)
    assert [o for n, o in enumerate(outcomes) if n != 5] == list(range(10))  # row ids
    # The refused write's own statement was rolled back with it (its savepoint); the rest stored.
    assert await stored(db.target) == {k: "x" for k in range(10)}


async def test_a_write_alone_in_its_batch_is_rolled_back_whole_when_refused(db: Database) -> None:
    def refused(tx: SyncTransaction) -> int:
        tx.execute("INSERT INTO t (k, v) VALUES (?, ?)", (7, "half-done"))
        raise Refused("no")

    with pytest.raises(Refused):
        await db.write(refused)
    assert await stored(db.target) == {}
    assert await db.write(insert(8)) == 8  # the next transaction starts clean
    assert await stored(db.target) == {8: "x"}


async def test_a_database_error_in_one_write_refuses_only_that_write(db: Database) -> None:
    await db.write(insert(1, "first"))
    results = await asyncio.gather(
        db.write(insert(2)), db.write(insert(1, "duplicate")), db.write(insert(3)),
        return_exceptions=True,
    )  # fmt: skip
    assert isinstance(results[1], sqlite3.IntegrityError | asyncpg.UniqueViolationError)
    assert await stored(db.target) == {1: "first", 2: "x", 3: "x"}
    # The writer goes on after a failed write.
    assert await db.write(insert(4)) == 4
    assert 4 in await stored(db.target)


async def test_acknowledged_only_after_the_commit(db: Database) -> None:
    seen: list[dict[int, str]] = []

    async def acknowledged(key: int) -> None:
        await db.write(insert(key))
        seen.append(await stored(db.target))  # read by another connection at the acknowledgement

    await asyncio.gather(*(acknowledged(k) for k in range(20)))
    assert all(k in snapshot for k, snapshot in enumerate(seen))
    assert await stored(db.target) == {k: "x" for k in range(20)}


async def test_a_failed_commit_fails_every_write_of_the_batch_and_the_writer_goes_on() -> None:
    calls: list[int] = []

    async def run_batch(writes: Sequence[Write[Any]]) -> list[Outcome[Any]]:
        calls.append(len(writes))
        if len(calls) == 1:
            raise sqlite3.OperationalError("disk I/O error")
        return [Outcome(value=n) for n in range(len(writes))]

    def nothing(tx: SyncTransaction) -> int:
        return 0

    writer = BatchWriter(start_with_task(run_batch))
    first = await asyncio.gather(*(writer.write(nothing) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, sqlite3.OperationalError) for r in first)
    assert await writer.write(nothing) == 0
    assert calls == [3, 1]
    await writer.aclose()


async def test_close_commits_what_was_submitted_and_refuses_the_rest(
    database_target: DatabaseTarget,
) -> None:
    db = await Database.open(database_target)
    await db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    pending = [asyncio.ensure_future(db.write(insert(k))) for k in range(30)]
    await asyncio.sleep(0)  # every write is submitted; the writer has not run yet
    await db.close()
    # Every write submitted before the close was committed and acknowledged: none is lost.
    assert all(task.done() for task in pending)
    assert [task.result() for task in pending] == list(range(30))
    assert await stored(database_target) == {k: "x" for k in range(30)}
    with pytest.raises(WriterClosed):
        await db.write(insert(31))


async def test_a_caller_cancelled_before_its_batch_writes_nothing(db: Database) -> None:
    cancelled = asyncio.ensure_future(db.write(insert(1)))
    kept = asyncio.ensure_future(db.write(insert(2)))
    await asyncio.sleep(0)
    cancelled.cancel()
    assert await kept == 2
    assert await stored(db.target) == {2: "x"}


async def test_after_lone_writes_a_burst_still_shares_one_commit(db: Database) -> None:
    for key in range(3):  # one writer at a time: each its own batch, no turn waited
        assert await db.write(insert(key)) == key
    batches = db.writer.batches
    assert await asyncio.gather(*(db.write(insert(k)) for k in range(10, 20))) == list(
        range(10, 20)
    )
    assert db.writer.batches == batches + 1
    assert await stored(db.target) == {k: "x" for k in [0, 1, 2, *range(10, 20)]}


class Insert:
    """A write that can also run with its neighbours (``together``): one multi-row INSERT."""

    groups: ClassVar[list[int]] = []  # the size of each group run together

    def __init__(self, key: int) -> None:
        self.key = key

    def __call__(self, tx: SyncTransaction) -> int:
        return insert(self.key)(tx)

    @staticmethod
    def together(tx: SyncTransaction, writes: Sequence[Insert]) -> list[Outcome[Any]]:
        Insert.groups.append(len(writes))
        tx.execute(
            "INSERT INTO t (k, v) VALUES " + ", ".join(["(?, 'x')"] * len(writes)),  # noqa: S608
            [write.key for write in writes],
        )
        return [Outcome(value=write.key) for write in writes]


async def test_writes_of_one_kind_run_together_and_one_by_one_when_that_fails(
    db: Database,
) -> None:
    await db.write(insert(3))
    Insert.groups.clear()
    # Together: one statement for the five (no key taken yet).
    assert await asyncio.gather(*(db.write(Insert(k)) for k in range(10, 15))) == list(
        range(10, 15)
    )
    # Key 3 is taken: the multi-row INSERT fails whole and is rolled back; run one by one,
    # only the write of key 3 is refused.
    outcomes = await asyncio.gather(
        *(db.write(Insert(k)) for k in (1, 2, 3, 4)), return_exceptions=True
    )
    assert Insert.groups == [5, 4]
    assert outcomes[:2] == [1, 2] and outcomes[3] == 4
    assert isinstance(outcomes[2], sqlite3.IntegrityError | asyncpg.UniqueViolationError)
    assert await stored(db.target) == {k: "x" for k in [1, 2, 3, 4, *range(10, 15)]}


async def test_a_batch_waits_for_a_transaction_already_open(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO t (k, v) VALUES (1, 'tx')")
        write = asyncio.ensure_future(db.write(insert(2)))
        await asyncio.sleep(0.05)
        assert not write.done()  # not joined into the open transaction: after it
        await tx.execute("INSERT INTO t (k, v) VALUES (3, 'tx')")
    assert await write == 2
    assert await stored(db.target) == {1: "tx", 2: "x", 3: "tx"}
