"""Repositories: all SQL lives here, one documented method per query, `?` parameters only.

What every repository shares lives in this module: the :class:`Repository` base (it holds the
one database), the clock of the time columns, and the small helpers that turn rows into
records.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.database import Database, Params, Reader

T = TypeVar("T")


class Repository:
    """The base of the repositories: built from the one database."""

    def __init__(self, db: Database) -> None:
        self._db = db


def now() -> float:
    """Unix seconds, UTC (how the time columns store the present)."""
    return datetime.now(UTC).timestamp()


def optional_int(value: Any) -> int | None:
    """A nullable integer column: None stays None."""
    return None if value is None else int(value)


def optional_float(value: Any) -> float | None:
    """A nullable real column: None stays None."""
    return None if value is None else float(value)


async def fetch_record(
    reader: Reader, to_record: Callable[[sqlite3.Row], T], sql: str, params: Params = ()
) -> T | None:
    """The record of the first row ``sql`` reads, or None when it reads none."""
    row = await reader.fetch_one(sql, params)
    return to_record(row) if row else None


async def fetch_records(
    reader: Reader, to_record: Callable[[sqlite3.Row], T], sql: str, params: Params = ()
) -> list[T]:
    """The records of every row ``sql`` reads, in its order."""
    return [to_record(row) for row in await reader.fetch_all(sql, params)]
