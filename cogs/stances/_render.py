"""Charts rendered in a separate process.

matplotlib's Agg renderer holds the GIL for tens of milliseconds at a time, so even in a worker
thread a chart could stall the event loop past the 50 ms budget (measured: up to 64 ms for the
community chart). One long-lived worker process (spawned on first use, so no lock or thread of
the bot is forked) renders every chart instead; the loop only waits on a future.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any


class ChartRenderer:
    """`await renderer.render(render_fn, *args, **kwargs)` -> PNG bytes."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def render(self, function: Callable[..., bytes], *args: Any, **kwargs: Any) -> bytes:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, partial(function, *args, **kwargs))

    async def close(self) -> None:
        """Stop the worker process (waits in a thread so the loop is not blocked)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
