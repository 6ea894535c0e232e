"""Group commit: many small writes from many tasks, one transaction and one commit per batch.

A vote used to be its own transaction of about five statements, each a separate hop to the
database thread, serialised by the write lock: 50 members clicking at once queued behind each
other. A :class:`BatchWriter` instead takes every write that is waiting, hands the whole batch
to the engine in ONE call (for SQLite: one synchronous function run on the connection's own
thread, see :meth:`bot.database_sqlite.SqliteDatabase.run_batch`), where it runs in one transaction with
one commit, and only then resolves each caller's future:

- a write is a synchronous function of a :class:`SyncTransaction` (its SQL stays in the
  repository that submits it); it may read, decide, refuse (raise) and write;
- each write runs inside its own savepoint: one that raises is rolled back alone and its caller
  gets the exception, the others in the batch still commit;
- no caller hears back before the commit (a member is told "your vote counts" only once it is
  durable); if the commit fails, every caller of the batch gets that error;
- while one batch is on the database thread, the next one gathers; an idle writer waits one
  turn of the event loop, so the clicks of a burst already being handled share a commit, and
  a single vote waits for nothing else. (Waiting more turns made batches larger, 14 votes
  instead of 4 at 50 clicks at once, but each acknowledgement later: measured worse.)

The writer itself knows no engine: it is given ``run_batch`` (see :data:`RunBatch`). An engine
implements "run these writes in one transaction, each in a savepoint, commit once" and nothing
else; the SQLite one lives in
:mod:`bot.database_sqlite`, the PostgreSQL one in :mod:`bot.database_pg`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Params = Sequence[Any] | dict[str, Any]


class Row(Protocol):
    """A row of a result: ``row[0]`` or ``row["name"]`` (``sqlite3.Row`` and asyncpg's
    ``Record`` both are one)."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def keys(self) -> Any: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...


class SyncTransaction(Protocol):
    """The statements a batched write may run: synchronous, on the engine's side, inside the
    batch's transaction and the write's own savepoint. Never await anything in a write."""

    def execute(self, sql: str, params: Params = ()) -> None:
        """Run one statement (``RETURNING id`` with :meth:`fetch_one` when an id is needed)."""
        ...

    def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        ...

    def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    def fetch_one(self, sql: str, params: Params = ()) -> Row | None: ...

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...


#: One write: a synchronous function of the open transaction; its value goes to the caller.
Write = Callable[[SyncTransaction], T]


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What one write of a batch produced: its value, or the exception that refused it."""

    value: T | None = None
    error: BaseException | None = None


#: The engine's part: run these writes in one transaction (each in its own savepoint, an
#: exception rolls back that write only), commit once, and return one outcome per write in
#: order. An exception raised by ``run_batch`` itself (the commit failed) fails every write.
RunBatch = Callable[[Sequence[Write[Any]]], Awaitable[list[Outcome[Any]]]]


def run_writes(
    tx: SyncTransaction, writes: Sequence[Write[Any]]
) -> tuple[list[Outcome[Any]], bool]:
    """The engines' common part of a batch, inside its open transaction: each write in its own
    savepoint, a write that raises rolled back alone. Returns the outcomes and whether to
    commit (a refused write alone in its batch needs no savepoint: its transaction is rolled
    back instead)."""
    outcomes: list[Outcome[Any]] = []
    alone = len(writes) == 1
    for write in writes:
        if not alone:
            tx.execute("SAVEPOINT one_write")
        try:
            value = write(tx)
        except Exception as exc:
            if alone:
                return [Outcome(error=exc)], False
            tx.execute("ROLLBACK TO SAVEPOINT one_write")
            tx.execute("RELEASE SAVEPOINT one_write")
            outcomes.append(Outcome(error=exc))
        else:
            if not alone:
                tx.execute("RELEASE SAVEPOINT one_write")
            outcomes.append(Outcome(value=value))
    return outcomes, True


class WriterClosed(Exception):
    """The writer is closed (the bot is shutting down): this write was not run."""


class BatchWriter:
    """Collects writes from any task and commits them in batches (see the module's doc)."""

    def __init__(self, run_batch: RunBatch, *, max_batch: int = 256) -> None:
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._pending: deque[tuple[Write[Any], asyncio.Future[Any]]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        #: How many batches and writes were committed (tests and benchmarks read them).
        self.batches = 0
        self.writes = 0

    @property
    def closed(self) -> bool:
        return self._closed

    async def write(self, write: Write[T]) -> T:
        """Run ``write`` in the next batch; returns its value once the batch has committed.

        Raises what ``write`` raised (nothing of it is stored), the commit's error, or
        :class:`WriterClosed` once :meth:`aclose` was called."""
        if self._closed:
            raise WriterClosed("the database is closing: nothing was written")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((write, future))
        self._wake.set()
        if self._task is None:
            self._task = loop.create_task(self._run(), name="batch-writer")
        return await future

    async def aclose(self) -> None:
        """Refuse new writes, and commit (and acknowledge) every write already submitted."""
        self._closed = True
        self._wake.set()
        if self._task is not None:
            await self._task

    def _take(self) -> list[tuple[Write[Any], asyncio.Future[Any]]]:
        batch: list[tuple[Write[Any], asyncio.Future[Any]]] = []
        while self._pending and len(batch) < self._max_batch:
            write, future = self._pending.popleft()
            if not future.done():  # a caller cancelled before its write ran: skip it
                batch.append((write, future))
        return batch

    async def _run(self) -> None:
        while True:
            if not self._pending:
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            # One turn of the loop first: the tasks already running (a burst of clicks comes
            # as a series of gateway events) submit their writes into this batch.
            await asyncio.sleep(0)
            batch = self._take()
            if batch:
                await self._commit(batch)

    async def _commit(self, batch: list[tuple[Write[Any], asyncio.Future[Any]]]) -> None:
        try:
            outcomes = await self._run_batch([write for write, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # the batch failed as a whole: nothing of it is stored
            log.warning("a batch of %d writes failed: %s", len(batch), exc)
            outcomes = [Outcome(error=exc)] * len(batch)
        else:
            self.batches += 1
            self.writes += sum(outcome.error is None for outcome in outcomes)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if outcome.error is not None:
                future.set_exception(outcome.error)
            else:
                future.set_result(outcome.value)
