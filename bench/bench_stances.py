"""`/stance community` and `/stance map` at scale, on a real database file.

    .venv/bin/python -m bench.bench_stances

* community: 1,000,000 observations of 50,000 members over two years (plus 100,000 rows of
  another community and a topic, so the indexes have to pick), general question, period 30d
  and all: query time (repository, worker thread), compute time (current positions, summary,
  trend), render time (chart);
* map: 2,000 members × 200 statements, 70 % of the votes cast (280,000 rows): query, compute
  (matrix, PCA, k-means, silhouette), render.

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

from bench.loopwatch import LoopWatch
from bot.charts import ChartWorker
from bot.database import Database
from bot.repositories.stances import StanceRepository
from bot.stances.charts import render_community_chart
from bot.stances.community import community_picture
from bot.stances.map_chart import render_opinion_map
from bot.stances.opinion_map import opinion_map_from_votes
from bot.stances.statistics import (
    CommunitySummary,
    distribution,
    latest_positions,
    summarise,
)
from bot.stances.trend import compute_trend

T = TypeVar("T")
GUILD, OTHER = 1, 2
OBSERVATIONS, MEMBERS = 1_000_000, 50_000
MAP_MEMBERS, STATEMENTS = 2_000, 200


def fill(path: Path, now: float) -> None:
    """Bulk-load the data with plain sqlite3 (the bot's own writes go one by one)."""
    rng = np.random.default_rng(0)
    conn = sqlite3.connect(path)
    with conn:
        for guild, count, topic in ((GUILD, OBSERVATIONS, None), (OTHER, 50_000, None)):
            members = rng.integers(10**17, 10**17 + MEMBERS, count)
            values = rng.integers(-2, 3, count)
            times = np.sort(now - rng.uniform(0, 2 * 365 * 86_400, count))
            conn.executemany(
                "INSERT INTO stance_observations (guild_id, member_id, topic, value, source, "
                "observed_at) VALUES (?, ?, ?, ?, 'declared', ?)",
                zip(
                    [guild] * count,
                    members.tolist(),
                    [topic] * count,
                    values.tolist(),
                    times.tolist(),
                    strict=True,
                ),
            )
        conn.executemany(
            "INSERT INTO stance_observations (guild_id, member_id, topic, value, source, "
            "observed_at) VALUES (?, ?, 'open-weights-build-trust', ?, 'declared', ?)",
            ((GUILD, 10**17 + i % MEMBERS, i % 5 - 2, now - i) for i in range(50_000)),
        )
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


async def timed(label: str, action: Callable[[], Awaitable[T]], runs: int = 3) -> T:
    """Best of `runs`, and the event loop's longest stall meanwhile."""
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
    return result


async def main() -> None:
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        db = await Database.open(path)
        await db.migrate()
        started = time.perf_counter()
        await asyncio.to_thread(fill, path, now.timestamp())
        print(
            f"loaded {OBSERVATIONS:,} observations and ~{MAP_MEMBERS * STATEMENTS * 7 // 10:,} "
            f"votes in {time.perf_counter() - started:.1f} s ({path.stat().st_size / 2**20:.0f} MiB)"
        )
        repo = StanceRepository(db)
        renderer = ChartWorker()
        await renderer.render(render_community_chart, ())  # start the worker process
        WATCH.start()

        print(f"/stance community: {OBSERVATIONS:,} observations, {MEMBERS:,} members")
        columns = await timed(
            "query (observation columns, worker thread)",
            lambda: repo.observation_columns(GUILD, None),
        )

        def current() -> CommunitySummary:
            _, values = latest_positions(columns.member_ids, columns.values)
            return summarise(distribution(values), MEMBERS)

        await timed("compute: current positions + summary", lambda: asyncio.to_thread(current))
        for period in ("30d", "all"):
            await timed(
                f"compute: trend {period}",
                partial(
                    asyncio.to_thread,
                    compute_trend,
                    columns.member_ids,
                    columns.values,
                    columns.timestamps,
                    period,
                    now,
                ),
            )
        picture = await timed(
            "compute: whole (positions, summary, trend 30d)",
            partial(asyncio.to_thread, community_picture, columns, MEMBERS, "30d", now),
        )
        await timed(
            "render: chart (worker process)",
            partial(
                renderer.render,
                render_community_chart,
                picture.summary.buckets,
                picture.chart_trend,
            ),
        )

        print(f"/stance map: {MAP_MEMBERS:,} members x {STATEMENTS} statements")
        members, statements, values = await timed(
            "query (vote triples, worker thread)", lambda: repo.vote_triples(GUILD)
        )
        ids = list(range(1, STATEMENTS + 1))
        result = await timed(
            "compute: matrix, PCA, k-means, silhouette",
            partial(asyncio.to_thread, opinion_map_from_votes, members, statements, values, ids),
        )
        await timed(
            "render: map chart (worker process)",
            partial(renderer.render, render_opinion_map, result),
        )
        print(f"  groups: {len(result.groups)}, members on the map: {len(result.member_ids)}")
        await WATCH.stop()
        print(
            f"event loop: longest stall over all steps {WORST[0] * 1000:.1f} ms (limit 50 ms); "
            f"longest GC pause {WORST[1] * 1000:.1f} ms"
        )
        await renderer.close()
        await db.close()


if __name__ == "__main__":
    asyncio.run(main())
