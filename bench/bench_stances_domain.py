"""Timings of the heavy stance computations: ``python bench/bench_stances_domain.py``.

* trend over 1,000,000 observations of 50,000 members, for every period choice;
* opinion map of 2,000 members × 200 statements (30% unseen).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import numpy as np

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

    votes = rng.choice([1.0, -1.0, 0.0], size=(2000, 200), p=[0.45, 0.4, 0.15])
    votes[rng.random(votes.shape) < 0.3] = np.nan
    seconds = best_of(3, lambda: build_opinion_map(votes))
    result = build_opinion_map(votes)
    print(
        f"opinion map 2,000 × 200: {seconds * 1000:7.1f} ms "
        f"({len(result.groups)} groups, silhouette {result.silhouette:.2f})"
    )


if __name__ == "__main__":
    main()
