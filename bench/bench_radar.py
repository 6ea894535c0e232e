"""One release radar cycle with 10,000 communities and 50 sources: ``python -m bench.bench_radar``.

The bot (every cog, real SQLite file, real discord.py) runs in this process; the emulator with
10,000 communities, a fake Hugging Face Hub (10 organisations) and a feed host (20 GitHub
``releases.atom`` and 20 plain Atom feeds) run in a child process (``bench/_radar_servers.py``),
so ``time.process_time()`` here is the bot's CPU time alone (its worker threads included).

Subscriptions are written with ``SubscriptionRepository.follow``: community i follows source i mod 50,
and every 4th community also follows source (i + 25) mod 50: 12,500 subscriptions, 250 per
source. A first cycle records the baselines (it announces nothing). Then three measured cycles,
where 1, 5 and then all 50 sources publish one release (250 / 1,250 / 12,500 announcements):
one fetch per source (counted at the fake servers: it must equal the number of sources), one
queued announcement per subscription, then the outbox drained: each announcement (embed,
buttons, deterministic nonce) handed to discord.py, posted to the emulator and recorded. The
late heartbeat ACK warnings of discord.py are counted during each cycle.

Records ``radar_cpu_ratio`` (drain CPU per announcement / CPU per plain send, at 12,500) and
``radar_late_heartbeats`` (during that fan-out). ``--message-events`` runs the bot with the
guild messages intent Agora no longer asks for, to measure what it cost (records nothing).

Reference, same run, same bot: plain ``channel.send("text")`` calls, one after another, into
the same kind of channels: what discord.py and the emulator cost per message without the radar.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import discord

from bench import loopwatch, results
from bench.loopwatch import LoopWatch
from bot.client import AgoraBot, agora_intents, redirect_discord
from bot.database import Database
from bot.repositories.release_subscriptions import SubscriptionRepository
from bot.settings import Settings
from tests.engines import create_target, drop_target
from tests.harness import TEST_TOKEN
from tests.releases.helpers import radar_of


def _option(name: str, default: str) -> str:
    """``--name=value`` from the command line (``bench.bench_engines`` runs this module with
    ``--engine`` and ``--communities``)."""
    prefix = f"--{name}="
    return next((a.removeprefix(prefix) for a in sys.argv if a.startswith(prefix)), default)


COMMUNITIES = int(_option("communities", "10000"))
#: `--engine=postgresql`: the same cycle on a PostgreSQL database of its own (dropped after).
ENGINE = _option("engine", "sqlite")
#: The issue's figures are those of the full run: SQLite, 10,000 communities.
RECORDS_ISSUE_FIGURES = ENGINE == "sqlite" and COMMUNITIES == 10_000
# The engine comparison's stalls are kept beside its figures (`radar_engines`), not in
# issue 9's `loop_stall_ms`, whose benchmarks are those of the SQLite bot.
loopwatch.RECORD["enabled"] = RECORDS_ISSUE_FIGURES
HF, GITHUB, FEEDS = 10, 20, 20
REFERENCE_SENDS = 1_000
#: Sources that publish one release in each measured cycle: 250 subscriptions each, so
#: 250 / 1,250 / 12,500 announcements (the last: every source).
SIZES = (1, 5, 50)
#: `--message-events`: run with the guild messages intent Agora dropped, to measure its cost.
MESSAGE_EVENTS = "--message-events" in sys.argv


class GatewayLag(logging.Handler):
    """Collects discord.py's "Can't keep up ... websocket is N s behind" warnings: the
    heartbeat ACK arrived N seconds after the heartbeat, behind the gateway events queued
    before it (the bot reads its own posts back as MESSAGE_CREATE events)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.worst = 0.0
        self.count = 0

    def reset(self) -> None:
        self.worst, self.count = 0.0, 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "Can't keep up, shard ID %s websocket is %.1fs behind.":
            self.count += 1
            assert isinstance(record.args, tuple)
            behind = record.args[1]
            assert isinstance(behind, int | float)
            self.worst = max(self.worst, float(behind))


class Servers:
    """The child process and its one-line JSON protocol."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls) -> tuple[Servers, dict[str, Any]]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench._radar_servers",
            f"--communities={COMMUNITIES}",
            f"--hf={HF}",
            f"--github={GITHUB}",
            f"--feeds={FEEDS}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,
        )
        servers = cls(process)
        return servers, await servers._read()

    async def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout=300)
        if not line:
            raise RuntimeError("the radar servers process ended")
        result: dict[str, Any] = json.loads(line)
        return result

    async def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{command}\n".encode())
        await self.process.stdin.drain()
        return await self._read()

    async def requests(self) -> tuple[int, int]:
        counts = await self.ask("counts")
        return counts["hub_requests"] + counts["feed_requests"], counts["posted"]

    async def dispatched(self) -> int:
        """Gateway events the emulator sent the bot so far."""
        return int((await self.ask("counts"))["dispatched"])

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(Exception):
                assert self.process.stdin is not None
                self.process.stdin.write(b"quit\n")
                await self.process.stdin.drain()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def follow_all(db: Database, channels: list[list[int]], sources: list[str]) -> int:
    repo = SubscriptionRepository(db)
    count = 0
    for i, (guild_id, channel_id) in enumerate(channels):
        chosen = [sources[i % len(sources)]]
        if i % 4 == 0:
            chosen.append(sources[(i + len(sources) // 2) % len(sources)])
        for key in chosen:
            await repo.follow(
                guild_id, channel_id, key, mention_role=None, filter_text="", created_by=1
            )
            count += 1
    return count


async def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    lag = GatewayLag()
    gateway_log = logging.getLogger("discord.gateway")
    gateway_log.setLevel(logging.WARNING)  # let the lag warnings through, to count them
    gateway_log.propagate = False
    gateway_log.addHandler(lag)
    watch = LoopWatch()
    servers, world = await Servers.start()
    bot: AgoraBot | None = None
    task: asyncio.Task[None] | None = None
    try:
        with tempfile.TemporaryDirectory() as folder:
            target = await create_target(ENGINE, Path(folder), migrated=False)
            db = await Database.open(target)
            await db.migrate()
            started = time.perf_counter()
            subscriptions = await follow_all(db, world["channels"], world["sources"])
            print(
                f"{subscriptions:,} subscriptions of {COMMUNITIES:,} communities to "
                f"{len(world['sources'])} sources ({HF} Hub organisations, {GITHUB} GitHub "
                f"repositories, {FEEDS} Atom feeds), written with SubscriptionRepository.follow in "
                f"{time.perf_counter() - started:.1f} s"
            )
            redirect_discord(world["api_base"], world["gateway_url"])
            settings = Settings(
                _env_file=None,
                discord_token=TEST_TOKEN,
                agora_database=target,
                discord_api_base=world["api_base"],
                discord_gateway_url=world["gateway_url"],
                agora_allow_private_urls=True,
                hf_endpoint=world["hub_url"],
                agora_github_base=world["feeds_url"],
                agora_release_poll_seconds=3600,
            )
            options: dict[str, Any] = {}
            if MESSAGE_EVENTS:  # the intents before issue 9: the bot reads its posts back
                intents = agora_intents()
                intents.guild_messages = True
                options["intents"] = intents
            bot = AgoraBot(settings, db, guild_ready_timeout=0.5, **options)
            task = asyncio.create_task(bot.start(TEST_TOKEN))
            started = time.perf_counter()
            await asyncio.wait_for(bot.wait_until_ready(), timeout=300)
            for _ in range(3000):  # every GUILD_CREATE handled (guild rows, channel cache)
                guild_rows = await db.fetch_value("SELECT count(*) FROM guilds")
                last = world["channels"][-1][1]
                if guild_rows >= COMMUNITIES and bot.get_channel(last) is not None:
                    break
                await asyncio.sleep(0.1)
            print(
                f"bot ready with {len(bot.guilds):,} communities in "
                f"{time.perf_counter() - started:.1f} s"
            )
            radar = radar_of(bot)
            drain: dict[str, float] = {}
            original_drain = radar._drain_unlocked

            async def timed_drain() -> int:
                wall, cpu = time.perf_counter(), time.process_time()
                posted = await original_drain()
                drain["wall"] = time.perf_counter() - wall
                drain["cpu"] = time.process_time() - cpu
                return posted

            setattr(radar, "_drain_unlocked", timed_drain)  # noqa: B010
            watch.start()

            rows = []
            for size in (0, *SIZES):
                label = (
                    "baseline cycle"
                    if not size
                    else f"cycle with 1 new release on {size} source(s) of {len(world['sources'])}"
                )
                if size:
                    await servers.ask(f"publish {size}")
                requests_before, posted_before = await servers.requests()
                events_before = await servers.dispatched()
                watch.reset()
                lag.reset()
                wall, cpu = time.perf_counter(), time.process_time()
                report = await radar.run_cycle_once()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                stall = watch.describe()
                # Let the heartbeat ACKs queued behind the fan-out arrive before counting.
                await asyncio.sleep(bot.latency + 1)
                requests_after, posted_after = await servers.requests()
                events = await servers.dispatched() - events_before
                rows.append(
                    (
                        label,
                        requests_after - requests_before,
                        report,
                        wall,
                        cpu,
                        dict(drain),
                        posted_after - posted_before,
                        stall,
                        (lag.count, lag.worst),
                        events,
                    )
                )

            # Reference: bare sends through the same discord.py client and emulator.
            _, posted_before = await servers.requests()
            watch.reset()
            targets = []
            for guild_id, channel_id in world["channels"][:REFERENCE_SENDS]:
                guild = bot.get_guild(guild_id)
                channel = guild.get_channel(channel_id) if guild is not None else None
                assert isinstance(channel, discord.TextChannel)
                targets.append(channel)  # looked up before timing: the send alone is measured
            wall, cpu = time.perf_counter(), time.process_time()
            for channel in targets:
                await channel.send("reference message")
            ref_wall, ref_cpu = time.perf_counter() - wall, time.process_time() - cpu
            ref_stall = watch.describe()
            _, posted_after = await servers.requests()
            assert posted_after - posted_before == REFERENCE_SENDS
            await watch.stop()
            await bot.close()
            await asyncio.wait_for(task, timeout=60)
            await db.close()
            await drop_target(target)
    finally:
        if bot is not None and not bot.is_closed():
            await bot.close()
        if task is not None and not task.done():
            task.cancel()
        await servers.stop()

    sources = len(world["sources"])
    growth = []
    for label, requests, report, wall, cpu, timing, posted, stall, late, events in rows:
        print(f"{label}:")
        print(
            f"  requests to the sources: {requests} for {sources} sources "
            f"({'one each' if requests == sources else 'MISMATCH'}); fetched {len(report.fetched)}, "
            f"failed {len(report.failed)}"
        )
        print(
            f"  queued {report.queued:,}, posted {report.posted:,} (the emulator received "
            f"{posted:,}); wall {wall:.2f} s, CPU {cpu:.2f} s; loop stall {stall}; "
            f"late heartbeat ACKs {late[0]} (worst {late[1]:.1f} s); gateway events received "
            f"{events:,}"
        )
        if report.posted:
            fetch_wall, fetch_cpu = wall - timing["wall"], cpu - timing["cpu"]
            each = timing["cpu"] / report.posted * 1000
            growth.append((report.posted, each))
            print(
                f"  fetch + queue: wall {fetch_wall:.2f} s, CPU {fetch_cpu:.2f} s · outbox drain: "
                f"wall {timing['wall']:.2f} s, CPU {timing['cpu']:.2f} s"
            )
            print(
                f"  announcements handed to discord.py and recorded: "
                f"{report.posted / timing['wall']:,.0f}/s, {each:.2f} ms CPU each"
            )
    fan_out = rows[-1]
    ref_each = ref_cpu / REFERENCE_SENDS * 1000
    print(
        f"reference, plain channel.send('text') x {REFERENCE_SENDS:,}: "
        f"{REFERENCE_SENDS / ref_wall:,.0f}/s, {ref_each:.2f} ms CPU each; "
        f"loop stall {ref_stall}"
    )
    print("growth, CPU per announcement (the drain) / plain send:")
    for count, each in growth:
        print(f"  {count:>6,} announcements: {each:.2f} ms each, {each / ref_each:.2f}x")
    late_count, late_worst = fan_out[8]
    if not late_count:
        print(
            f"gateway: during the fan-out of {fan_out[2].posted:,} announcements the heartbeat "
            "ACK never came more than 10 s late"
        )
    else:
        print(
            f"gateway: during the fan-out discord.py warned {late_count}x that the heartbeat ACK "
            f"came late, worst {late_worst:.1f} s (gateway events queued before it)"
        )
    rate = fan_out[2].posted / fan_out[5]["wall"]
    cpu_ratio = fan_out[5]["cpu"] / fan_out[2].posted * 1000 / ref_each
    print(
        f"ratio announcements / plain sends ({fan_out[2].posted:,} announcements): rate "
        f"{rate / (REFERENCE_SENDS / ref_wall):.2f}x, CPU per message {cpu_ratio:.2f}x"
        + (" (with the guild messages intent)" if MESSAGE_EVENTS else "")
    )
    if MESSAGE_EVENTS:
        return
    if RECORDS_ISSUE_FIGURES:
        results.record(radar_cpu_ratio=round(cpu_ratio, 2), radar_late_heartbeats=late_count)
    engines = dict(results.load().get("radar_engines") or {})
    engines[ENGINE] = {
        "communities": COMMUNITIES,
        "announcements": fan_out[2].posted,
        "drain_ms_cpu_each": round(fan_out[5]["cpu"] / fan_out[2].posted * 1000, 3),
        "drain_per_second": round(rate),
        "cpu_ratio": round(cpu_ratio, 2),
        "loop_stall_ms": round(loopwatch.WORST["stall"] * 1000, 1),
    }
    results.record(radar_engines=engines)


if __name__ == "__main__":
    asyncio.run(main())
