"""Fixtures of the debates tests: `db` is a real SQLite file with every migration applied."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.database import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "agora.db")
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()
