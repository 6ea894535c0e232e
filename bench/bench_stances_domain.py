"""Timings of the heavy stance computations: ``python -m bench.bench_stances_domain``.

* trend over 1,000,000 observations of 50,000 members, for every period choice;
* opinion map (pol.is's method, :mod:`bot.stances.opinion_map`) of 500 × 50, 2,000 × 200 and
  8,000 × 400 members × statements (30 % unseen): wall time (best of 3) and CPU time;
  2,000 × 200 is recorded as ``map_compute_ms`` (target ≤ 250 ms);
* CPU per chart: every example chart of ``make charts`` (``tests/chart_examples.py``) rendered
  in this process after a warm-up, as a chart worker renders them (an opinion map: its
  rendering, the map computed beforehand); the mean is recorded as ``chart_cpu_ms`` and the
  most expensive as ``chart_cpu_max_ms`` (target ≤ 40 ms each), ``/stance me``'s own chart as
  ``stance_me_chart_cpu_ms``; and the same chart asked again through the chart workers' cache
  (no render).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import numpy as np

from bench import results
from bot.charts import ChartWorker
from bot.stances.charts import render_member_history
from bot.stances.map_chart import render_opinion_map
from bot.stances.opinion_map import build_opinion_map
from bot.stances.trend import PERIOD_CHOICES, compute_trend
from tests.chart_examples import EXAMPLES, MAPS


def best_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    now = datetime(2025, 6, 1, tzinfo=UTC)
    n, members = 1_000_000, 50_000
    member_ids = rng.integers(0, members, n).astype(np.int64)
    values = rng.integers(-2, 3, n).astype(np.int8)
    timestamps = now.timestamp() - rng.uniform(0, 2 * 365 * 86_400, n)
    for period in PERIOD_CHOICES:
        seconds = best_of(3, partial(compute_trend, member_ids, values, timestamps, period, now))
        print(f"trend {period:>4}: {n:,} obs / {members:,} members: {seconds * 1000:7.1f} ms")

    for members, statements in ((500, 50), (2000, 200), (8000, 400)):
        votes = rng.choice([1.0, -1.0, 0.0], size=(members, statements), p=[0.45, 0.4, 0.15])
        votes[rng.random(votes.shape) < 0.3] = np.nan
        build_opinion_map(votes)  # warm-up (BLAS threads, first allocations)
        started_cpu = time.process_time()
        seconds = best_of(3, partial(build_opinion_map, votes))
        cpu = (time.process_time() - started_cpu) / 3
        result = build_opinion_map(votes)
        print(
            f"opinion map {members:>5,} × {statements:>3}: {seconds * 1000:7.1f} ms "
            f"(CPU {cpu * 1000:6.1f} ms; {len(result.groups)} groups, "
            f"silhouette {result.silhouette or 0:.2f})"
        )
        if (members, statements) == (2000, 200):
            results.record(map_compute_ms=round(seconds * 1000, 1))


def chart_costs() -> None:
    # A map is computed in the bot (a worker thread), then rendered by a chart worker: only the
    # rendering is timed here (the computing is timed above).
    renders: dict[str, Callable[[], object]] = dict(EXAMPLES)
    for name, compute in MAPS.items():
        renders[name] = partial(render_opinion_map, compute())
    costs = {}
    for name, render in renders.items():
        render()  # warm-up: figure, backdrop, fonts, texts
        runs = []
        for _ in range(3):
            started = time.process_time()
            for _ in range(4):
                render()
            runs.append((time.process_time() - started) / 4 * 1000)
        costs[name] = min(runs)
    print("CPU per chart (ms, best of 3 rounds of 4 renders; maps: rendering only):")
    for name, cost in costs.items():
        print(f"  {name:<28} {cost:6.1f}")
    mean = sum(costs.values()) / len(costs)
    print(f"  mean {mean:.1f} ms, most {max(costs.values()):.1f} ms (target 40 ms each)")
    asyncio.run(cached_chart())
    results.record(
        chart_cpu_ms=round(mean, 1),
        chart_cpu_max_ms=round(max(costs.values()), 1),
        stance_me_chart_cpu_ms=round(costs["stance-history"], 1),
    )


async def cached_chart() -> None:
    worker = ChartWorker()
    try:
        history = [(datetime(2026, 1, d, tzinfo=UTC), d % 5 - 2) for d in range(1, 20)]
        await worker.render(render_member_history, history)
        started = time.perf_counter()
        for _ in range(100):
            await worker.render(render_member_history, history)
        took = (time.perf_counter() - started) / 100 * 1000
        print(f"  the same chart again, from the cache: {took:.3f} ms ({worker.rendered} render)")
    finally:
        await worker.close()


if __name__ == "__main__":
    main()
    chart_costs()
