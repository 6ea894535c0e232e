"""Cluster mode end to end: two real `python -m bot` processes (shards 0 and 1 of 2) against
the emulator and one PostgreSQL database.

- every command is answered by the process holding its community (the emulator sends each
  community's interactions to its shard's session only);
- a source followed from communities on both shards is announced exactly once per
  subscription;
- `kill -9` of the radar's leader in the middle of a fan-out: the other process takes over and
  every announcement is posted exactly once;
- a poll on each shard closes once (the shard-0 one after its process is started again).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.database import Database
from bot.database_target import PostgresTarget
from bot.repositories.release_subscriptions import SubscriptionRepository
from tests.emulator import DiscordEmulator, Guild
from tests.engines import create_postgres, drop_postgres
from tests.fakes.feeds import FeedServer, atom_feed, feed_entry
from tests.harness import response_text
from tests.resilience.process import BotProcess

FEED = "/lab.atom"
#: Channels following the source in each community: enough posts that a kill lands mid-fan-out.
CHANNELS = 30
LEADER_LINE = "this process is now the cluster's leader"


@dataclass
class Cluster:
    emu: DiscordEmulator
    feeds: FeedServer
    target: PostgresTarget
    db: Database
    shards: dict[int, list[Guild]]
    members: dict[int, int]
    managers: dict[int, int]
    channels: dict[int, list[int]]  # guild id -> the channels following the source
    processes: dict[int, BotProcess]  # shard id -> its process

    @property
    def source(self) -> str:
        return f"feed:{self.feeds.url}{FEED}"

    def all_channels(self) -> list[int]:
        return [c for channels in self.channels.values() for c in channels]

    def posts_of(self, channel_id: int, title: str) -> int:
        bot = self.emu.bot.id
        return sum(
            1
            for m in self.emu.messages[channel_id]
            if int(m["author"]["id"]) == bot
            and any(e.get("title") == title for e in m.get("embeds") or [])
        )

    def announced(self, title: str) -> dict[int, int]:
        """channel -> how many announcements of ``title`` it shows."""
        return {c: self.posts_of(c, title) for c in self.all_channels()}

    def leader(self) -> int:
        """The shard of the process leading now (its last start logged it)."""
        leading = [
            shard
            for shard, process in self.processes.items()
            if process.process is not None
            and process.process.returncode is None
            and LEADER_LINE in process.log_text(process.runs)
        ]
        assert len(leading) == 1, leading
        return leading[0]

    async def cycle(self) -> None:
        """Wait for one more complete radar cycle (two fetches of the feed: the one in progress
        may have started before the caller's moment)."""
        seen = self.feeds.requests[FEED]
        await self.emu.wait_for(
            lambda: self.feeds.requests[FEED] >= seen + 2, timeout=60, what="a radar cycle"
        )


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    target = await create_postgres()
    db = await Database.open(target)
    emu = DiscordEmulator(shard_count=2)
    feeds = FeedServer()
    await emu.start()
    await feeds.start()
    feeds.set_feed(FEED, atom_feed([feed_entry(1), feed_entry(2)]))
    shards: dict[int, list[Guild]] = {0: [], 1: []}
    members, managers, channels = {}, {}, {}
    for n in range(4):
        guild = emu.add_guild(f"community {n}", shard=(n % 2, 2))
        shards[n % 2].append(guild)
        members[guild.id] = emu.add_member(guild.id, f"member{n}")
        managers[guild.id] = emu.add_member(guild.id, f"admin{n}", manage_guild=True)
        channels[guild.id] = [emu.add_channel(guild.id, f"releases-{k}") for k in range(CHANNELS)]
    processes = {
        shard: BotProcess(
            emu,
            _folder(tmp_path / f"shard{shard}"),
            AGORA_DATABASE=target.url,
            AGORA_SHARD_COUNT="2",
            AGORA_SHARD_IDS=str(shard),
            AGORA_RELEASE_POLL_SECONDS="10",
            AGORA_ALLOW_PRIVATE_URLS="true",
        )
        for shard in (0, 1)
    }
    world = Cluster(emu, feeds, target, db, shards, members, managers, channels, processes)
    try:
        yield world
    finally:
        for process in processes.values():
            if process.process is not None and process.process.returncode is None:
                await process.terminate()
        errors = [line for p in processes.values() for line in p.error_lines()]
        await feeds.stop()
        await emu.stop()
        await db.close()
        await drop_postgres(target)
        assert not errors, "\n".join(errors)
        assert not emu.problems(), emu.problems()


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


async def start(world: Cluster, shard: int) -> None:
    guild = world.shards[shard][0]
    await world.processes[shard].start(guild, world.members[guild.id])


async def answered(world: Cluster, guild: Guild, name: str, options: dict[str, Any]) -> Any:
    user = world.managers[guild.id]
    interaction = await world.emu.slash(guild.id, user, name, options)
    await interaction.response(timeout=15)
    await world.emu.wait_for(lambda: not interaction.loading, timeout=15, what="the answer")
    return interaction


async def results_posted(world: Cluster, poll_ids: dict[int, int]) -> dict[int, int]:
    """poll id -> how many times its result was posted (the upload of its chart)."""
    counts = dict.fromkeys(poll_ids.values(), 0)
    rows = await world.db.fetch_all("SELECT id, channel_id FROM polls")
    channels = {int(r[0]): int(r[1]) for r in rows}
    for request in world.emu.requests:
        if request.method != "POST" or not request.files:
            continue
        for poll_id in counts:
            if request.path.endswith(f"/channels/{channels.get(poll_id)}/messages"):
                counts[poll_id] += 1
    return counts


@pytest.mark.timeout(400)
async def test_two_processes_share_the_work_exactly_once(cluster: Cluster) -> None:
    world = cluster
    await start(world, 0)
    await start(world, 1)

    # Every command is answered, each by the process holding its community.
    for shard, guilds in world.shards.items():
        for guild in guilds:
            reply = await answered(world, guild, "about", {})
            assert "Version" in response_text(reply), (shard, response_text(reply))
    assert len(world.emu.command_syncs) == 1  # by the process running shard 0 only

    # On each shard: a poll closing in a minute, and the source followed (two subscriptions
    # through the command, the rest stored directly below: the announcing is under test, not
    # 120 commands).
    polls: dict[int, int] = {}
    for shard in (0, 1):
        guild = world.shards[shard][0]
        created = await answered(
            world,
            guild,
            "poll create",
            {"question": f"Shard {shard}?", "options": "yes | no", "duration": "1m"},
        )
        assert created.message is not None, response_text(created)
        polls[shard] = int(
            await world.db.fetch_value(
                "SELECT id FROM polls WHERE guild_id = ? ORDER BY id DESC LIMIT 1", (guild.id,)
            )
        )
        reply = await answered(
            world,
            guild,
            "releases follow",
            {"source": world.source, "channel": world.channels[guild.id][0]},
        )
        assert "Now following" in response_text(reply), response_text(reply)
    subscriptions = SubscriptionRepository(world.db)
    for guild_id, channels in world.channels.items():
        for channel in channels:
            await subscriptions.follow(
                guild_id, channel, world.source, mention_role=None, filter_text="", created_by=1
            )

    async def all_baselined() -> bool:
        left = await world.db.fetch_value(
            "SELECT COUNT(*) FROM release_subscriptions WHERE baselined = 0"
        )
        return int(left) == 0

    await world.emu.wait_for(all_baselined, timeout=60, what="every subscription's baseline")

    # A new item: announced once in every channel, whichever process leads.
    world.feeds.set_feed(FEED, atom_feed([feed_entry(n) for n in (1, 2, 3)]))
    total = len(world.all_channels())
    await world.emu.wait_for(
        lambda: sum(world.announced("Post 3").values()) >= total, timeout=60, what="post 3"
    )
    await world.cycle()
    assert set(world.announced("Post 3").values()) == {1}

    # kill -9 of the leader in the middle of the next fan-out.
    leader = world.leader()
    follower = 1 - leader
    world.feeds.set_feed(FEED, atom_feed([feed_entry(n) for n in (1, 2, 3, 4)]))
    await world.emu.wait_for(
        lambda: sum(world.announced("Post 4").values()) >= 1, timeout=60, what="post 4 to start"
    )
    await world.processes[leader].kill()
    at_kill = sum(world.announced("Post 4").values())
    assert at_kill < total, "the fan-out ended before the kill: more channels are needed"

    # The other process takes over and finishes: every channel shows post 4 exactly once.
    await world.emu.wait_for(
        lambda: LEADER_LINE in world.processes[follower].log_text(),
        timeout=30,
        what="the other process to lead",
    )
    await world.emu.wait_for(
        lambda: sum(world.announced("Post 4").values()) >= total, timeout=90, what="post 4"
    )
    await world.cycle()
    assert set(world.announced("Post 4").values()) == {1}
    assert set(world.announced("Post 3").values()) == {1}

    # The killed process comes back (its shard's communities have no process meanwhile) and
    # follows; each poll closes once, by the process holding its community.
    await start(world, leader)

    async def closed() -> bool:
        open_polls = await world.db.fetch_value(
            "SELECT COUNT(*) FROM polls WHERE closed_at IS NULL OR result_message_id IS NULL"
        )
        return int(open_polls) == 0

    await world.emu.wait_for(closed, timeout=120, what="both polls to close")
    assert await results_posted(world, polls) == {polls[0]: 1, polls[1]: 1}
    for shard in (0, 1):
        guild = world.shards[shard][0]
        reply = await answered(world, guild, "about", {})
        assert "Version" in response_text(reply)
