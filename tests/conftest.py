"""Shared fixtures: `agora` is the real bot against the local Discord emulator; `db` is a real
database with every migration applied. Both run on every engine of ``AGORA_TEST_ENGINES``
(ids ``[sqlite]``, ``[postgresql]``, see :mod:`tests.engines`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.database import Database
from bot.database_target import DatabaseTarget
from tests.engines import ENGINES, create_target, drop_target, drop_template
from tests.harness import AgoraHarness, serving
from tests.releases.test_e2e_releases import Env, make_env


@pytest.fixture(scope="session", autouse=True)
def _postgres_template() -> Iterator[None]:
    yield
    drop_template()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The engine a test runs on (a parameter: one run per engine)."""
    return str(request.param)


@pytest.fixture
async def database_target(engine: str, tmp_path: Path) -> AsyncIterator[DatabaseTarget]:
    """A fresh, migrated database of the test's own on ``engine`` (SQLite: migrated when
    opened), dropped after the test."""
    target = await create_target(engine, tmp_path)
    try:
        yield target
    finally:
        await drop_target(target)


@pytest.fixture
async def agora(tmp_path: Path, database_target: DatabaseTarget) -> AsyncIterator[AgoraHarness]:
    harness = AgoraHarness(tmp_path, database=database_target)
    await harness.start_emulator()
    await harness.start_bot()
    async with serving(harness):
        yield harness


@pytest.fixture
async def env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_target: DatabaseTarget
) -> AsyncIterator[Env]:
    """The bot with the releases feature, three communities, a fake Hub and feed host
    (releases and resilience tests)."""
    async for value in make_env(tmp_path, monkeypatch, database_target):
        yield value


@pytest.fixture
async def db(database_target: DatabaseTarget) -> AsyncIterator[Database]:
    database = await Database.open(database_target)
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()
