"""The SQLite engine: one file, one aiosqlite connection, numbered migrations.

Writes are serialised through one lock so that a transaction never swallows another task's
statement. Small writes on hot paths (votes) go through the batch writer (`Database.write`,
:mod:`bot.writer`): every write waiting is run in one transaction, in one hop to the
connection's thread, and committed once. Reads run freely on the same connection: they see the
bot's own writes at once, including those of a transaction still open in another task (a
rollback is rare: it follows an error). Heavy analytics reads use their own read-only
connections (:meth:`SqliteDatabase.fetch_all_aside`).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite

from bot.database import (
    Database,
    DatabaseError,
    ForeignKey,
    Migration,
    Reader,
    Transaction,
    bundled_migrations,
)
from bot.database_target import SqliteTarget
from bot.writer import BatchWriter, Done, Outcome, Params, Row, Write, run_writes

log = logging.getLogger(__name__)


class SqliteReader(Reader):
    """Reads on the connection: shared by the database and an open transaction."""

    _conn: aiosqlite.Connection

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        async with self._conn.execute(sql, params) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
            return row

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def tables(self) -> list[str]:
        rows = await self.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
        return [str(r[0]) for r in rows]

    async def tables_with_column(self, column: str) -> list[str]:
        rows = await self.fetch_all(
            "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' "
            "AND m.name NOT LIKE 'sqlite_%' AND EXISTS "
            "(SELECT 1 FROM pragma_table_info(m.name) p WHERE p.name = ?) "
            "ORDER BY m.name",
            (column,),
        )
        return [str(r["name"]) for r in rows]

    async def foreign_keys(self) -> list[ForeignKey]:
        rows = await self.fetch_all(
            'SELECT m.name AS child, f."from" AS col, f."table" AS parent, '
            "coalesce(f.\"to\", 'rowid') AS pcol "
            "FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
            "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name"
        )
        return [
            ForeignKey(str(r["child"]), str(r["col"]), str(r["parent"]), str(r["pcol"]))
            for r in rows
        ]


class SqliteTransaction(SqliteReader, Transaction):
    """The statements of one open transaction (see `SqliteDatabase.transaction`)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> None:
        cursor = await self._conn.execute(sql, params)
        await cursor.close()

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        cursor = await self._conn.execute(sql, params)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)

    async def defer_foreign_keys(self) -> None:
        await self.execute("PRAGMA defer_foreign_keys = ON")


class SqliteBatch:
    """A batch's statements on the raw `sqlite3` connection, on its own thread
    (:class:`bot.writer.SyncTransaction` for SQLite)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Params = ()) -> None:
        self._conn.execute(sql, params)

    def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self._conn.executemany(sql, rows)

    def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
        return row

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()


def run_batch_on_thread(
    conn: sqlite3.Connection, writes: Sequence[Write[Any]]
) -> list[Outcome[Any]]:
    """One transaction for the whole batch, a savepoint for each write, one commit.

    Runs on the connection's thread. A write that raises is rolled back to its savepoint
    alone; a failure of SQLite itself (the savepoint or the commit) rolls back everything and
    propagates, so every caller of the batch hears it and none is told it was stored.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        outcomes, commit = run_writes(SqliteBatch(conn), writes)
        conn.execute("COMMIT" if commit else "ROLLBACK")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    return outcomes


class _Handback:
    """Stands in for the future aiosqlite's thread resolves when a function it ran is over:
    the thread calls ``get_loop().call_soon_threadsafe(set_result, it, outcome)`` (or
    ``set_exception``), which here calls the batch writer's ``done`` directly on the loop: one
    turn of the loop from the commit to the callers, no task woken in between."""

    __slots__ = ("_done", "_loop", "_over")

    def __init__(self, done: Done) -> None:
        self._done = done
        self._loop = asyncio.get_running_loop()
        self._over = False

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def done(self) -> bool:
        return self._over

    def set_result(self, outcomes: list[Outcome[Any]]) -> None:
        self._over = True
        self._done(outcomes)

    def set_exception(self, error: BaseException) -> None:
        self._over = True
        self._done(error)


class SqliteDatabase(SqliteReader, Database):
    """Agora's database in one SQLite file."""

    engine = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path: Path = path
        self.target = SqliteTarget(path)
        self._write_lock = asyncio.Lock()
        self.writer = BatchWriter(self.start_batch)
        self._waiting_batches: set[asyncio.Task[None]] = set()

    @staticmethod
    async def open(target: Any) -> SqliteDatabase:
        """Open (creating the file and its folder) with WAL, foreign keys and a busy timeout."""
        path = Path(target)
        conn: aiosqlite.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = await _connect(path)
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA busy_timeout = 5000")
            # NORMAL in WAL mode survives a crash of the process (kill -9); only an OS crash
            # or power loss may lose the last commits.
            await conn.execute("PRAGMA synchronous = NORMAL")
        except (OSError, sqlite3.Error) as exc:
            if conn is not None:
                await conn.close()
            raise DatabaseError(
                f"cannot open {path} ({exc}): set AGORA_DATABASE to a writable SQLite file path, "
                "e.g. data/agora.db"
            ) from None
        return SqliteDatabase(conn, path)

    async def close(self) -> None:
        await self.writer.aclose()
        async with self._write_lock:
            await self._conn.close()

    # -- schema ---------------------------------------------------------------------------

    async def schema_version(self) -> int:
        return int(await self.fetch_value("PRAGMA user_version") or 0)

    async def migrate(self, migrations: list[Migration] | None = None) -> list[str]:
        """Each migration runs in its own transaction together with its `user_version` bump, so
        a failure leaves the database exactly as it was before that migration."""
        migrations = bundled_migrations(self.engine) if migrations is None else migrations
        latest = migrations[-1].version if migrations else 0
        applied: list[str] = []
        async with self._write_lock:
            current = await self.schema_version()
            self.refuse_newer(current, latest)
            for migration in migrations:
                if migration.version <= current:
                    continue
                # executescript() commits any open transaction first, so the BEGIN, the
                # version bump and the COMMIT all live inside the one script.
                script = (
                    "BEGIN IMMEDIATE;\n"
                    f"{migration.sql}\n;\n"
                    f"PRAGMA user_version = {int(migration.version)};\n"
                    "COMMIT;"
                )
                try:
                    await self._conn.executescript(script)
                except sqlite3.Error as exc:
                    if self._conn.in_transaction:
                        await self._conn.rollback()
                    raise DatabaseError(
                        f"migration {migration.name} failed and was rolled back: {exc}"
                    ) from exc
                log.info("applied migration %s", migration.name)
                applied.append(migration.name)
        return applied

    # -- writes ---------------------------------------------------------------------------

    def start_batch(self, writes: Sequence[Write[Any]], done: Done) -> None:
        """The whole batch in one hop to the connection's thread, which hands the outcomes
        straight back to ``done`` on the loop (see :class:`_Handback`).

        Queued at once unless a transaction is open: the connection's thread runs what it is
        given in order, so a batch queued while no transaction holds the write lock runs whole
        before the statements of any transaction begun after it. While one is open, the batch
        waits for the lock (a task, the rare path)."""
        if self._write_lock.locked():
            task = asyncio.get_running_loop().create_task(self._after_lock(writes, done))
            self._waiting_batches.add(task)
            task.add_done_callback(self._waiting_batches.discard)
            return
        self._queue_batch(writes, done)

    def _queue_batch(self, writes: Sequence[Write[Any]], done: Done) -> None:
        conn = self._conn
        raw = conn._conn  # raises ValueError once closed: the writer fails the batch
        # aiosqlite's own queue (what its ``_execute`` does), with a stand-in for its future.
        queue: Any = conn._tx
        queue.put_nowait((_Handback(done), partial(run_batch_on_thread, raw, writes)))

    async def _after_lock(self, writes: Sequence[Write[Any]], done: Done) -> None:
        over = asyncio.get_running_loop().create_future()

        def relay(result: list[Outcome[Any]] | BaseException) -> None:
            done(result)
            over.set_result(None)

        queued = False
        try:
            async with self._write_lock:
                self._queue_batch(writes, relay)
                queued = True
                await asyncio.shield(over)  # the lock is held until the batch is over
        except BaseException as exc:
            if not queued:  # never reached the thread: its writes fail here
                done(exc)
            if not isinstance(exc, Exception):
                raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._write_lock:
            try:
                # Inside the try: a task cancelled while its BEGIN is on the connection's
                # thread still has that BEGIN run there, and must not leave it open behind it.
                await self._conn.execute("BEGIN IMMEDIATE")
                yield SqliteTransaction(self._conn)
            except BaseException:
                with suppress(sqlite3.OperationalError):  # the BEGIN itself failed
                    await self._conn.rollback()
                raise
            else:
                await self._conn.commit()

    async def fetch_all_aside(self, sql: str, params: Params = ()) -> list[Row]:
        """On a short-lived read-only connection in a worker thread (WAL lets the read
        proceed while the bot writes)."""
        return await asyncio.to_thread(_read_aside, self.path, sql, params)

    # -- operations -----------------------------------------------------------------------

    async def backup(self, target: Path | str) -> None:
        """Copy the live database to `target` with SQLite's online backup (safe while writing).

        A separate read connection in a worker thread copies every page in one step, inside
        one read snapshot (WAL), so the bot keeps writing meanwhile and the copy is consistent.
        """
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(copy_file, self.path, target)

    async def size_bytes(self) -> int:
        """The database's size on disk, WAL included."""
        return await asyncio.to_thread(_file_sizes, self.path)


def _file_sizes(path: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            total += candidate.stat().st_size
    return total


def _read_aside(path: Path, sql: str, params: Params) -> list[Row]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


async def _connect(path: Path) -> aiosqlite.Connection:
    """`aiosqlite.connect`, but a failed connect ends its worker thread before returning.

    On a failed connect aiosqlite only queues the stop of its worker thread; the thread then
    answers on the event loop, and if `asyncio.run` has closed the loop meanwhile (the process
    exits with a one-line error), the thread prints a traceback. Wait for it here instead.
    """
    conn = aiosqlite.connect(path, isolation_level=None)
    try:
        return await conn
    except BaseException:
        worker = conn if isinstance(conn, threading.Thread) else getattr(conn, "_thread", None)
        if isinstance(worker, threading.Thread) and worker.is_alive():
            await asyncio.to_thread(worker.join)
        raise


def copy_file(source: Path | str, target: Path) -> None:
    """Copy a database with SQLite's backup API (``source`` may be a ``file:`` URI)."""
    src = sqlite3.connect(source, uri=isinstance(source, str))
    dest = sqlite3.connect(target)
    try:
        with dest:
            src.backup(dest)
    finally:
        dest.close()
        src.close()
