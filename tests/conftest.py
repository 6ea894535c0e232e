"""Shared fixtures: `agora` is the real bot against the local Discord emulator; `db` is a real
SQLite file with every migration applied."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.database import Database
from tests.harness import AgoraHarness, serving


@pytest.fixture
async def agora(tmp_path: Path) -> AsyncIterator[AgoraHarness]:
    harness = AgoraHarness(tmp_path)
    await harness.start_emulator()
    await harness.start_bot()
    async with serving(harness):
        yield harness


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "agora.db")
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()
