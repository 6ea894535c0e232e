"""Footprint: time from gateway READY to serving commands, and resident memory, with 100,
1,000 and 10,000 communities in the database and in GUILD_CREATE (the growth). The bot runs as
a real process against the local emulator (`python -m bench._watched_bot`: the bot's own entry
point plus an event-loop watchdog inside the bot process, whose longest stall and longest
garbage-collector pause are reported); the reference is the same bot with 1 community, in the
same run. The emulator-side stall (this process) is reported too.

The largest size runs twice: with the bot's collector tuning and cache freezing
(`bot/memory.py`, as shipped) and without (`AGORA_BENCH_GC=default`: CPython's defaults), so
their effect is measured in the same run. Records `rss_10k_mib`.

    .venv/bin/python -m bench.bench_footprint [largest]
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import results
from bench.loopwatch import LoopWatch
from tests.emulator import DiscordEmulator
from tests.harness import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[1]
SHARD_SIZE = 1_000  # communities per shard, as Discord recommends


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ms(stall: float, gc: float) -> str:
    return f"{stall * 1000:.0f} ms (GC {gc * 1000:.0f})"


def seed_database(path: Path, communities: list[int]) -> None:
    env = {**os.environ, "AGORA_DATABASE": str(path), "DISCORD_TOKEN": TEST_TOKEN}
    import subprocess

    subprocess.run([sys.executable, "-m", "bot", "migrate"], env=env, check=True, cwd=ROOT)
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT OR IGNORE INTO guilds (guild_id, joined_at) VALUES (?, '2026-01-01T00:00:00')",
            [(g,) for g in communities],
        )


Figures = tuple[float, float, float, float, dict[str, Any]]


async def measure(count: int, workdir: Path, *, tuned: bool = True) -> Figures:
    # The shard count Discord recommends (GET /gateway/bot): about one per 1,000 communities.
    # One shard for 10,000 would parse a READY of 10,000 communities in one go (about 0.2 s
    # of the loop in discord.py); a shard of 2,500 (Discord's maximum), about 60-90 ms.
    emu = DiscordEmulator(shard_count=-(-count // SHARD_SIZE))
    await emu.start()
    guilds = [emu.add_guild(f"community {n}") for n in range(count)]
    # /about is asked in a community of the first shard (the others connect 5 s apart).
    first = next(g for g in guilds if (g.id >> 22) % emu.shard_count == 0)
    member = emu.add_member(first.id, "member")
    name = f"{count}-{'tuned' if tuned else 'default'}"
    db = workdir / f"footprint-{name}.db"
    seed_database(db, [g.id for g in guilds])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "AGORA_"))}
    env.update(
        DISCORD_TOKEN=TEST_TOKEN,
        AGORA_DATABASE=str(db),
        DISCORD_API_BASE=emu.api_base,
        DISCORD_GATEWAY_URL=emu.gateway_url,
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        AGORA_BENCH_STALL_FILE=str(workdir / f"stall-{name}.json"),
    )
    if not tuned:
        env["AGORA_BENCH_GC"] = "default"
    watch = LoopWatch(record=False)  # the emulator's loop: reported, not the bot's figure
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench._watched_bot", env=env, cwd=workdir
    )
    try:
        await emu.wait_for(lambda: emu.identify_count >= 1, timeout=120)
        ready_at = time.perf_counter()
        watch.start()
        while True:
            try:  # fails until the shard of the community is connected and serving
                interaction = await emu.slash(first.id, member, "about")
                await interaction.response(timeout=2)
                break
            except Exception:
                await asyncio.sleep(0.05)
        serving = time.perf_counter() - ready_at
        # Every IDENTIFY after the first waits 5 s (discord.py): 45 s for 10 shards.
        await emu.wait_for(lambda: emu.identify_count >= emu.shard_count, timeout=300)
        await asyncio.sleep(3)  # let every GUILD_CREATE settle before reading memory
        memory = rss_mib(process.pid)
        longest = await watch.stop()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await emu.stop()
    stall = json.loads((workdir / f"stall-{name}.json").read_text())
    return serving, memory, longest, db.stat().st_size / 2**20, stall


async def main() -> None:
    largest = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    sizes = [1, largest // 100, largest // 10, largest]
    runs: list[tuple[str, Figures]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in sizes:
            runs.append((f"{count:,}", await measure(count, Path(tmp))))
        runs.append((f"{largest:,} (gc default)", await measure(largest, Path(tmp), tuned=False)))
    print(
        f"{'communities':>22} {'READY->serving s':>17} {'RSS MiB':>8} {'DB MiB':>7} "
        f"{'bot stall: setup_hook':>21} {'gateway session':>18} {'emulator stall':>15}"
    )
    for label, (serving, memory, longest, size, stall) in runs:
        startup = stall["startup"]
        print(
            f"{label:>22} {serving:>17.3f} {memory:>8.1f} {size:>7.1f} "
            f"{ms(startup['longest'], startup['gc']):>21} {ms(stall['longest'], stall['gc']):>18} "
            f"{longest * 1000:>12.1f} ms"
        )
    base = runs[0][1][1]
    for label, figures in runs[1:4]:
        count = int(label.replace(",", ""))
        per = (figures[1] - base) * 1024 / max(count - 1, 1)
        print(f"memory per community at {label}: {per:.1f} KiB")
    print(
        "bot stall: the longest the bot process's event loop was late (and, in brackets, its "
        "longest garbage-collector pause), during setup_hook (migrations, extensions loaded, "
        "command sync) and during the gateway session up to SIGTERM (READY, every "
        "GUILD_CREATE, the first command, 3 s idle); 'gc default': the same bot without "
        "bot/memory.py's collector tuning and cache freezing (the 'before')"
    )
    if largest == 10_000:
        results.record(rss_10k_mib=round(runs[3][1][1], 1))


if __name__ == "__main__":
    asyncio.run(main())
