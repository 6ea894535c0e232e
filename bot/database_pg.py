"""The PostgreSQL engine: a server shared by a cluster of processes, through an asyncpg pool.

The repositories' SQL is written once for both engines; what this module adds is the rest:

- placeholders: ``?`` (and SQLite's numbered ``?1``) become ``$n`` outside string literals,
  rewritten once per statement (:func:`to_postgres`, cached); asyncpg then prepares and caches
  the statement per connection;
- the schema's own tables (the purge's discovery) from ``information_schema``, the schema
  version in a one-row table ``agora_schema``, deferred foreign keys with
  ``SET CONSTRAINTS ALL DEFERRED`` (the migrations declare them ``DEFERRABLE``);
- the batch writer's contract (:mod:`bot.writer`): a write is a synchronous function, so the
  batch's writes run in a worker thread whose statements are sent to the event loop, on one
  pooled connection, inside one transaction with a savepoint per write, committed once.

Within one process, transactions and batches take turns (one write lock), as on SQLite: the
repositories' "read, decide, write" transactions rely on it. Reads outside a transaction use
any pooled connection and see what is committed. A connection the server dropped is replaced
by the pool at its next use; a statement caught by the drop fails (the command answers with
its error code) and nothing unacknowledged is counted as stored.
"""

from __future__ import annotations

import asyncio
import logging
import re
from abc import abstractmethod
from collections.abc import AsyncIterator, Iterable, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import asyncpg

from bot.database import (
    Database,
    DatabaseError,
    ForeignKey,
    Migration,
    Reader,
    Transaction,
    bundled_migrations,
)
from bot.database_target import PostgresTarget
from bot.writer import (
    BatchWriter,
    Done,
    Outcome,
    Params,
    Row,
    Write,
    run_writes,
    start_with_task,
)

log = logging.getLogger(__name__)

#: A string literal, a quoted identifier, or a placeholder (``?`` or ``?NNN``).
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?(\d*)")
#: How long opening the pool may take before the server counts as unreachable.
CONNECT_TIMEOUT = 10.0
#: Serialises `migrate` across the processes of a cluster (pg_advisory_lock's key).
_MIGRATE_LOCK = 0x61676F7261  # "agora"


@lru_cache(maxsize=4096)
def to_postgres(sql: str) -> str:
    """``sql`` with its ``?`` placeholders as ``$1, $2, …`` (``?N`` as ``$N``)."""
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        token = match.group(0)
        if not token.startswith("?"):
            return token
        if match.group(1):
            return "$" + match.group(1)
        count += 1
        return f"${count}"

    return _TOKEN.sub(replace, sql)


def _args(params: Params) -> list[Any]:
    """The parameters as asyncpg takes them. PostgreSQL's text cannot hold NUL (U+0000),
    which SQLite stores: it is dropped from text here, once for every statement (a member's
    input, a feed's title), so such text is stored rather than failing the command."""
    if isinstance(params, dict):
        raise TypeError("named parameters are not supported: use ? placeholders")
    return [p.replace("\x00", "") if isinstance(p, str) and "\x00" in p else p for p in params]


def _rowcount(status: str) -> int:
    """The rows a command changed, from its status ("UPDATE 3", "INSERT 0 1")."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PgReader(Reader):
    """Reads through ``_conn_fetch`` (a pooled connection, or the transaction's own)."""

    @abstractmethod
    async def _conn_fetch(self, sql: str, args: list[Any]) -> list[asyncpg.Record]: ...

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self._conn_fetch(to_postgres(sql), _args(params))
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._conn_fetch(to_postgres(sql), _args(params)))

    async def tables(self) -> list[str]:
        rows = await self.fetch_all(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        return [str(r[0]) for r in rows]

    async def tables_with_column(self, column: str) -> list[str]:
        rows = await self.fetch_all(
            "SELECT c.table_name FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema "
            "AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' "
            "WHERE c.table_schema = current_schema() AND c.column_name = ? "
            "ORDER BY c.table_name",
            (column,),
        )
        return [str(r[0]) for r in rows]

    async def foreign_keys(self) -> list[ForeignKey]:
        rows = await self.fetch_all(
            "SELECT child.relname, a.attname, parent.relname, pa.attname "
            "FROM pg_constraint k "
            "JOIN pg_class child ON child.oid = k.conrelid "
            "JOIN pg_class parent ON parent.oid = k.confrelid "
            "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] "
            "JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = k.confkey[1] "
            "WHERE k.contype = 'f' AND child.relnamespace = current_schema()::regnamespace "
            "ORDER BY child.relname"
        )
        return [ForeignKey(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


class PgTransaction(PgReader, Transaction):
    """The statements of one open transaction, on its connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def _conn_fetch(self, sql: str, args: list[Any]) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._conn.fetch(sql, *args)
        return rows

    async def execute(self, sql: str, params: Params = ()) -> None:
        await self._conn.execute(to_postgres(sql), *_args(params))

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        return _rowcount(await self._conn.execute(to_postgres(sql), *_args(params)))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(to_postgres(sql), [_args(row) for row in rows])

    async def defer_foreign_keys(self) -> None:
        await self._conn.execute("SET CONSTRAINTS ALL DEFERRED")


class PgBatch:
    """A batch's statements from a worker thread, each sent to the event loop and run on the
    batch's connection (:class:`bot.writer.SyncTransaction` for PostgreSQL)."""

    def __init__(self, conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop) -> None:
        self._conn = conn
        self._loop = loop

    def _wait(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result()

    def execute(self, sql: str, params: Params = ()) -> None:
        self._wait(self._conn.execute(to_postgres(sql), *_args(params)))

    def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        return _rowcount(self._wait(self._conn.execute(to_postgres(sql), *_args(params))))

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self._wait(self._conn.executemany(to_postgres(sql), [_args(row) for row in rows]))

    def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = self._wait(self._conn.fetch(to_postgres(sql), *_args(params)))
        return rows[0] if rows else None

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return list(self._wait(self._conn.fetch(to_postgres(sql), *_args(params))))


class PostgresDatabase(PgReader, Database):
    """Agora's database on a PostgreSQL server."""

    engine = "postgresql"

    def __init__(self, pool: asyncpg.Pool, target: PostgresTarget) -> None:
        self._pool = pool
        self.target = target
        self.path = None
        self._write_lock = asyncio.Lock()
        self._start_batch = start_with_task(self.run_batch)
        self.writer = BatchWriter(self.start_batch)

    @staticmethod
    async def open(target: Any) -> PostgresDatabase:
        """Open a pool of connections; one line naming ``AGORA_DATABASE`` and the fix when the
        server is unreachable, the database missing or the login refused."""
        assert isinstance(target, PostgresTarget)
        try:
            pool = await asyncpg.create_pool(
                target.url, min_size=1, max_size=10, timeout=CONNECT_TIMEOUT
            )
        except asyncpg.InvalidCatalogNameError:
            raise DatabaseError(
                f"cannot open {target}: the database {target.database!r} does not exist; create "
                f"it (createdb {target.database}) or fix the name in AGORA_DATABASE"
            ) from None
        except (
            asyncpg.InvalidAuthorizationSpecificationError,
            asyncpg.InvalidPasswordError,
        ) as exc:
            raise DatabaseError(
                f"cannot open {target}: the server refused the login ({_line(exc)}); fix the "
                "user and password in AGORA_DATABASE or the server's pg_hba.conf"
            ) from None
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DatabaseError(
                f"cannot reach the PostgreSQL server of {target} ({_line(exc)}): start it, or "
                "fix the host and port in AGORA_DATABASE"
            ) from None
        return PostgresDatabase(pool, target)

    async def close(self) -> None:
        await self.writer.aclose()
        async with self._write_lock:
            await self._pool.close()

    async def _conn_fetch(self, sql: str, args: list[Any]) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._pool.fetch(sql, *args)
        return rows

    # -- schema ---------------------------------------------------------------------------

    async def schema_version(self) -> int:
        if await self._pool.fetchval("SELECT to_regclass('agora_schema')") is None:
            return 0
        return int(await self._pool.fetchval("SELECT max(version) FROM agora_schema") or 0)

    async def migrate(self, migrations: list[Migration] | None = None) -> list[str]:
        """Each migration runs in its own transaction together with its version bump; one
        process of a cluster migrates at a time (an advisory lock)."""
        migrations = bundled_migrations(self.engine) if migrations is None else migrations
        latest = migrations[-1].version if migrations else 0
        applied: list[str] = []
        async with self._write_lock, self._pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATE_LOCK)
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS agora_schema (version INTEGER NOT NULL)"
                )
                current = int(await conn.fetchval("SELECT max(version) FROM agora_schema") or 0)
                self.refuse_newer(current, latest)
                for migration in migrations:
                    if migration.version <= current:
                        continue
                    try:
                        async with conn.transaction():
                            await conn.execute(migration.sql)
                            await conn.execute("DELETE FROM agora_schema")
                            await conn.execute(
                                "INSERT INTO agora_schema (version) VALUES ($1)",
                                migration.version,
                            )
                    except asyncpg.PostgresError as exc:
                        raise DatabaseError(
                            f"migration {migration.name} failed and was rolled back: {_line(exc)}"
                        ) from exc
                    log.info("applied migration %s", migration.name)
                    applied.append(migration.name)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATE_LOCK)
        return applied

    # -- writes ---------------------------------------------------------------------------

    def start_batch(self, writes: Sequence[Write[Any]], done: Done) -> None:
        """:meth:`run_batch` in a task of its own."""
        self._start_batch(writes, done)

    async def run_batch(self, writes: Sequence[Write[Any]]) -> list[Outcome[Any]]:
        """The batch's writes in a worker thread, their statements on one connection in one
        transaction, under the write lock; committed once, before any caller hears back."""
        loop = asyncio.get_running_loop()
        async with self._write_lock, self._pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            thread = asyncio.ensure_future(
                asyncio.to_thread(run_writes, PgBatch(conn, loop), writes)
            )
            try:
                # Shielded: a cancelled batch still lets the thread finish its statements
                # before the rollback (the connection runs one operation at a time).
                outcomes, commit = await asyncio.shield(thread)
            except BaseException:
                if not thread.done():
                    await asyncio.wait([thread])
                await transaction.rollback()
                raise
            if commit:
                await transaction.commit()
            else:
                await transaction.rollback()
            return outcomes

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._write_lock, self._pool.acquire() as conn, conn.transaction():
            yield PgTransaction(conn)

    async def fetch_all_aside(self, sql: str, params: Params = ()) -> list[Row]:
        """Any pooled connection: the server runs it beside the other queries."""
        return await self.fetch_all(sql, params)

    async def size_bytes(self) -> int:
        return int(await self._pool.fetchval("SELECT pg_database_size(current_database())"))


def _line(exc: BaseException) -> str:
    """An exception's message on one line."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
