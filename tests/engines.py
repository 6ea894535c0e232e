"""The database engines the tests run on: ``AGORA_TEST_ENGINES`` (a comma list of ``sqlite``
and ``postgresql``; ``sqlite`` when unset). ``make test`` and CI run both.

PostgreSQL: the server at 127.0.0.1:5432 (trust authentication, the current user may create
databases). A run migrates one template database once; each test then gets its own database,
copied from the template (``CREATE DATABASE … TEMPLATE``, fast), dropped after the test; the
template is dropped when the run ends.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import asyncpg

from bot.database import Database
from bot.database_target import DatabaseTarget, PostgresTarget, SqliteTarget

ENGINES = [e.strip() for e in os.environ.get("AGORA_TEST_ENGINES", "sqlite").split(",") if e]
for _engine in ENGINES:
    if _engine not in ("sqlite", "postgresql"):
        raise ValueError(f"AGORA_TEST_ENGINES: unknown engine {_engine!r}")

SERVER = os.environ.get("AGORA_TEST_POSTGRES", "postgresql://127.0.0.1:5432")
_PREFIX = f"agora_test_{os.getpid()}"
_TEMPLATE = f"{_PREFIX}_template"
_numbers = itertools.count()
_template_ready = threading.Lock()
_template_made = False


def url(database: str) -> str:
    return f"{SERVER}/{database}"


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(url("postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _run_aside(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run ``coroutine`` on its own loop in a thread (from sync code, beside the test's loop)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


async def _make_template() -> None:
    await admin(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)')
    await admin(f'CREATE DATABASE "{_TEMPLATE}"')
    db = await Database.open(url(_TEMPLATE))
    try:
        await db.migrate()
    finally:
        await db.close()


def ensure_template() -> None:
    """The migrated template, made once per run (on first use)."""
    global _template_made
    with _template_ready:
        if not _template_made:
            _run_aside(_make_template())
            _template_made = True


def drop_template() -> None:
    if _template_made:
        _run_aside(admin(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)'))


async def create_postgres(*, migrated: bool = True) -> PostgresTarget:
    """A new database of its own: migrated (from the template) or empty."""
    name = f"{_PREFIX}_{next(_numbers)}"
    if migrated:
        await asyncio.to_thread(ensure_template)
    template = _TEMPLATE if migrated else "template0"
    await admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return PostgresTarget(url(name), name)


async def drop_postgres(target: PostgresTarget) -> None:
    await admin(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')


async def create_target(engine: str, folder: Path, *, migrated: bool = True) -> DatabaseTarget:
    """A fresh database on ``engine``: a file in ``folder`` for SQLite (migrated by whoever opens
    it), a database of its own on the server for PostgreSQL."""
    if engine == "sqlite":
        return SqliteTarget(folder / "agora.db")
    return await create_postgres(migrated=migrated)


async def drop_target(target: DatabaseTarget) -> None:
    if isinstance(target, PostgresTarget):
        await drop_postgres(target)
