"""Storage tests on a real SQLite file: migrations, atomicity, refusal, backup.

SQLite-only by nature (pragmas, the file, its backup, the connection's thread); the same rules
on PostgreSQL are tested in tests/core/test_database_pg.py."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from bot.community import GuildSettings
from bot.database import Database, DatabaseError, Migration, bundled_migrations
from bot.database_sqlite import SqliteDatabase
from bot.repositories.guilds import GuildRepository, MetaRepository


@pytest.fixture
async def db(tmp_path: Path):
    database = await SqliteDatabase.open(tmp_path / "nested" / "agora.db")
    yield database
    await database.close()


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


async def test_open_creates_folder_and_sets_pragmas(db: SqliteDatabase) -> None:
    assert db.path.exists()
    assert (await db.fetch_value("PRAGMA journal_mode")) == "wal"
    assert (await db.fetch_value("PRAGMA foreign_keys")) == 1
    assert (await db.fetch_value("PRAGMA busy_timeout")) == 5000


async def test_migrations_from_empty_then_idempotent(db: SqliteDatabase) -> None:
    expected = bundled_migrations()
    applied = await db.migrate()
    assert applied == [m.name for m in expected]
    assert await db.schema_version() == expected[-1].version
    assert {"guilds", "meta"} <= tables(db.path)
    assert await db.migrate() == []
    assert await db.schema_version() == expected[-1].version


async def test_newer_database_is_refused_and_untouched(db: SqliteDatabase) -> None:
    await db.migrate()
    await db.execute("PRAGMA user_version = 999")
    with pytest.raises(DatabaseError, match="schema version 999"):
        await db.migrate()
    assert await db.schema_version() == 999


async def test_failed_migration_leaves_database_as_it_was(db: SqliteDatabase) -> None:
    good = Migration(1, "0001_good.sql", "CREATE TABLE a (x INTEGER);")
    bad = Migration(
        2,
        "0002_bad.sql",
        "CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (1); INSERT INTO nowhere VALUES (1);",
    )
    with pytest.raises(DatabaseError, match="0002_bad.sql failed and was rolled back"):
        await db.migrate([good, bad])
    assert await db.schema_version() == 1
    assert "b" not in tables(db.path)
    assert await db.fetch_value("SELECT count(*) FROM a") == 0
    # The database is still usable, and the fixed migration applies.
    fixed = Migration(2, "0002_bad.sql", "CREATE TABLE b (y INTEGER);")
    assert await db.migrate([good, fixed]) == ["0002_bad.sql"]


async def test_transaction_rolls_back_on_error(db: SqliteDatabase) -> None:
    await db.migrate()
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
            raise RuntimeError("boom")
    assert await db.fetch_value("SELECT count(*) FROM meta") == 0


async def test_a_transaction_cancelled_during_its_begin_leaves_none_open(
    db: SqliteDatabase,
) -> None:
    """A job stopped while its BEGIN waits on the connection's thread (the thread is busy):
    the BEGIN still runs there, and the next transaction must not find it open."""
    await db.migrate()
    thread_free = asyncio.Event()
    busy = asyncio.ensure_future(db._conn._execute(lambda: time.sleep(0.2)))

    async def begin_then_wait() -> None:
        async with db.transaction() as tx:
            await tx.execute("UPDATE meta SET value = 'never' WHERE key = 'schema_version'")
            await thread_free.wait()

    job = asyncio.create_task(begin_then_wait())
    await asyncio.sleep(0)  # one turn: the job takes the free lock and queues its BEGIN
    assert db._write_lock.locked()
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    await busy
    async with db.transaction() as tx:  # raised "within a transaction" before
        await tx.execute("INSERT INTO meta (key, value) VALUES ('after', 'ok')")
    assert await db.fetch_value("SELECT value FROM meta WHERE key = 'after'") == "ok"
    assert await db.fetch_value("SELECT value FROM meta WHERE key = 'schema_version'") != "never"


async def test_backup_while_writing(db: Database, tmp_path: Path) -> None:
    await db.migrate()
    stop = asyncio.Event()
    some_written = asyncio.Event()

    async def writer() -> int:
        written = 0
        while not stop.is_set():
            await db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"k{written}", "v"))
            written += 1
            if written == 10:
                some_written.set()
            await asyncio.sleep(0)
        return written

    task = asyncio.create_task(writer())
    await asyncio.wait_for(some_written.wait(), timeout=30)  # the backup starts mid-writing
    target = tmp_path / "backups" / "copy.db"
    await db.backup(target)
    stop.set()
    written = await task
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copied = conn.execute("SELECT count(*) FROM meta").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    assert 0 < copied <= written
    assert version == await db.schema_version()


async def test_guild_settings_round_trip_and_lifecycle(db: SqliteDatabase) -> None:
    await db.migrate()
    repo = GuildRepository(db)
    assert await repo.get_settings(1) == GuildSettings()
    await repo.ensure(1)
    changed = GuildSettings(retention_days=7, announce_threads=True, weekly_debate="Friday 18:30")
    await repo.save_settings(1, changed)
    loaded = await repo.get_settings(1)
    assert loaded.retention_days == 7 and loaded.announce_threads
    assert loaded.weekly_debate == "fri 18:30"
    await repo.mark_left(1)
    assert await repo.left_before(1) is not None
    assert await repo.count() == 0
    await repo.ensure(1)
    assert await repo.left_before(1) is None
    assert (await repo.get_settings(1)).retention_days == 7


async def test_meta_repository(db: SqliteDatabase) -> None:
    await db.migrate()
    meta = MetaRepository(db)
    assert await meta.get("x") is None
    await meta.set("x", "1")
    await meta.set("x", "2")
    assert await meta.get("x") == "2"
