"""`agora migrate-to-postgres SQLITE_PATH POSTGRES_URL` on a real SQLite file and a real
PostgreSQL server (PostgreSQL by nature): what members made arrives whole, the bot then runs on
it, and a target that is not empty (or not PostgreSQL) is refused in one line."""

from __future__ import annotations

from pathlib import Path

from bot.database import Database
from bot.database_target import PostgresTarget
from tests.core.cli import run_agora
from tests.core.test_exit_paths import assert_one_line
from tests.core.test_restore import member_data
from tests.debates.helpers import click, option_id
from tests.engines import create_postgres, drop_postgres
from tests.harness import AgoraHarness, reply_text, response_text, serving, wait_stored

#: The figures kept by triggers: copied as they are, not counted twice by the copy.
ANALYTICS = {
    "positions": "SELECT guild_id, member_id, topic, value FROM stance_positions ORDER BY 1, 2, 3",
    "daily": "SELECT * FROM stance_daily_changes ORDER BY 1, 2, 3, 4",
}


async def make_data(agora: AgoraHarness) -> None:
    """A poll with a vote, two stances and a release subscription, made through the bot."""
    channel = agora.emu.add_channel(agora.guild.id, "releases")
    await agora.wait_for(lambda: agora.running_bot.get_channel(channel))
    created = await agora.slash("poll create", {"question": "Open?", "options": "yes | no"})
    poll = created.message
    assert poll is not None, reply_text(created)
    await wait_stored(agora)
    assert reply_text(await click(agora, agora.member, poll, option_id(poll, 1))) == "Your vote: no"
    assert "Lean share" in response_text(await agora.slash("stance set", {"position": 1}))
    assert "Strongly" in response_text(
        await agora.slash("stance set", {"position": -2}, user=agora.manager)
    )
    followed = await agora.slash(
        "releases follow", {"source": "github:org/repo", "channel": channel}, user=agora.manager
    )
    await agora.wait_for(lambda: not followed.loading)


async def read(target: Path | PostgresTarget) -> dict[str, list[tuple[object, ...]]]:
    db = await Database.open(target)
    try:
        data = await member_data(db)
        for name, sql in ANALYTICS.items():
            data[name] = [tuple(r) for r in await db.fetch_all(sql)]
        return data
    finally:
        await db.close()


async def test_a_sqlite_database_moves_whole_and_the_bot_runs_on_it(tmp_path: Path) -> None:
    sqlite = AgoraHarness(tmp_path / "sqlite")
    async with serving(sqlite):
        await sqlite.start_emulator()
        await sqlite.start_bot()
        await make_data(sqlite)
        await sqlite.stop_bot()
    before = await read(sqlite.db_path)
    assert all(before.values()), before

    target = await create_postgres(migrated=False)
    try:
        # An operator may have run `agora migrate` there first: tables without rows are empty.
        status, _, err = await run_agora(
            "migrate", cwd=tmp_path, env={"AGORA_DATABASE": target.url}
        )
        assert status == 0, err
        status, out, err = await run_agora(
            "migrate-to-postgres", str(sqlite.db_path), target.url, cwd=tmp_path, env={}
        )
        assert status == 0, err
        assert "votes: 1 rows, equal on both sides" in out
        assert "into PostgreSQL" in out.splitlines()[-1]
        assert await read(target) == before

        # The bot runs on the copy: old polls take votes, new rows get new ids.
        moved = AgoraHarness(tmp_path / "moved", database=target)
        async with serving(moved):
            await moved.start_emulator()
            # A new emulator knows no commands; the copied sync hash would skip the sync.
            await moved.start_bot(force_sync=True)
            created = await moved.slash("poll create", {"question": "Next?", "options": "a | b"})
            await wait_stored(moved)
            ids = await moved.running_bot.db.fetch_all("SELECT id FROM polls ORDER BY id")
            assert len(ids) == 2 and ids[1][0] > ids[0][0], reply_text(created)

        # Run again: the target now holds rows, and nothing is touched.
        status, out, err = await run_agora(
            "migrate-to-postgres", str(sqlite.db_path), target.url, cwd=tmp_path, env={}
        )
        assert_one_line(status, err, "is not empty")
        db = await Database.open(target)
        try:
            assert await db.fetch_value("SELECT count(*) FROM polls") == 2
        finally:
            await db.close()
    finally:
        await drop_postgres(target)


async def test_a_missing_file_or_a_target_that_is_not_postgresql_is_one_line(
    tmp_path: Path,
) -> None:
    status, _, err = await run_agora(
        "migrate-to-postgres", str(tmp_path / "none.db"), "postgresql://127.0.0.1/x",
        cwd=tmp_path, env={},
    )  # fmt: skip
    assert_one_line(status, err, "there is no SQLite database at")
    status, _, err = await run_agora(
        "migrate-to-postgres", str(tmp_path / "none.db"), str(tmp_path / "other.db"),
        cwd=tmp_path, env={},
    )  # fmt: skip
    assert_one_line(status, err, "POSTGRES_URL must be a postgresql:// URL")
