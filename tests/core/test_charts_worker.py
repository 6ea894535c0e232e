"""The chart workers: a pool sized to the cores, a cache by the data's hash, and a crash that
costs one retry, not every later chart."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

from bot.charts import PNG_MAGIC, WORKER_NICENESS, ChartWorker, chart_key, pool_size
from bot.stances.charts import render_member_history

NOW = datetime(2024, 3, 10, 12, tzinfo=UTC)


async def test_a_dead_worker_is_replaced() -> None:
    renderer = ChartWorker(workers=1)
    try:
        first = await renderer.render(render_member_history, [(NOW, 1)], now=NOW)
        assert first.startswith(PNG_MAGIC)
        pool = renderer._pool
        assert pool is not None
        processes = list(pool._processes.values())
        assert processes
        for process in processes:
            process.kill()
            process.join()
        again = await renderer.render(render_member_history, [(NOW, -1)], now=NOW)
        assert again.startswith(PNG_MAGIC)
        assert renderer._pool is not pool
        third = await renderer.render(render_member_history, [], now=NOW)
        assert third.startswith(PNG_MAGIC)
    finally:
        await renderer.close()


def worker_niceness() -> bytes:
    """Run in a chart worker: its scheduling niceness."""
    return str(os.nice(0)).encode()


async def test_the_workers_run_below_the_bots_priority() -> None:
    renderer = ChartWorker(workers=1)
    try:
        niceness = int(await renderer.render(worker_niceness))
    finally:
        await renderer.close()
    assert niceness == min(19, os.nice(0) + WORKER_NICENESS)


def test_the_pool_has_a_worker_per_core() -> None:
    assert pool_size() == len(os.sched_getaffinity(0))
    assert ChartWorker()._workers == pool_size()


def test_the_key_is_the_data() -> None:
    history = [(NOW, 1)]
    key = chart_key(render_member_history, (history,), {"now": NOW})
    assert key == chart_key(render_member_history, ([(NOW, 1)],), {"now": NOW})
    assert key != chart_key(render_member_history, ([(NOW, -1)],), {"now": NOW})
    assert key != chart_key(render_member_history, (history,), {"now": NOW + timedelta(1)})


async def test_unchanged_data_is_not_rendered_again() -> None:
    renderer = ChartWorker(workers=2, cache_size=2)
    history = [(NOW - timedelta(days=3), 2), (NOW, -1)]
    try:
        # Ten requests for the same chart at once: one render, one PNG for all.
        pngs = await asyncio.gather(
            *(renderer.render(render_member_history, history, now=NOW) for _ in range(10))
        )
        assert len(set(pngs)) == 1 and pngs[0].startswith(PNG_MAGIC)
        assert renderer.rendered == 1 and renderer.cached == 9
        again = await renderer.render(render_member_history, list(history), now=NOW)
        assert again == pngs[0] and renderer.rendered == 1
        other = await renderer.render(render_member_history, history[:1], now=NOW)
        assert other != pngs[0] and renderer.rendered == 2
        # Least recently used out: two others push the first chart from a cache of two.
        await renderer.render(render_member_history, history[1:], now=NOW)
        await renderer.render(render_member_history, [], now=NOW)
        await renderer.render(render_member_history, history, now=NOW)
        assert renderer.rendered == 5
    finally:
        await renderer.close()
