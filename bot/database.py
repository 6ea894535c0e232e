"""The database, engine-neutral: what repositories, the lifecycle and the CLI use.

Agora runs on SQLite (one file, the embedded default: :mod:`bot.database_sqlite`) or on
PostgreSQL (a server, for a cluster of processes: :mod:`bot.database_pg`). The SQL lives once,
in the repositories, written so both engines run it (``?`` parameters, ``ON CONFLICT``,
``RETURNING id``); what still differs between the engines (placeholders, the schema's own
tables, the version of the schema, deferring foreign keys, the size) lives in the engines'
classes below, never in a feature.

Writes are serialised through one lock per process so that a transaction never swallows another
task's statement. Small writes on hot paths (votes) go through the batch writer
(`Database.write`, :mod:`bot.writer`): every write waiting is run in one transaction and
committed once; no caller hears back before the commit.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from bot.database_dialect import DIALECTS, Dialect
from bot.database_target import DatabaseTarget, SqliteTarget, parse_database_target
from bot.writer import BatchWriter, Done, Params, Row, Write

__all__ = [
    "Database",
    "DatabaseError",
    "ForeignKey",
    "Migration",
    "Params",
    "Reader",
    "Row",
    "Transaction",
    "bundled_migrations",
]

T = TypeVar("T")

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def engine_errors() -> tuple[type[Exception], ...]:
    """What either engine raises when a statement fails or its connection is gone (for the
    places that answer "the database refused" instead of failing: health, metrics)."""
    import sqlite3

    import asyncpg

    return (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError, OSError, ValueError)


class DatabaseError(Exception):
    """The database cannot be used (unreachable, newer schema, failed migration); the message
    says why, in one line."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


@dataclass(frozen=True)
class ForeignKey:
    """``child.column`` references ``parent.parent_column`` (for the community purge)."""

    child: str
    column: str
    parent: str
    parent_column: str


def bundled_migrations(engine: str = "sqlite") -> list[Migration]:
    """The `.sql` files shipped for ``engine`` (`bot/migrations` for SQLite,
    `bot/migrations/postgresql` for PostgreSQL), in order of their unique numbers."""
    package = "bot.migrations" if engine == "sqlite" else f"bot.migrations.{engine}"
    found: list[Migration] = []
    for entry in resources.files(package).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for previous, migration in zip(found, found[1:], strict=False):
        if migration.version == previous.version:
            raise DatabaseError(f"migrations {previous.name} and {migration.name} share a number")
    return found


class Reader(ABC):
    """Reads: on the database, or inside an open transaction."""

    @abstractmethod
    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None: ...

    @abstractmethod
    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    # -- the schema, read from the engine's catalogue (for the community purge) -----------

    @abstractmethod
    async def tables(self) -> list[str]:
        """Every table of Agora's schema, by name."""

    @abstractmethod
    async def tables_with_column(self, column: str) -> list[str]:
        """Every table of Agora's schema that has ``column``, by name."""

    @abstractmethod
    async def foreign_keys(self) -> list[ForeignKey]:
        """Every foreign key of Agora's schema."""


class Transaction(Reader):
    """The statements of one open transaction (see `Database.transaction`)."""

    @abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> None:
        """Run one statement (``RETURNING`` + :meth:`fetch_value` when an id is needed)."""

    @abstractmethod
    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns how many rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    @abstractmethod
    async def defer_foreign_keys(self) -> None:
        """Check foreign keys at COMMIT, not at each statement, for the rest of this
        transaction (a purge deletes in whatever order)."""


class Database(Reader):
    """Agora's database. Open with `Database.open(target)`; close with `close()`."""

    #: "sqlite" or "postgresql" (also the name of its migrations' package and of its test id).
    engine: str
    #: Where it is (``AGORA_DATABASE``).
    target: DatabaseTarget
    #: The SQLite file, or None on a server (no file to lock, back up or restore).
    path: Path | None
    writer: BatchWriter

    @property
    def dialect(self) -> Dialect:
        """The engine's SQL differences the repositories ask for (bot.database_dialect)."""
        return DIALECTS[self.engine]

    @staticmethod
    async def open(target: DatabaseTarget | Path | str) -> Database:
        """The database ``target`` names (a path, ``sqlite:///…`` or ``postgresql://…``);
        :class:`DatabaseError` with one line when it cannot be opened."""
        target = parse_database_target(target)
        if isinstance(target, SqliteTarget):
            from bot.database_sqlite import SqliteDatabase

            return await SqliteDatabase.open(target.path)
        from bot.database_pg import PostgresDatabase

        return await PostgresDatabase.open(target)

    @abstractmethod
    async def close(self) -> None:
        """Commit and acknowledge every batched write already submitted, refuse new ones
        (:class:`bot.writer.WriterClosed`), then close the connections."""

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def migrate(self, migrations: list[Migration] | None = None) -> list[str]:
        """Apply the migrations the database lacks (each in one transaction with its version
        bump); returns their names. A database written by a newer Agora is refused."""

    def refuse_newer(self, current: int, latest: int) -> None:
        """Refuse a database written by a newer Agora (its schema version is past ours)."""
        if current > latest:
            raise DatabaseError(
                f"{self.target} has schema version {current}, but this Agora knows only up to "
                f"{latest}: upgrade Agora, or restore a backup made by this version"
            )

    async def execute(self, sql: str, params: Params = ()) -> None:
        """Run one write statement through the batch writer (committed together with the
        other small writes waiting, in its own savepoint); returns once committed."""
        await self.write(lambda tx: tx.execute(sql, params))

    async def write(self, write: Write[T]) -> T:
        """Run ``write`` (a synchronous function of the transaction) in the writer's next
        batch; returns its value after the batch committed (see :mod:`bot.writer`)."""
        return await self.writer.write(write)

    @abstractmethod
    def start_batch(self, writes: Sequence[Write[Any]], done: Done) -> None:
        """The engine's part of the batch writer (see :data:`bot.writer.StartBatch`)."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """`async with db.transaction() as tx:` — commit on success, roll back on any error."""

    @abstractmethod
    async def fetch_all_aside(self, sql: str, params: Params = ()) -> list[Row]:
        """A large read that neither the event loop nor other queries wait for (its own
        connection, off the loop)."""

    @abstractmethod
    async def size_bytes(self) -> int:
        """The database's size (on disk for SQLite, as the server counts it for PostgreSQL)."""

    async def backup(self, target: Path | str) -> None:
        """Copy the live database to a file (SQLite only: use pg_dump for PostgreSQL)."""
        raise DatabaseError(
            f"cannot back up a {self.engine} database to {target}: use the server's own tools"
        )
