"""`agora restore PATH` and the instance lock: a checked, atomic way back from a backup."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.database import Database
from bot.errors import OperatorError
from bot.instance_lock import InstanceLock
from bot.restore import restore_database
from tests.core.cli import run_agora
from tests.core.test_exit_paths import assert_one_line
from tests.debates.helpers import click, option_id
from tests.fakes.hub import FakeHub
from tests.harness import TEST_TOKEN, AgoraHarness, reply_text, response_text, serving, wait_stored

#: Every table that holds what members and managers made, and how to read it in a stable order.
MEMBER_DATA = {
    "polls": "SELECT id, guild_id, question, options FROM polls ORDER BY id",
    "votes": "SELECT poll_id, member_id, option FROM votes ORDER BY 1, 2, 3",
    "stances": "SELECT guild_id, member_id, topic, value FROM stance_observations ORDER BY id",
    "subscriptions": "SELECT guild_id, channel_id, source_key FROM release_subscriptions ORDER BY id",
}


async def member_data(db: Database) -> dict[str, list[tuple[object, ...]]]:
    return {name: [tuple(r) for r in await db.fetch_all(sql)] for name, sql in MEMBER_DATA.items()}


def kept_copies(folder: Path) -> list[Path]:
    return sorted(folder.glob("agora.db.before-restore-*"))


def folder_state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


async def restore_cli(database: Path, backup: Path, workdir: Path) -> tuple[int, str, str]:
    env = {"AGORA_DATABASE": str(database), "LOG_LEVEL": "ERROR"}
    return await run_agora("restore", str(backup), cwd=workdir, env=env)


async def test_backup_then_restore_brings_back_every_poll_vote_stance_and_subscription(
    tmp_path: Path,
) -> None:
    hub = FakeHub()
    await hub.start()
    hub.add_model("org/base")
    agora = AgoraHarness(tmp_path, hf_endpoint=hub.url)
    async with serving(agora, hub):
        await agora.start_emulator()
        channel = agora.emu.add_channel(agora.guild.id, "releases")
        await agora.start_bot()
        await agora.wait_for(lambda: agora.running_bot.get_channel(channel))
        created = await agora.slash("poll create", {"question": "Open?", "options": "yes | no"})
        poll = created.message
        assert poll is not None, reply_text(created)
        await wait_stored(agora)
        assert reply_text(await click(agora, agora.member, poll, option_id(poll, 1))) == (
            "Your vote: no"
        )
        assert "Lean share" in response_text(await agora.slash("stance set", {"position": 1}))
        followed = await agora.slash(
            "releases follow", {"source": "hf:org", "channel": channel}, user=agora.manager
        )
        await agora.wait_for(lambda: not followed.loading)
        db = agora.running_bot.db
        saved = await member_data(db)
        assert all(saved.values()), saved
        backup = tmp_path / "backups" / "agora-backup.db"
        await db.backup(backup)

        # Life goes on after the backup: all of it is undone by the restore.
        await click(agora, agora.member, poll, option_id(poll, 1))  # withdrawn
        await agora.slash("stance set", {"position": -2})
        await agora.slash("releases unfollow", {"source": "hf:org"}, user=agora.manager)
        assert await member_data(db) != saved

        refused = await restore_cli(agora.db_path, backup, tmp_path)
        assert_one_line(refused[0], refused[2], "is running", "stop it first")
        assert not kept_copies(tmp_path)

        await agora.stop_bot()
        status, out, err = await restore_cli(agora.db_path, backup, tmp_path)
        assert status == 0, err
        [kept] = kept_copies(tmp_path)
        assert f"kept as {kept}" in out
        assert not (tmp_path / "agora.db-wal").exists()

        await agora.start_bot()
        db = agora.running_bot.db
        assert await member_data(db) == saved
        listed = await agora.slash("releases list", user=agora.manager)
        assert "`hf:org`" in response_text(listed)
        again = await click(agora, agora.member, poll, option_id(poll, 1))
        assert reply_text(again) == "Your vote was withdrawn.", "the restored vote was there"

        replaced = await Database.open(kept)
        try:  # the replaced database is whole: what happened after the backup is in it
            assert (await member_data(replaced))["subscriptions"] == []
        finally:
            await replaced.close()


# SQLite-only: the instance lock is a lock on the file (processes sharing a server is a cluster).
@pytest.mark.parametrize("engine", ["sqlite"])
async def test_a_second_bot_on_the_same_database_is_refused(agora: AgoraHarness) -> None:
    env = {
        "DISCORD_TOKEN": TEST_TOKEN,
        "AGORA_DATABASE": str(agora.db_path),
        "DISCORD_API_BASE": agora.emu.api_base,
        "DISCORD_GATEWAY_URL": agora.emu.gateway_url,
        "LOG_LEVEL": "ERROR",
    }
    status, _, err = await run_agora("run", cwd=agora.tmp_path, env=env)
    assert_one_line(status, err, "cannot start", "is running on", "stop it first")
    assert "Version" in response_text(await agora.slash("about")), "the first bot runs on"


# -- refused backups: one line, exit 2, nothing changed --------------------------------------


@pytest.fixture
async def live(tmp_path: Path) -> Path:
    """A database with the bot's schema and one row, as the bot leaves it."""
    path = tmp_path / "agora.db"
    db = await Database.open(path)
    await db.migrate()
    await db.execute("INSERT INTO guilds (guild_id, joined_at) VALUES (1, 'then')")
    await db.close()
    return path


async def good_backup(live: Path, name: str = "backup.db") -> Path:
    db = await Database.open(live)
    try:
        await db.backup(live.with_name(name))
    finally:
        await db.close()
    return live.with_name(name)


def corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    data[page : page * 3] = b"\xa5" * (page * 2)  # the pages after the header page
    path.write_bytes(bytes(data))


def newer(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    conn.close()


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (corrupt, "is damaged"),
        (newer, "schema version 999"),
        (lambda p: p.write_bytes(b"not a database at all" * 100), "not a readable SQLite"),
        (lambda p: p.unlink(), "is not a file"),
    ],
    ids=["corrupt", "newer-schema", "not-sqlite", "missing"],
)
async def test_a_bad_backup_is_refused_and_nothing_changes(
    live: Path, spoil: object, expected: str
) -> None:
    backup = await good_backup(live)
    assert callable(spoil)
    spoil(backup)
    before = folder_state(live.parent)
    status, _, err = await restore_cli(live, backup, live.parent)
    assert_one_line(status, err, expected)
    after = folder_state(live.parent)
    after.pop("agora.db.lock", None)
    assert after == before, "the database unchanged; no kept copy, no temporary file"


async def test_restore_replaces_the_database_and_keeps_the_old_one(live: Path) -> None:
    backup = await good_backup(live)
    with sqlite3.connect(live) as conn:
        conn.execute("DELETE FROM guilds")
    conn.close()
    report = restore_database(live, backup, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert report.kept == live.with_name("agora.db.before-restore-20260102T030405Z")
    with sqlite3.connect(live) as conn:
        assert conn.execute("SELECT guild_id FROM guilds").fetchall() == [(1,)]
    conn.close()
    with sqlite3.connect(report.kept) as conn:
        assert conn.execute("SELECT count(*) FROM guilds").fetchone() == (0,)
    conn.close()
    again = restore_database(live, backup, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert again.kept is not None and again.kept.name.endswith("Z-2"), "never overwrites a kept one"


async def test_restore_into_an_empty_place_and_the_lock_refuses_it(
    tmp_path: Path, live: Path
) -> None:
    backup = await good_backup(live)
    target = tmp_path / "fresh" / "agora.db"
    target.parent.mkdir()
    assert restore_database(target, backup).kept is None
    lock = InstanceLock(target)
    lock.acquire("start")
    try:
        with pytest.raises(OperatorError, match=r"cannot restore: an Agora bot \(pid \d+\)"):
            restore_database(target, backup)
    finally:
        lock.release()
    restore_database(target, backup)  # released: allowed again
