"""Group commit: many small writes from many tasks, one transaction and one commit per batch.

A vote used to be its own transaction of about five statements, each a separate hop to the
database thread, serialised by the write lock: 50 members clicking at once queued behind each
other. A :class:`BatchWriter` instead takes every write that is waiting, hands the whole batch
to the engine in ONE call (for SQLite: one synchronous function queued on the connection's own
thread, see :meth:`bot.database_sqlite.SqliteDatabase.start_batch`), where it runs in one
transaction with one commit, and only then resolves each caller's future:

- a write is a synchronous function of a :class:`SyncTransaction` (its SQL stays in the
  repository that submits it); it may read, decide, refuse (raise) and write;
- each write runs inside its own savepoint: one that raises is rolled back alone and its caller
  gets the exception, the others in the batch still commit; neighbouring writes of one kind
  that can run together (a vote's :data:`Together`) run in one savepoint, in fewer
  statements, and one by one if that fails;
- no caller hears back before the commit (a member is told "your vote counts" only once it is
  durable); if the commit fails, every caller of the batch gets that error;
- while one batch is on the engine's side, the next one gathers and goes as soon as the first
  is over; an idle writer takes its batch at the next turn of the event loop, so the clicks of
  a burst already being handled in this turn share a commit;
- the writer has no task of its own. In a loop saturated by a crowd every turn costs
  milliseconds, so the path from a click to its acknowledgement holds as few as it can: the
  write schedules the batch (one turn), the engine hands the outcomes back on the loop (for
  SQLite the connection's thread calls the writer directly: one turn), the caller resumes
  (one turn).

The writer itself knows no engine: it is given ``start_batch`` (see :data:`StartBatch`). An
engine implements "run these writes in one transaction, each in a savepoint, commit once, then
hand back the outcomes" and nothing else; the SQLite one lives in :mod:`bot.database_sqlite`,
the PostgreSQL one (a coroutine, :func:`start_with_task`) in :mod:`bot.database_pg`.
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


#: The engine's part, as a coroutine: run these writes in one transaction (each in its own
#: savepoint, an exception rolls back that write only), commit once, and return one outcome per
#: write in order. An exception raised by ``run_batch`` itself (the commit failed) fails every
#: write.
RunBatch = Callable[[Sequence[Write[Any]]], Awaitable[list[Outcome[Any]]]]

#: What the engine hands back once a batch is over: its outcomes, or the exception that failed
#: the whole batch. Called on the event loop's thread.
Done = Callable[[list[Outcome[Any]] | BaseException], None]

#: The engine's part as the writer calls it: *start* the batch (as :data:`RunBatch` does it)
#: and return at once; call ``done`` on the loop's thread when it is over. SQLite starts it by
#: queueing one function on its connection's thread, which hands the outcomes straight back
#: (no task in between); an engine with a coroutine wraps it with :func:`start_with_task`.
StartBatch = Callable[[Sequence[Write[Any]], Done], None]


def start_with_task(run_batch: RunBatch) -> StartBatch:
    """A :data:`StartBatch` that runs the coroutine ``run_batch`` in a task of its own."""
    running: set[asyncio.Future[list[Outcome[Any]]]] = set()  # held until done

    def start(writes: Sequence[Write[Any]], done: Done) -> None:
        task = asyncio.ensure_future(run_batch(writes))
        running.add(task)

        def finished(task: asyncio.Future[list[Outcome[Any]]]) -> None:
            running.discard(task)
            if task.cancelled():
                done(asyncio.CancelledError())
            else:
                error = task.exception()
                done(task.result() if error is None else error)

        task.add_done_callback(finished)

    return start


#: What a write may carry to run together with the writes of its kind waiting next to it, in
#: fewer statements: ``write.together(tx, writes)`` returns one outcome per write, the same as
#: running each alone in turn (a refusal is an outcome with its error); it raises when a
#: statement fails, and the writer then runs those writes one by one.
Together = Callable[[SyncTransaction, Sequence[Any]], list[Outcome[Any]]]


def run_writes(
    tx: SyncTransaction, writes: Sequence[Write[Any]]
) -> tuple[list[Outcome[Any]], bool]:
    """The engines' common part of a batch, inside its open transaction: each write in its own
    savepoint, a write that raises rolled back alone; neighbouring writes of one kind that
    can run together (:data:`Together`) in one savepoint. Returns the outcomes and whether to
    commit (a refused write alone in its batch needs no savepoint: its transaction is rolled
    back instead)."""
    if len(writes) == 1:
        try:
            return [Outcome(value=writes[0](tx))], True
        except Exception as exc:
            return [Outcome(error=exc)], False
    outcomes: list[Outcome[Any]] = []
    start = 0
    while start < len(writes):
        together: Together | None = getattr(writes[start], "together", None)
        end = start + 1
        while together is not None and end < len(writes):
            if getattr(writes[end], "together", None) is not together:
                break
            end += 1
        if together is not None and end - start > 1:
            group = _run_together(tx, together, writes[start:end])
            if group is not None:
                outcomes.extend(group)
                start = end
                continue
        outcomes.extend(_run_alone(tx, write) for write in writes[start:end])
        start = end
    return outcomes, True


def _run_together(
    tx: SyncTransaction, together: Together, writes: Sequence[Write[Any]]
) -> list[Outcome[Any]] | None:
    tx.execute("SAVEPOINT some_writes")
    try:
        outcomes = together(tx, writes)
    except Exception as exc:
        log.info("%d writes run together failed (%s): running them one by one", len(writes), exc)
        tx.execute("ROLLBACK TO SAVEPOINT some_writes")
        tx.execute("RELEASE SAVEPOINT some_writes")
        return None
    tx.execute("RELEASE SAVEPOINT some_writes")
    return outcomes


def _run_alone(tx: SyncTransaction, write: Write[Any]) -> Outcome[Any]:
    tx.execute("SAVEPOINT one_write")
    try:
        value = write(tx)
    except Exception as exc:
        tx.execute("ROLLBACK TO SAVEPOINT one_write")
        tx.execute("RELEASE SAVEPOINT one_write")
        return Outcome(error=exc)
    tx.execute("RELEASE SAVEPOINT one_write")
    return Outcome(value=value)


class WriterClosed(Exception):
    """The writer is closed (the bot is shutting down): this write was not run."""


class BatchWriter:
    """Collects writes from any task and commits them in batches (see the module's doc).

    No task of its own: a write starts a batch (at once, or after one turn of the loop), and
    the engine's ``done`` resolves the callers' futures and starts the next batch, so a vote
    waits for no more turns of a busy loop than the commit itself needs."""

    def __init__(self, start_batch: StartBatch, *, max_batch: int = 256) -> None:
        self._start_batch = start_batch
        self._max_batch = max_batch
        self._pending: deque[tuple[Write[Any], asyncio.Future[Any]]] = deque()
        #: The batch on the engine's side (at most one at a time), and whether a batch is
        #: due at the next turn of the loop.
        self._in_flight: list[tuple[Write[Any], asyncio.Future[Any]]] | None = None
        self._gathering = False
        self._closed = False
        self._drained: asyncio.Event | None = None  # what aclose() waits on
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
        self._schedule(loop)
        return await future

    async def aclose(self) -> None:
        """Refuse new writes, and commit (and acknowledge) every write already submitted."""
        self._closed = True
        if self._in_flight is None and not self._gathering and not self._pending:
            return
        self._drained = self._drained or asyncio.Event()
        await self._drained.wait()

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._in_flight is not None or self._gathering:
            return  # the batch after the one on the engine's side takes it, or the due one
        # At the next turn of the loop: the tasks already due in this one (a burst of clicks
        # comes as a series of gateway events handled together) submit into this batch.
        self._gathering = True
        loop.call_soon(self._start)

    def _take(self) -> list[tuple[Write[Any], asyncio.Future[Any]]]:
        batch: list[tuple[Write[Any], asyncio.Future[Any]]] = []
        while self._pending and len(batch) < self._max_batch:
            write, future = self._pending.popleft()
            if not future.done():  # a caller cancelled before its write ran: skip it
                batch.append((write, future))
        return batch

    def _start(self) -> None:
        self._gathering = False
        batch = self._take()
        if not batch:
            self._check_drained()
            return
        self._in_flight = batch
        try:
            self._start_batch([write for write, _ in batch], self._done)
        except Exception as exc:  # it could not even start (the connection is closed)
            self._done(exc)

    def _done(self, result: list[Outcome[Any]] | BaseException) -> None:
        batch, self._in_flight = self._in_flight or [], None
        if isinstance(result, BaseException):  # the batch failed whole: nothing of it stored
            if not isinstance(result, asyncio.CancelledError):
                log.warning("a batch of %d writes failed: %s", len(batch), result)
            outcomes: list[Outcome[Any]] = [Outcome(error=result)] * len(batch)
        else:
            outcomes = result
            self.batches += 1
            self.writes += sum(outcome.error is None for outcome in outcomes)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome.error, asyncio.CancelledError):
                future.cancel()
            elif outcome.error is not None:
                future.set_exception(outcome.error)
            else:
                future.set_result(outcome.value)
        if self._pending:  # they came during this commit: they waited long enough
            self._start()
        else:
            self._check_drained()

    def _check_drained(self) -> None:
        if self._drained is not None and self._in_flight is None and not self._pending:
            self._drained.set()
