"""`/stance community` and `/stance map` at scale, on a real database file.

    .venv/bin/python -m bench.bench_stances

* community, at three sizes (10,000 / 100,000 / 1,000,000 observations of 500 / 5,000 / 50,000
  members over two years, plus a twentieth as many rows of another community and of a topic, so
  the indexes have to pick): the observations are bulk-loaded into a database at schema 0008,
  then migration 0009 fills the analytics tables (its time is printed: the upgrade's cost); then
  the query (per-day changes, oldest observation, members known), the compute (summary, trend),
  and the whole answer as the bot gives it (``StanceService.community``: query, compute, chart),
  for the periods 30d and all; and one more observation recorded through the repository (the
  write path, aggregates included). Records ``community_query_ms`` and ``community_total_ms``
  (1,000,000 observations, 30d);
* map: 2,000 members × 200 statements, 70 % of the votes cast (280,000 rows): query (the
  matrix, one row per member), compute (PCA, k-means, silhouette), render.

The event loop's longest stall while each command's work runs is reported too (it must stay
under 50 ms: every heavy step runs in a worker thread).
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np

from bench import results
from bench.loopwatch import LoopWatch
from bot.charts import ChartWorker
from bot.database import Database, bundled_migrations
from bot.features import FeatureRegistry
from bot.lifecycle import Lifecycle
from bot.repositories.guilds import GuildRepository
from bot.repositories.observations import ObservationRepository
from bot.repositories.stances import StanceRepository
from bot.stance_scale import Stance
from bot.stances.charts import render_community_chart
from bot.stances.community import DailyChanges, community_picture
from bot.stances.map_chart import render_opinion_map
from bot.stances.opinion_map import build_opinion_map
from cogs.stances.service import StanceService

T = TypeVar("T")
GUILD, OTHER = 1, 2
#: (observations, members) of the community, smallest first; the last is the target's size.
SIZES = ((10_000, 500), (100_000, 5_000), (1_000_000, 50_000))
MAP_MEMBERS, STATEMENTS = 2_000, 200
TOPIC = "open-weights-build-trust"


def fill_observations(path: Path, now: float, count: int, members: int) -> None:
    """Bulk-load the observations with plain sqlite3 (the bot's own writes go one by one)."""
    rng = np.random.default_rng(0)
    conn = sqlite3.connect(path)
    with conn:
        for guild, rows, topic in ((GUILD, count, None), (OTHER, count // 20, None)):
            ids = rng.integers(10**17, 10**17 + members, rows)
            values = rng.integers(-2, 3, rows)
            times = np.sort(now - rng.uniform(0, 2 * 365 * 86_400, rows))
            conn.executemany(
                "INSERT INTO stance_observations (guild_id, member_id, topic, value, source, "
                "observed_at) VALUES (?, ?, ?, ?, 'declared', ?)",
                zip(
                    [guild] * rows,
                    ids.tolist(),
                    [topic] * rows,
                    values.tolist(),
                    times.tolist(),
                    strict=True,
                ),
            )
        conn.executemany(
            "INSERT INTO stance_observations (guild_id, member_id, topic, value, source, "
            "observed_at) VALUES (?, ?, ?, ?, 'declared', ?)",
            ((GUILD, 10**17 + i % members, TOPIC, i % 5 - 2, now - i) for i in range(count // 20)),
        )
    conn.close()


def fill_votes(path: Path, now: float) -> None:
    """The map's statements and ~70 % of the 2,000 × 200 votes, in three camps."""
    rng = np.random.default_rng(0)
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO stance_statements (id, guild_id, number, author_id, text, created_at) "
            "VALUES (?, ?, ?, 1, ?, ?)",
            ((n, GUILD, n, f"Statement number {n} on openness.", now) for n in range(1, 201)),
        )
        camps = rng.integers(0, 3, MAP_MEMBERS)
        leaning = rng.choice([-1, 0, 1], size=(3, STATEMENTS))
        rows = []
        for m in range(MAP_MEMBERS):
            for s in range(STATEMENTS):
                if rng.random() < 0.7:
                    vote = leaning[camps[m], s] if rng.random() < 0.8 else rng.integers(-1, 2)
                    rows.append((s + 1, GUILD, 10**17 + m, int(vote), now))
        conn.executemany(
            "INSERT INTO stance_statement_votes (statement_id, guild_id, member_id, value, "
            "voted_at) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    conn.close()


WATCH = LoopWatch()
WORST = [0.0, 0.0]


async def timed(label: str, action: Callable[[], Awaitable[T]], runs: int = 3) -> tuple[T, float]:
    """Best of `runs` (the result and seconds), and the event loop's longest stall meanwhile."""
    best, result = float("inf"), None
    WATCH.reset()
    for _ in range(runs):
        started = time.perf_counter()
        result = await action()
        best = min(best, time.perf_counter() - started)
    WORST[0] = max(WORST[0], WATCH.longest)
    WORST[1] = max(WORST[1], WATCH.longest_gc)
    print(f"  {label:<48} {best * 1000:8.1f} ms   (loop stall {WATCH.describe()})")
    assert result is not None
    return result, best


async def upgraded_database(path: Path, now: float, count: int, members: int) -> Database:
    """A database at schema 0008 holding the observations, upgraded by migration 0009."""
    db = await Database.open(path)
    await db.migrate([m for m in bundled_migrations() if m.version < 9])
    started = time.perf_counter()
    await asyncio.to_thread(fill_observations, path, now, count, members)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    await db.migrate()
    size = await db.size_bytes()
    print(
        f"loaded {count:,} observations of {members:,} members in {loaded:.1f} s "
        f"({size / 2**20:.0f} MiB); migration 0009 filled the analytics "
        f"tables in {time.perf_counter() - started:.1f} s"
    )
    return db


async def community(
    db: Database, renderer: ChartWorker, count: int, members: int, now: datetime
) -> tuple[float, float]:
    """`/stance community` at one size; returns (query, whole answer) seconds for 30d."""
    print(f"/stance community: {count:,} observations, {members:,} members")
    observations, stances, guilds = (
        ObservationRepository(db),
        StanceRepository(db),
        GuildRepository(db),
    )
    service = StanceService(
        stances, observations, guilds, renderer, Lifecycle(db, FeatureRegistry(), guilds, list)
    )

    async def query() -> tuple[DailyChanges, int]:
        return await stances.daily_changes(GUILD, None), await stances.known_members(GUILD)

    (daily, known), query_s = await timed("query (daily changes, members known)", query)
    figures = {}
    for period in ("30d", "all"):
        picture, _ = await timed(
            f"compute: summary + trend {period}",
            partial(asyncio.to_thread, community_picture, daily, known, period, now),
        )
        await timed(
            f"render: chart {period} (worker process)",
            partial(
                renderer.render,
                render_community_chart,
                picture.summary.buckets,
                picture.chart_trend,
            ),
        )
        _, figures[period] = await timed(
            f"whole answer {period} (query, compute, chart)",
            partial(service.community, GUILD, members, None, period),
        )
    await timed(
        "record one observation (aggregates included)",
        partial(observations.record, GUILD, 10**17, Stance.LEAN_SHARE, "declared"),
    )
    return query_s, figures["30d"]


async def opinion_map(db: Database, renderer: ChartWorker, now: float) -> None:
    assert db.path is not None  # a SQLite file (the benchmark fills it directly)
    await asyncio.to_thread(fill_votes, db.path, now)  # the triggers build the matrix's rows
    print(f"/stance map: {MAP_MEMBERS:,} members x {STATEMENTS} statements")
    repo = StanceRepository(db)
    statements = await repo.active_statements(GUILD)
    matrix, _ = await timed(
        "query (vote matrix, worker thread)", lambda: repo.vote_matrix(GUILD, statements)
    )
    result, _ = await timed(
        "compute: PCA, k-means, silhouette",
        partial(
            asyncio.to_thread,
            build_opinion_map,
            matrix.votes,
            matrix.member_ids,
            matrix.statement_ids,
        ),
    )
    await timed(
        "render: map chart (worker process)",
        partial(renderer.render, render_opinion_map, result),
    )
    print(f"  groups: {len(result.groups)}, members on the map: {len(result.member_ids)}")


async def main() -> None:
    now = datetime.now(UTC)
    renderer = ChartWorker()
    await renderer.render(render_community_chart, ())  # start the worker process
    WATCH.start()
    growth = []
    with tempfile.TemporaryDirectory() as folder:
        for count, members in SIZES:
            db = await upgraded_database(
                Path(folder) / f"{count}.db", now.timestamp(), count, members
            )
            query_s, total_s = await community(db, renderer, count, members, now)
            growth.append((count, query_s, total_s))
            if count == SIZES[-1][0]:
                await opinion_map(db, renderer, now.timestamp())
            await db.close()
    await WATCH.stop()
    await renderer.close()
    print("/stance community growth (30d): observations -> query ms / whole answer ms")
    for count, query_s, total_s in growth:
        print(f"  {count:>9,} -> {query_s * 1000:7.1f} / {total_s * 1000:7.1f}")
    print(
        f"event loop: longest stall over all steps {WORST[0] * 1000:.1f} ms (limit 50 ms); "
        f"longest GC pause {WORST[1] * 1000:.1f} ms"
    )
    _, query_s, total_s = growth[-1]
    results.record(
        community_query_ms=round(query_s * 1000, 1), community_total_ms=round(total_s * 1000, 1)
    )


if __name__ == "__main__":
    asyncio.run(main())
