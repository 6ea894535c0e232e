"""The chart worker process: a crash costs one retry, not every later chart."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.charts import PNG_MAGIC, ChartWorker
from bot.stances.charts import render_member_history

NOW = datetime(2024, 3, 10, 12, tzinfo=UTC)


async def test_a_dead_worker_is_replaced() -> None:
    renderer = ChartWorker()
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
