"""Shard ranges end to end: the real bot with `AGORA_SHARD_COUNT` / `AGORA_SHARD_IDS` against
the emulator, which routes each community to its shard (``(guild_id >> 22) % shard_count``)."""

from __future__ import annotations

import time
from pathlib import Path

from cogs.debates.service import DeadlineService
from tests.emulator import Guild
from tests.harness import AgoraHarness, provided, response_text, wait_stored


async def start_world(tmp_path: Path) -> tuple[AgoraHarness, dict[int, list[Guild]]]:
    harness = AgoraHarness(tmp_path, agora_shard_count=2, agora_shard_ids=(0,))
    await harness.start_emulator(guild_count=0)
    by_shard: dict[int, list[Guild]] = {0: [], 1: []}
    for n in range(4):
        shard = n % 2
        guild = harness.emu.add_guild(f"community {n}", shard=(shard, 2))
        harness.guilds.append(guild)
        harness.managers[guild.id] = harness.emu.add_member(
            guild.id, f"admin{n}", manage_guild=True
        )
        harness.members[guild.id] = harness.emu.add_member(guild.id, f"member{n}")
        by_shard[shard].append(guild)
    return harness, by_shard


async def test_each_process_gets_the_communities_of_its_shards_only(tmp_path: Path) -> None:
    harness, by_shard = await start_world(tmp_path)
    try:
        # Shard 0 of 2: its communities, and the command sync (once per cluster).
        bot = await harness.start_bot()
        assert {g.id for g in bot.guilds} == {g.id for g in by_shard[0]}
        assert bot.shard_ids == [0] and bot.shard_count == 2
        assert set(harness.emu.gateway.current) == {0}
        assert len(harness.emu.command_syncs) == 1

        # Shard 1 of 2 on the same database: the other communities; no second sync.
        harness.settings_overrides["agora_shard_ids"] = (1,)
        sessions = list(harness.emu.gateway.sessions)
        bot = await harness.restart()
        assert {g.id for g in bot.guilds} == {g.id for g in by_shard[1]}
        identified = [s for key, s in harness.emu.gateway.sessions.items() if key not in sessions]
        assert [(s.shard_id, s.shard_count) for s in identified] == [(1, 2)]
        assert len(harness.emu.command_syncs) == 1
        guild = by_shard[1][0]
        answered = await harness.slash("about", guild=guild, user=harness.members[guild.id])
        assert "Version" in response_text(answered)

        # The shard-1 process did not take the shard-0 communities for removed while offline.
        present = set(await bot.guild_repo.present_ids())
        assert {g.id for g in harness.guilds} <= present
    finally:
        await harness.close()


async def test_a_due_poll_is_closed_by_the_process_holding_its_community(tmp_path: Path) -> None:
    harness, by_shard = await start_world(tmp_path)
    try:
        guild = by_shard[0][0]
        bot = await harness.start_bot()  # shard 0
        created = await harness.slash(
            "poll create",
            {"question": "Open?", "options": "yes | no", "duration": "1h"},
            guild=guild,
            user=harness.members[guild.id],
        )
        assert created.message is not None
        await wait_stored(harness)
        await bot.db.execute("UPDATE polls SET deadline = ?", (time.time() - 60,))

        async def closed_at() -> object:
            db = harness.running_bot.db
            return await db.fetch_value("SELECT closed_at FROM polls")

        # The process running shard 1 leaves it alone: not its community.
        harness.settings_overrides["agora_shard_ids"] = (1,)
        bot = await harness.restart()
        await provided(bot, DeadlineService).run_due()
        assert await closed_at() is None
        # The process running shard 0 closes it.
        harness.settings_overrides["agora_shard_ids"] = (0,)
        bot = await harness.restart()
        await provided(bot, DeadlineService).run_due()
        assert await closed_at() is not None
    finally:
        await harness.close()
