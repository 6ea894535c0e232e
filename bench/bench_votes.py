"""Vote clicks through the local Discord emulator: ``python -m bench.bench_votes``.

The real bot (real SQLite file, real discord.py) answers button clicks sent by the emulator.
Two buttons on the same bot, in the same run: a poll option (a committed vote, acknowledged
after the commit, plus the coalesced tally edits) and a no-op button that only answers. For
each: clicks per second with 50 members clicking at once, and the p50 / p99 latency from the
click's dispatch to the bot's acknowledgement. The ratio vote / no-op is the figure: what a
vote costs over the bare round trip.
"""

from __future__ import annotations

import asyncio
import logging
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import discord

from tests.harness import AgoraHarness

MEMBERS = 50
ROUNDS = 8


class NoopButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"bench:noop"):
    def __init__(self) -> None:
        super().__init__(discord.ui.Button(label="noop", custom_id="bench:noop"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> NoopButton:
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok", ephemeral=True)


async def timed_click(agora: AgoraHarness, member: int, message_id: int, custom_id: str) -> float:
    started = time.perf_counter()
    interaction = await agora.emu.click(agora.guild.id, member, message_id, custom_id)
    await interaction.response(timeout=30)
    return time.perf_counter() - started


async def run(
    agora: AgoraHarness, members: list[int], message_id: int, ids: list[str]
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    started = time.perf_counter()
    for round_number in range(ROUNDS):
        batch = await asyncio.gather(
            *(
                timed_click(agora, m, message_id, ids[(n + round_number) % len(ids)])
                for n, m in enumerate(members)
            )
        )
        latencies.extend(batch)
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        agora = AgoraHarness(Path(folder))
        await agora.start_emulator(guild_count=1)
        bot = await agora.start_bot()
        try:
            bot.add_dynamic_items(NoopButton)
            view = discord.ui.View(timeout=None)
            view.add_item(NoopButton())
            channel = bot.get_partial_messageable(agora.guild.general_id, guild_id=agora.guild.id)
            noop_message = await channel.send("no-op", view=view)
            created = await agora.slash(
                "poll create", {"question": "Bench?", "options": "a | b | c | d"}
            )
            assert created.message is not None
            poll_message = int(created.message["id"])
            poll_id = created.message["components"][0]["components"][0]["custom_id"].split(":")[2]
            vote_ids = [f"agora:pv:{poll_id}:{n}" for n in range(4)]
            members = [agora.emu.add_member(agora.guild.id, f"bench{n}") for n in range(MEMBERS)]
            await run(agora, members[:10], noop_message.id, ["bench:noop"])  # warm-up
            await run(agora, members[:10], poll_message, vote_ids)
            noop_rate, noop_lat = await run(agora, members, noop_message.id, ["bench:noop"])
            vote_rate, vote_lat = await run(agora, members, poll_message, vote_ids)
            votes = await bot.db.fetch_value(
                "SELECT count(DISTINCT member_id) FROM votes WHERE poll_id = ?", (int(poll_id),)
            )
        finally:
            await agora.close()
    clicks = MEMBERS * ROUNDS
    print(f"{clicks} clicks each, {MEMBERS} members clicking at once, {ROUNDS} rounds")
    for name, rate, lat in (("no-op button", noop_rate, noop_lat), ("vote", vote_rate, vote_lat)):
        print(
            f"{name:>12}: {rate:7.0f} clicks/s · p50 {percentile(lat, 0.5) * 1000:6.1f} ms · "
            f"p99 {percentile(lat, 0.99) * 1000:6.1f} ms · mean {statistics.mean(lat) * 1000:6.1f} ms"
        )
    print(
        f"ratio vote / no-op: throughput {vote_rate / noop_rate:.2f}× · "
        f"p50 latency {percentile(vote_lat, 0.5) / percentile(noop_lat, 0.5):.2f}× · "
        f"p99 latency {percentile(vote_lat, 0.99) / percentile(noop_lat, 0.99):.2f}×"
    )
    print(f"members holding a vote at the end: {votes}")


if __name__ == "__main__":
    asyncio.run(main())
