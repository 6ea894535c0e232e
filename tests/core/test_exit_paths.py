"""Every way `python -m bot` gives up ends with one line on stderr, exit status 2, no traceback.

An operator reads that line and nothing else: a traceback after it (from a thread outliving the
event loop, say) would bury it, however loaded the machine is.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.database import Database, DatabaseError
from tests.core.cli import run_agora
from tests.emulator import DiscordEmulator
from tests.harness import TEST_TOKEN


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator() as emulator:
        emulator.add_guild("community")
        yield emulator


async def agora(
    command: str, workdir: Path, database: Path, emu: DiscordEmulator | None = None
) -> tuple[int, str]:
    """Run `python -m bot <command>` configured through the environment; (status, stderr)."""
    env = {"DISCORD_TOKEN": TEST_TOKEN, "AGORA_DATABASE": str(database)}
    if emu is not None:
        env.update(DISCORD_API_BASE=emu.api_base, DISCORD_GATEWAY_URL=emu.gateway_url)
    env["LOG_LEVEL"] = "ERROR"  # the start-up INFO lines are not what this is about
    status, _, stderr = await run_agora(command, cwd=workdir, env=env)
    return status, stderr


def assert_one_line(status: int, stderr: str, *expected: str) -> None:
    assert status == 2, stderr
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("agora: "), stderr
    for text in expected:
        assert text in lines[0], stderr


def conflicting_schema(path: Path) -> None:
    """A database whose first migration cannot run: a table it creates already exists."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE guilds (something_else TEXT)")


def newer_schema(path: Path) -> None:
    """A database written by a newer Agora."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")


@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        (conflicting_schema, "migration 0001_core.sql failed and was rolled back"),
        (newer_schema, "has schema version 999"),
    ],
)
@pytest.mark.parametrize("command", ["migrate", "run"])
async def test_failed_migration_is_one_line_and_exit_2(
    tmp_path: Path, emu: DiscordEmulator, command: str, prepare: object, expected: str
) -> None:
    database = tmp_path / "agora.db"
    assert callable(prepare)
    prepare(database)
    status, stderr = await agora(command, tmp_path, database, emu)
    assert_one_line(status, stderr, "database error", expected)
    if command == "run":
        assert emu.requests, "the bot never reached Discord: the test proves nothing"


async def test_unusable_database_path_when_running_is_one_line_and_exit_2(
    tmp_path: Path, emu: DiscordEmulator
) -> None:
    status, stderr = await agora("run", tmp_path, tmp_path, emu)  # a folder
    assert_one_line(status, stderr, "AGORA_DATABASE")


async def test_refused_token_is_one_line_and_exit_2(tmp_path: Path, emu: DiscordEmulator) -> None:
    emu.token = "another.token.entirely"  # Discord answers 401 to ours
    status, stderr = await agora("run", tmp_path, tmp_path / "agora.db", emu)
    assert_one_line(status, stderr, "Discord refused DISCORD_TOKEN")


async def test_failed_open_leaves_no_database_thread(tmp_path: Path) -> None:
    """The worker thread of a connection that failed to open is gone when `open` raises, so
    it cannot answer on an event loop that the exiting process has closed meanwhile."""
    before = set(threading.enumerate())
    with pytest.raises(DatabaseError, match="AGORA_DATABASE"):
        await Database.open(tmp_path)  # a folder
    # The event loop's default executor (`asyncio_<n>` threads) may stay; nothing else.
    left = [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and not t.name.startswith("asyncio_")
    ]
    assert left == []
