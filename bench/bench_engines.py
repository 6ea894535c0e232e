"""SQLite and PostgreSQL side by side: ``python -m bench.bench_engines``.

The same code on both engines, in one run (so the ratio holds on a shared machine):

* votes: ``PollRepository.vote`` (the batch writer), one voter at a time and 50 at once, on a
  fresh SQLite file and on a fresh PostgreSQL database of its own (127.0.0.1:5432, dropped
  after); votes per second and PostgreSQL / SQLite;
* the radar: ``bench.bench_radar`` run in a child process on each engine with 2,500
  communities (3,125 subscriptions, the last cycle announcing to every one): the outbox drain's
  announcements per second and CPU per announcement, PostgreSQL / SQLite.

Records ``engines`` in ``bench/results.json``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from bench import loopwatch, results
from bench.bench_storage import repository_votes
from tests.engines import create_target, drop_target

ENGINES = ("sqlite", "postgresql")
VOTERS = (1, 50)
RADAR_COMMUNITIES = 2_500
# Its stalls are printed here, not recorded in issue 9's `loop_stall_ms` (the SQLite bot's).
loopwatch.RECORD["enabled"] = False


async def votes(engine: str, voters: int, folder: Path) -> float:
    target = await create_target(engine, folder, migrated=False)
    try:
        rate, stall = await repository_votes(target, voters)
        print(f"  {engine}, {voters} at once: loop stall {stall}")
    finally:
        await drop_target(target)
    return rate


async def main() -> None:
    rates: dict[tuple[str, int], float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for voters in VOTERS:
            for n, engine in enumerate(ENGINES):
                rates[engine, voters] = await votes(engine, voters, Path(folder) / f"{voters}-{n}")
    print("PollRepository.vote, votes per second (a fresh database each, 5,000 votes):")
    figures: dict[str, float] = {}
    for voters in VOTERS:
        sqlite, postgres = rates["sqlite", voters], rates["postgresql", voters]
        print(
            f"  {voters:>2} at once: SQLite {sqlite:>8,.0f}/s, PostgreSQL {postgres:>8,.0f}/s, "
            f"PostgreSQL / SQLite {postgres / sqlite:.2f}x"
        )
        figures[f"vote_{voters}_pg_over_sqlite"] = round(postgres / sqlite, 3)
    for engine in ENGINES:
        print(f"\nradar on {engine}, {RADAR_COMMUNITIES:,} communities:", flush=True)
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.bench_radar",
            f"--engine={engine}", f"--communities={RADAR_COMMUNITIES}",
        )  # fmt: skip
        if await child.wait():
            raise SystemExit(f"bench.bench_radar --engine={engine} failed")
    radar = results.load()["radar_engines"]
    sqlite, postgres = radar["sqlite"], radar["postgresql"]
    rate = postgres["drain_per_second"] / sqlite["drain_per_second"]
    cpu = postgres["drain_ms_cpu_each"] / sqlite["drain_ms_cpu_each"]
    print(
        f"\nradar fan-out of {postgres['announcements']:,} announcements: PostgreSQL / SQLite "
        f"rate {rate:.2f}x, bot CPU per announcement {cpu:.2f}x"
    )
    figures.update(radar_rate_pg_over_sqlite=round(rate, 3), radar_cpu_pg_over_sqlite=round(cpu, 3))
    results.record(engines=figures)


if __name__ == "__main__":
    asyncio.run(main())
