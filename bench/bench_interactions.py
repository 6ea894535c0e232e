"""Interactions through the local Discord emulator: ``python -m bench.bench_interactions``.

The real bot (every cog, real SQLite file, real discord.py) in-process, answering interactions
that the emulator dispatches over the gateway. On the same bot, in the same run:

* references: ``/bench-noop``, a slash command that only answers (``bench/noop_extension.py``),
  and a no-op button (a ``DynamicItem`` that only answers);
* a poll vote click: acknowledged after the vote's transaction committed (the coalesced tally
  edits follow in the background and are not waited for);
* ``/stance me``: deferred at once (ephemeral "thinking"), then the profile read from SQLite
  (the community holds 20,500 observations), computed in a worker thread, its chart rendered
  in the chart worker process, sent as a follow-up with the PNG. Both the acknowledgement and
  the complete answer are timed.

Latency is from the emulator dispatching the interaction to the emulator receiving the answer;
50 members act at once, round after round. The event loop's longest stall is measured per run
(bot and emulator share the loop here). The growth: the no-op button and the poll vote also
with 10 and 25 members at once (the same 400 clicks each).

Records ``vote_p50_ratio`` and ``vote_throughput_ratio`` (poll vote / no-op button, 50 at
once) and ``stance_me_p50_ratio`` (complete ``/stance me`` answer / ``/bench-noop``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import numpy as np

from bench import loopwatch, results
from bench.loopwatch import LoopWatch
from bot import client
from tests.harness import AgoraHarness

MEMBERS = 50  # acting at once
ROUNDS = 8  # rounds of the cheap interactions: 400 each
GROWTH = (10, 25)  # members at once for the growth rows (400 clicks each too)
STANCE_ROUNDS = 2  # rounds of /stance me (a chart each): 100
COMMUNITY = 2_000  # other members with a stance history
HISTORY = 10  # observations per member

#: (seconds to the first answer, seconds to the complete answer) of one interaction
Timing = tuple[float, float]
Action = Callable[[int, int], Awaitable[Timing]]


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


@dataclass
class Run:
    name: str
    count: int
    rate: float
    first: list[float]
    done: list[float]
    stall: float
    stall_gc: float


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(
    name: str, members: list[int], rounds: int, action: Action, watch: LoopWatch
) -> Run:
    (run,) = await interleaved([(name, action)], members, rounds, watch)
    return run


def collect_and_freeze() -> None:
    gc.collect()
    gc.freeze()


async def interleaved(
    actions: list[tuple[str, Action]], members: list[int], rounds: int, watch: LoopWatch
) -> list[Run]:
    """Round after round, each action in turn (so a change of load on a shared machine
    weighs on each alike); each action's rate is its clicks over its own rounds' time."""
    first: dict[str, list[float]] = {name: [] for name, _ in actions}
    done: dict[str, list[float]] = {name: [] for name, _ in actions}
    spent = dict.fromkeys(first, 0.0)
    # What exists now (mostly the emulator's record of every earlier request, which the bot
    # does not hold) is collected once and frozen, so these rounds' collector pauses are those
    # of their own allocations, as in the bot's process (bot/memory.py freezes its cache).
    await watch.exclude(collect_and_freeze)
    for round_number in range(rounds):
        for name, action in actions:
            started = time.perf_counter()
            batch = await asyncio.gather(*(action(m, round_number) for m in members))
            spent[name] += time.perf_counter() - started
            first[name].extend(t[0] for t in batch)
            done[name].extend(t[1] for t in batch)
            # The emulator keeps every request, interaction and message of the run (Discord
            # keeps them on its side, not in the bot's process): freeze what survived the
            # round, O(1), no collection, so a later full collection does not rescan it. The
            # bot's own survivors of a round are few (no message cache: no message events).
            gc.freeze()
    return [
        Run(
            name,
            len(done[name]),
            len(done[name]) / spent[name],
            first[name],
            done[name],
            watch.longest,
            watch.longest_gc,
        )
        for name, _ in actions
    ]


async def seed_stances(agora: AgoraHarness, members: list[int]) -> int:
    """A stance history for the bench members and 2,000 others, over the past year."""
    rng = np.random.default_rng(0)
    now = time.time()
    others = [10**17 + n for n in range(COMMUNITY)]
    rows = []
    for member in [*members, *others]:
        for at in np.sort(now - rng.uniform(0, 365 * 86_400, HISTORY)).tolist():
            rows.append((agora.guild.id, member, int(rng.integers(-2, 3)), "declared", at))
    assert agora.db is not None
    async with agora.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO stance_observations (guild_id, member_id, topic, value, source, "
            "observed_at) VALUES (?, ?, NULL, ?, ?, ?)",
            rows,
        )
    return len(rows)


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    extensions = client.cog_extensions()
    client.cog_extensions = lambda: [*extensions, "bench.noop_extension"]
    watch = LoopWatch()
    with tempfile.TemporaryDirectory() as folder:
        agora = AgoraHarness(Path(folder), validate_requests=False)  # no check in the timings
        await agora.start_emulator(guild_count=1)
        bot = await agora.start_bot()
        emu, guild = agora.emu, agora.guild.id
        try:
            bot.add_dynamic_items(NoopButton)
            view = discord.ui.View(timeout=None)
            view.add_item(NoopButton())
            channel = bot.get_partial_messageable(agora.guild.general_id, guild_id=guild)
            noop_message = (await channel.send("no-op", view=view)).id
            created = await agora.slash(
                "poll create", {"question": "Bench?", "options": "a | b | c | d"}
            )
            assert created.message is not None
            poll_message = int(created.message["id"])
            # agora:debates:vote:<poll>:<option>
            poll_id = created.message["components"][0]["components"][0]["custom_id"].split(":")[3]
            vote_ids = [f"agora:debates:vote:{poll_id}:{n}" for n in range(4)]
            members = [emu.add_member(guild, f"bench{n}") for n in range(MEMBERS)]
            observations = await seed_stances(agora, members)

            async def noop_command(member: int, _: int) -> Timing:
                started = time.perf_counter()
                interaction = await emu.slash(guild, member, "bench-noop")
                await interaction.response(timeout=60)
                took = time.perf_counter() - started
                return took, took

            async def noop_click(member: int, _: int) -> Timing:
                started = time.perf_counter()
                interaction = await emu.click(guild, member, noop_message, "bench:noop")
                await interaction.response(timeout=60)
                took = time.perf_counter() - started
                return took, took

            async def vote_click(member: int, round_number: int) -> Timing:
                custom_id = vote_ids[(member + round_number) % len(vote_ids)]
                started = time.perf_counter()
                interaction = await emu.click(guild, member, poll_message, custom_id)
                await interaction.response(timeout=60)
                took = time.perf_counter() - started
                return took, took

            async def stance_me(member: int, _: int) -> Timing:
                started = time.perf_counter()
                interaction = await emu.slash(guild, member, "stance me")
                await interaction.response(timeout=60)
                acknowledged = time.perf_counter() - started
                answer = await interaction.wait_followup(timeout=120)
                assert answer.get("attachments") or answer.get("embeds"), answer
                return acknowledged, time.perf_counter() - started

            watch.start()
            # Warm-up: first calls import lazily, spawn the chart worker, fill caches.
            await measure("warm-up", members[:10], 1, noop_command, watch)
            await measure("warm-up", members[:10], 1, noop_click, watch)
            await measure("warm-up", members[:10], 1, vote_click, watch)
            await measure("warm-up", members[:4], 1, stance_me, watch)
            loopwatch.forget_warm_up()
            command = await measure("/bench-noop (reference)", members, ROUNDS, noop_command, watch)
            # The vote and its reference, interleaved round by round: the ratios of one run.
            writer = bot.db.writer
            batches, writes = writer.batches, writer.writes
            button, vote = await interleaved(
                [("no-op button (reference)", noop_click), ("poll vote click", vote_click)],
                members,
                ROUNDS,
                watch,
            )
            per_batch = (writer.writes - writes) / max(writer.batches - batches, 1)
            runs = [
                command,
                button,
                vote,
                await measure("/stance me", members, STANCE_ROUNDS, stance_me, watch),
            ]
            growth = []
            for size in GROWTH:
                noop_run, vote_run = await interleaved(
                    [("no-op button", noop_click), ("poll vote click", vote_click)],
                    members[:size],
                    MEMBERS * ROUNDS // size,
                    watch,
                )
                growth.append((size, noop_run, vote_run))
            await watch.stop()
            votes = await bot.db.fetch_value(
                "SELECT count(DISTINCT member_id) FROM votes WHERE poll_id = ?", (int(poll_id),)
            )
            errors = agora.unexpected_errors()
        finally:
            await agora.close(check=False)  # errors are reported below

    print(
        f"{MEMBERS} members acting at once; {MEMBERS * ROUNDS} of each cheap interaction, "
        f"{MEMBERS * STANCE_ROUNDS} /stance me ({observations:,} observations in the community)"
    )
    print(
        f"{'interaction':<26} {'n':>4} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'loop stall ms':>14} {'of it GC ms':>12}"
    )
    for run in runs:
        print(
            f"{run.name:<26} {run.count:>4} {run.rate:>7.0f} "
            f"{percentile(run.done, 0.5) * 1000:>8.1f} {percentile(run.done, 0.99) * 1000:>8.1f} "
            f"{run.stall * 1000:>14.1f} {run.stall_gc * 1000:>12.1f}"
        )
    me = runs[3]
    print(
        f"{'  /stance me: first answer':<26} {'':>4} {'':>7} "
        f"{percentile(me.first, 0.5) * 1000:>8.1f} {percentile(me.first, 0.99) * 1000:>8.1f}"
        "   (the deferral, within Discord's 3 s)"
    )
    print(
        "loop stall: the longest the shared loop (bot and emulator) was late; 'of it GC': the "
        "longest garbage-collector pause in the same run (a full collection stops the process)"
    )
    for run, reference in ((runs[2], button), (runs[3], command)):
        print(
            f"ratio {run.name} / {reference.name.split(' (')[0]}: "
            f"throughput {run.rate / reference.rate:.3f}x · "
            f"p50 {percentile(run.done, 0.5) / percentile(reference.done, 0.5):.1f}x · "
            f"p99 {percentile(run.done, 0.99) / percentile(reference.done, 0.99):.1f}x"
        )
    print("growth: poll vote click / no-op button by members acting at once")
    print(
        f"{'at once':>8} {'no-op p50 ms':>13} {'vote p50 ms':>12} {'p50 ratio':>10} {'rate ratio':>11}"
    )
    for size, noop, vote in [*growth, (MEMBERS, button, runs[2])]:
        noop_p50, vote_p50 = percentile(noop.done, 0.5), percentile(vote.done, 0.5)
        print(
            f"{size:>8} {noop_p50 * 1000:>13.1f} {vote_p50 * 1000:>12.1f} "
            f"{vote_p50 / noop_p50:>9.2f}x {vote.rate / noop.rate:>10.2f}x"
        )
    print(f"votes per committed batch (50 at once): {per_batch:.1f}")
    print(f"members holding a vote at the end: {votes} of {MEMBERS}")
    results.record(
        vote_p50_ratio=round(percentile(runs[2].done, 0.5) / percentile(button.done, 0.5), 3),
        vote_throughput_ratio=round(runs[2].rate / button.rate, 3),
        stance_me_p50_ratio=round(percentile(me.done, 0.5) / percentile(command.done, 0.5), 1),
    )
    if errors:
        print(f"ERROR records logged by the bot: {errors[:3]}")
        raise SystemExit(1)


if __name__ == "__main__":
    asyncio.run(main())
