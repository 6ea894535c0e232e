"""The one chart worker: every chart of every feature is rendered in a separate process.

matplotlib's Agg renderer holds the GIL for tens of milliseconds at a time, so even in a worker
thread a chart could stall the event loop past the 50 ms budget (measured: up to 64 ms for the
community chart). One long-lived worker process (spawned on first use, so no lock or thread of
the bot is forked) renders every chart instead; the loop only waits on a future.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any

log = logging.getLogger(__name__)


class ChartWorker:
    """`await worker.render(render_fn, *args, **kwargs)` -> PNG bytes (``render_fn`` must be a
    module-level function, so the spawned process can import it)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def render(self, function: Callable[..., bytes], *args: Any, **kwargs: Any) -> bytes:
        """Render in the worker; if the worker died (the pool is broken), start a new one and
        try once more, so one crash does not break every later chart."""
        job = partial(function, *args, **kwargs)
        pool = self._get_pool()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, job)
        except BrokenProcessPool:
            log.warning("the chart worker process died; starting a new one")
            self._discard(pool)
        return await asyncio.get_running_loop().run_in_executor(self._get_pool(), job)

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Forget a broken pool (unless a concurrent render already replaced it)."""
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        """Stop the worker process (waits in a thread so the loop is not blocked)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
