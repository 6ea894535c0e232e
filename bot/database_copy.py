"""`agora migrate-to-postgres SQLITE_PATH POSTGRES_URL`: move a SQLite database to PostgreSQL.

The PostgreSQL database must be empty (no table of its public schema holds a row): the target
gets Agora's schema by the PostgreSQL migrations, then every table of the SQLite file is copied
in one transaction (parents before children, PostgreSQL's binary COPY), the `id` sequences are
moved past the copied ids, and the row counts of every table are compared on both sides before
the commit. Any difference rolls everything back. The stance analytics tables are copied as
they are, with their triggers held off during the copy (they already hold the figures of the
copied observations and votes).

The SQLite file is opened read-only and must have this Agora's schema (run `agora migrate` on
it first, or start the bot on it once).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bot.database import Database, DatabaseError, bundled_migrations
from bot.database_target import PostgresTarget, parse_database_target
from bot.errors import OperatorError

_CHUNK = 5_000
#: Moves a table's id sequence past its copied ids (nothing for a table without one).
_RESET_SEQUENCE = (
    "SELECT setval(seq, coalesce(top, 0) + 1, false) "
    "FROM (SELECT pg_get_serial_sequence($1, 'id') AS seq) AS s, "
    '(SELECT max(id) AS top FROM "{table}") AS m WHERE seq IS NOT NULL'
)


@dataclass(frozen=True)
class TableCopy:
    name: str
    rows: int


@dataclass(frozen=True)
class SqliteSnapshot:
    """What is read from the SQLite file: its tables in copy order, columns, rows."""

    tables: list[str]
    columns: dict[str, list[str]]
    rows: dict[str, list[tuple[Any, ...]]]


def read_sqlite(path: Path) -> SqliteSnapshot:
    """Every table of the file, parents before children (runs in a worker thread)."""
    if not path.is_file():
        raise OperatorError(f"cannot migrate: there is no SQLite database at {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise OperatorError(f"cannot migrate: {path} cannot be opened ({exc})") from None
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        latest = bundled_migrations()[-1].version
        if version != latest:
            raise OperatorError(
                f"cannot migrate: {path} has schema version {version}, this Agora {latest}: "
                "run `agora migrate` with AGORA_DATABASE set to that file first"
            )
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            )
        ]
        parents = {
            name: {row[2] for row in conn.execute(f'PRAGMA foreign_key_list("{name}")')} - {name}
            for name in names
        }
        columns = {
            name: [row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')] for name in names
        }
        rows = {
            name: conn.execute(f'SELECT * FROM "{name}"').fetchall()  # noqa: S608 - own names
            for name in names
        }
    except sqlite3.DatabaseError as exc:
        raise OperatorError(
            f"cannot migrate: {path} is not a readable SQLite database ({exc})"
        ) from None
    finally:
        conn.close()
    return SqliteSnapshot(_parents_first(names, parents), columns, rows)


def _parents_first(names: Sequence[str], parents: dict[str, set[str]]) -> list[str]:
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(names):
        ready = [n for n in names if n not in placed and parents[n] <= placed]
        if not ready:  # a cycle of foreign keys: keep the file's order for the rest
            ready = [n for n in names if n not in placed]
        for name in ready:
            ordered.append(name)
            placed.add(name)
    return ordered


async def migrate_to_postgres(sqlite_path: Path, url: str) -> list[TableCopy]:
    """Copy ``sqlite_path`` into the empty PostgreSQL database at ``url``; returns the counts."""
    try:
        target = parse_database_target(url)
    except ValueError as exc:
        raise OperatorError(f"cannot migrate: POSTGRES_URL {exc}") from None
    if not isinstance(target, PostgresTarget):
        raise OperatorError(
            "cannot migrate: POSTGRES_URL must be a postgresql:// URL, "
            "e.g. postgresql://agora@127.0.0.1:5432/agora"
        )
    snapshot = await asyncio.to_thread(read_sqlite, sqlite_path)
    conn = await _connect(target)
    try:
        if await _holds_rows(conn):
            raise OperatorError(
                f"cannot migrate: {target} is not empty; give the URL of a new, empty database"
            )
        db = await Database.open(target)
        try:
            await db.migrate()
        finally:
            await db.close()
        async with conn.transaction():
            return await _copy(conn, snapshot)
    finally:
        await conn.close()


async def _connect(target: PostgresTarget) -> asyncpg.Connection:
    try:
        connection: asyncpg.Connection = await asyncpg.connect(target.url, timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise DatabaseError(f"cannot connect to {target} ({exc})") from None
    return connection


async def _holds_rows(conn: asyncpg.Connection) -> bool:
    tables = await conn.fetch(
        "SELECT quote_ident(table_name) AS name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' "
        "AND table_name <> 'agora_schema'"  # the version row of `agora migrate` alone is empty
    )
    for table in tables:
        if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table['name']})"):  # noqa: S608
            return True
    return False


async def _copy(conn: asyncpg.Connection, snapshot: SqliteSnapshot) -> list[TableCopy]:
    known = {
        row["table_name"]
        for row in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    }
    missing = [name for name in snapshot.tables if name not in known]
    if missing:
        raise OperatorError(
            f"cannot migrate: PostgreSQL has no table {', '.join(missing)} after its migrations"
        )
    for name in snapshot.tables:
        await conn.execute(f'ALTER TABLE "{name}" DISABLE TRIGGER USER')
    copied: list[TableCopy] = []
    for name in snapshot.tables:
        rows = snapshot.rows[name]
        for start in range(0, len(rows), _CHUNK):
            await conn.copy_records_to_table(
                name, records=rows[start : start + _CHUNK], columns=snapshot.columns[name]
            )
        if "id" in snapshot.columns[name]:
            # Past the copied ids, for tables whose id the server numbers (no-op otherwise).
            await conn.execute(_RESET_SEQUENCE.format(table=name), f'"{name}"')
        stored = int(await conn.fetchval(f'SELECT count(*) FROM "{name}"'))  # noqa: S608
        if stored != len(rows):
            raise OperatorError(
                f"cannot migrate: table {name} has {len(rows)} rows in SQLite but {stored} "
                "in PostgreSQL; nothing was committed"
            )
        copied.append(TableCopy(name, stored))
    for name in snapshot.tables:
        await conn.execute(f'ALTER TABLE "{name}" ENABLE TRIGGER USER')
    return copied
