"""The chart workers: every chart of every feature is rendered in a small pool of processes,
and a chart whose data did not change is not rendered again.

matplotlib's Agg renderer holds the GIL for tens of milliseconds at a time, so even in a worker
thread a chart could stall the event loop past the 50 ms budget. A pool of long-lived worker
processes (one per core the bot may use, spawned on first use so no lock or thread of the bot
is forked) renders the charts instead; the loop only waits on a future. Each worker reuses its
figures (:mod:`bot.chart_style`) and imports matplotlib once; the bot process never does.

**Cache**: the key is a hash of the renderer's name and its pickled arguments, so unchanged data
gives the same PNG without rendering (a member asking ``/stance me`` twice, a map nobody voted
on since). Up to :data:`CACHE_SIZE` PNGs (a few tens of KiB each) are kept, least recently used
out first. Concurrent requests for the same key share one render.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import pickle
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any

log = logging.getLogger(__name__)

CACHE_SIZE = 256
#: How much lower the chart workers' scheduling priority is than the bot's (``os.nice``).
#: Rendering is CPU-bound and one worker runs per core, so during a burst of charts the
#: workers alone keep every core busy; at the same priority the event loop's thread, runnable
#: again after each network event, waited for the operating system to give it a core (most
#: of the loop's stalls in a burst of ``/stance me``). Niced, a worker yields its core as soon
#: as the loop's thread wakes, and still takes every cycle the bot does not use.
WORKER_NICENESS = 10
#: Every chart is a PNG: its first bytes.
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def pool_size() -> int:
    """One worker per core this process may run on (at least one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on every platform
        return max(1, os.cpu_count() or 1)


def _warm_up(niceness: int) -> None:
    """Run in each new worker: lower its priority (:data:`WORKER_NICENESS`), load matplotlib
    and the fonts before the first chart asks."""
    if niceness:
        try:
            os.nice(niceness)
        except OSError:  # not permitted here: render at the bot's priority
            log.warning("chart worker: could not lower its priority (os.nice)")
    from bot import chart_style

    chart_style.setup_fonts()


def chart_key(function: Callable[..., bytes], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The cache key of a chart: its renderer and its data (pickled: dataclasses, numpy
    arrays and datetimes pickle the same for the same values)."""
    payload = pickle.dumps(
        (function.__module__, function.__qualname__, args, sorted(kwargs.items())),
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    return hashlib.blake2b(payload, digest_size=20).hexdigest()


class ChartWorker:
    """`await worker.render(render_fn, *args, **kwargs)` -> PNG bytes (``render_fn`` must be a
    module-level function, so the spawned processes can import it)."""

    def __init__(
        self, workers: int | None = None, cache_size: int = CACHE_SIZE, niceness: int | None = None
    ) -> None:
        self._workers = workers or pool_size()
        self._niceness = WORKER_NICENESS if niceness is None else niceness
        self._pool: ProcessPoolExecutor | None = None
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._pending: dict[str, asyncio.Future[bytes]] = {}
        #: Charts actually rendered and answered from the cache (for tests and benchmarks).
        self.rendered = 0
        self.cached = 0

    async def render(self, function: Callable[..., bytes], *args: Any, **kwargs: Any) -> bytes:
        """The chart's PNG: from the cache, from a render of the same data already under way,
        or rendered in a worker."""
        key = chart_key(function, args, kwargs)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            self.cached += 1
            return found
        pending = self._pending.get(key)
        if pending is not None:
            self.cached += 1
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            png = await self._run(partial(function, *args, **kwargs))
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        finally:
            self._pending.pop(key, None)
        future.set_result(png)
        self.rendered += 1
        self._cache[key] = png
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return png

    async def _run(self, job: Callable[[], bytes]) -> bytes:
        """Render in the pool; if a worker died (the pool is broken), start a new pool and try
        once more, so one crash does not break every later chart."""
        pool = self._get_pool()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, job)
        except BrokenProcessPool:
            log.warning("a chart worker process died; starting new ones")
            self._discard(pool)
        return await loop.run_in_executor(self._get_pool(), job)

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm_up,
                initargs=(self._niceness,),
            )
        return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Forget a broken pool (unless a concurrent render already replaced it)."""
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        """Stop the worker processes (waits in a thread so the loop is not blocked)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
