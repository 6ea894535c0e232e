"""Repositories: all SQL lives here, one documented method per query, `?` parameters only.

What every repository shares lives in this module: the :class:`Repository` base (it holds the
one database), the clock of the time columns, and the small helpers that turn rows into
records.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Coroutine
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar, get_args, get_type_hints

from bot.database import Database, Params, Reader, Row
from bot.writer import SyncTransaction

T = TypeVar("T")
P = ParamSpec("P")


class Repository:
    """The base of the repositories: built from the one database."""

    def __init__(self, db: Database) -> None:
        self._db = db


def batched(
    write: Callable[Concatenate[SyncTransaction, P], T],
) -> Callable[Concatenate[Repository, P], Coroutine[Any, Any, T]]:
    """A repository method that runs ``write(tx, *args, **kwargs)`` through the batch writer
    (:mod:`bot.writer`) and returns its value after the commit: ``record = batched(insert_x)``.
    The write itself stays a module-level function, usable inside a larger write."""

    async def method(self: Repository, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._db.write(lambda tx: write(tx, *args, **kwargs))

    method.__doc__ = write.__doc__
    return method


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
    reader: Reader, to_record: Callable[[Row], T], sql: str, params: Params = ()
) -> T | None:
    """The record of the first row ``sql`` reads, or None when it reads none."""
    row = await reader.fetch_one(sql, params)
    return to_record(row) if row else None


async def fetch_records(
    reader: Reader, to_record: Callable[[Row], T], sql: str, params: Params = ()
) -> list[T]:
    """The records of every row ``sql`` reads, in its order."""
    return [to_record(row) for row in await reader.fetch_all(sql, params)]


def record_from_row(cls: type[T], row: Row, **values: Any) -> T:
    """The dataclass record ``cls`` from a row: each field not given in ``values`` is the
    column of the same name, converted to the field's declared type (``int``, ``float``,
    ``str``, ``bool``, an enum; ``X | None`` keeps None)."""
    for name, convert in _converters(cls).items():
        if name not in values:
            values[name] = convert(row[name])
    return cls(**values)


_CONVERTERS: dict[type[Any], dict[str, Callable[[Any], Any]]] = {}


def _converters(cls: type[Any]) -> dict[str, Callable[[Any], Any]]:
    """Each field's conversion, worked out once per record class."""
    if cls not in _CONVERTERS:
        hints = get_type_hints(cls)
        _CONVERTERS[cls] = {field.name: _converter(hints[field.name]) for field in fields(cls)}
    return _CONVERTERS[cls]


def _converter(hint: Any) -> Callable[[Any], Any]:
    if isinstance(hint, types.UnionType):
        (inner,) = [arg for arg in get_args(hint) if arg is not type(None)]
        convert = _converter(inner)
        return lambda value: None if value is None else convert(value)
    assert isinstance(hint, type), hint
    return hint
