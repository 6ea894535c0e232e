"""Timings of the heavy stance computations: ``python -m bench.bench_stances_domain``.

* trend over 1,000,000 observations of 50,000 members, for every period choice;
* opinion map (pol.is's method, :mod:`bot.stances.opinion_map`) of 500 × 50, 2,000 × 200 and
  8,000 × 400 members × statements (30 % unseen): wall time (best of 3) and CPU time;
  2,000 × 200 is recorded as ``map_compute_ms`` (target ≤ 250 ms).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import numpy as np

from bench import results
from bot.stances.opinion_map import build_opinion_map
from bot.stances.trend import PERIOD_CHOICES, compute_trend


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
        seconds = best_of(3, lambda votes=votes: build_opinion_map(votes))
        cpu = (time.process_time() - started_cpu) / 3
        result = build_opinion_map(votes)
        print(
            f"opinion map {members:>5,} × {statements:>3}: {seconds * 1000:7.1f} ms "
            f"(CPU {cpu * 1000:6.1f} ms; {len(result.groups)} groups, "
            f"silhouette {result.silhouette or 0:.2f})"
        )
        if (members, statements) == (2000, 200):
            results.record(map_compute_ms=round(seconds * 1000, 1))


if __name__ == "__main__":
    main()
