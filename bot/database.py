"""The SQLite database: one file, one aiosqlite connection, numbered migrations.

Writes are serialised through one lock so that a transaction never swallows another task's
statement. Small writes on hot paths (votes) go through the batch writer (`Database.write`,
:mod:`bot.writer`): every write waiting is run in one transaction, in one hop to the
connection's thread, and committed once. Reads run freely on the same connection: they see the
bot's own writes at once, including those of a transaction still open in another task (a
rollback is rare: it follows an error). Heavy analytics reads use their own read-only connections (see the stances repository).
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.database_dialect import SQLITE, Dialect
from bot.database_target import DatabaseTarget, SqliteTarget
from bot.writer import BatchWriter, Outcome, Params, Write

log = logging.getLogger(__name__)

T = TypeVar("T")

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class DatabaseError(Exception):
    """The database cannot be used (newer schema, failed migration); the message says why."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The `.sql` files shipped in `bot/migrations`, in order of their unique numbers."""
    found: list[Migration] = []
    for entry in resources.files("bot.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for previous, migration in zip(found, found[1:], strict=False):
        if migration.version == previous.version:
            raise DatabaseError(f"migrations {previous.name} and {migration.name} share a number")
    return found


class Reader:
    """Reads on the connection: shared by the database and an open transaction."""

    _conn: aiosqlite.Connection

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
            return row

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]


class Transaction(Reader):
    """The statements of one open transaction (see `Database.transaction`)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the last row id (for inserts)."""
        cursor = await self._conn.execute(sql, params)
        rowid = cursor.lastrowid or 0
        await cursor.close()
        return rowid

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        cursor = await self._conn.execute(sql, params)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)


class SqliteBatch:
    """A batch's statements on the raw `sqlite3` connection, on its own thread
    (:class:`bot.writer.SyncTransaction` for SQLite)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Params = ()) -> int:
        return self._conn.execute(sql, params).lastrowid or 0

    def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self._conn.executemany(sql, rows)

    def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
        return row

    def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return self._conn.execute(sql, params).fetchall()


def run_batch_on_thread(
    conn: sqlite3.Connection, writes: Sequence[Write[Any]]
) -> list[Outcome[Any]]:
    """One transaction for the whole batch, a savepoint for each write, one commit.

    Runs on the connection's thread. A write that raises is rolled back to its savepoint
    alone; a failure of SQLite itself (the savepoint or the commit) rolls back everything and
    propagates, so every caller of the batch hears it and none is told it was stored.
    """
    batch = SqliteBatch(conn)
    outcomes: list[Outcome[Any]] = []
    # A write alone in its batch needs no savepoint: the transaction is its own.
    alone = len(writes) == 1
    conn.execute("BEGIN IMMEDIATE")
    try:
        for write in writes:
            if not alone:
                conn.execute("SAVEPOINT one_write")
            try:
                value = write(batch)
            except Exception as exc:
                conn.execute("ROLLBACK" if alone else "ROLLBACK TO one_write")
                if not alone:
                    conn.execute("RELEASE one_write")
                outcomes.append(Outcome(error=exc))
            else:
                if not alone:
                    conn.execute("RELEASE one_write")
                outcomes.append(Outcome(value=value))
        if conn.in_transaction:
            conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    return outcomes


class Database(Reader):
    """Agora's database. Open with `Database.open(path)`; close with `close()`."""

    #: The engine's SQL differences the repositories ask for (see bot.database_dialect).
    dialect: Dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()
        self.writer = BatchWriter(self.run_batch)

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Open (creating the file and its folder) with WAL, foreign keys and a busy timeout."""
        path = Path(path)
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
        return cls(conn, path)

    async def close(self) -> None:
        """Commit and acknowledge every batched write already submitted, refuse new ones
        (:class:`bot.writer.WriterClosed`), then close the connection."""
        await self.writer.aclose()
        async with self._write_lock:
            await self._conn.close()

    # -- schema ---------------------------------------------------------------------------

    async def schema_version(self) -> int:
        return int(await self.fetch_value("PRAGMA user_version") or 0)

    async def migrate(self, migrations: list[Migration] | None = None) -> list[str]:
        """Apply the migrations the database lacks; returns their names.

        Each migration runs in its own transaction together with its `user_version` bump, so
        a failure leaves the database exactly as it was before that migration. A database
        written by a newer Agora is refused.
        """
        migrations = bundled_migrations() if migrations is None else migrations
        latest = migrations[-1].version if migrations else 0
        applied: list[str] = []
        async with self._write_lock:
            current = await self.schema_version()
            if current > latest:
                raise DatabaseError(
                    f"{self.path} has schema version {current}, but this Agora knows only up to "
                    f"{latest}: upgrade Agora, or restore a backup made by this version"
                )
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

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write statement through the batch writer (committed together with the
        other small writes waiting, in its own savepoint); returns the last row id once
        committed."""
        return await self.write(lambda tx: tx.execute(sql, params))

    async def write(self, write: Write[T]) -> T:
        """Run ``write`` (a synchronous function of the transaction) in the writer's next
        batch; returns its value after the batch committed (see :mod:`bot.writer`)."""
        return await self.writer.write(write)

    async def run_batch(self, writes: Sequence[Write[Any]]) -> list[Outcome[Any]]:
        """The engine's part of the batch writer: the whole batch in one hop to the
        connection's thread, under the write lock (no open transaction is joined)."""
        async with self._write_lock:
            conn = self._conn
            outcomes: list[Outcome[Any]] = await conn._execute(
                lambda: run_batch_on_thread(conn._conn, writes)
            )
            return outcomes

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """`async with db.transaction() as tx:` — commit on success, roll back on any error."""
        async with self._write_lock:
            try:
                # Inside the try: a task cancelled while its BEGIN is on the connection's
                # thread still has that BEGIN run there, and must not leave it open behind it.
                await self._conn.execute("BEGIN IMMEDIATE")
                yield Transaction(self._conn)
            except BaseException:
                with suppress(sqlite3.OperationalError):  # the BEGIN itself failed
                    await self._conn.rollback()
                raise
            else:
                await self._conn.commit()

    # -- operations -----------------------------------------------------------------------

    async def backup(self, target: Path | str) -> None:
        """Copy the live database to `target` with SQLite's online backup (safe while writing).

        A separate read connection in a worker thread copies every page in one step, inside
        one read snapshot (WAL), so the bot keeps writing meanwhile and the copy is consistent.
        """
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(copy_file, self.path, target)

    def size_bytes(self) -> int:
        """The database's size on disk, WAL included."""
        total = 0
        for suffix in ("", "-wal"):
            candidate = Path(f"{self.path}{suffix}")
            if candidate.exists():
                total += candidate.stat().st_size
        return total


async def open_database(target: DatabaseTarget) -> Database:
    """The database ``AGORA_DATABASE`` names (see :mod:`bot.database_target`)."""
    if isinstance(target, SqliteTarget):
        return await Database.open(target.path)
    raise DatabaseError(f"cannot open {target}: PostgreSQL is not supported by this Agora yet")


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
