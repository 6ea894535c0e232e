"""An event-loop watchdog: the longest interval the loop was blocked, reported beside a benchmark.

It also records the longest pause of Python's garbage collector meanwhile (``gc.callbacks``):
a full (generation 2) collection stops the whole process, so it shows up as a loop stall
that no ``await`` can avoid, and it is worth telling apart from blocking code.

Every watch also feeds the worst stall of its process (:data:`WORST`, never reset), which is
recorded in ``bench/results.json`` under ``loop_stalls`` when the process exits, keyed by the
benchmark module; ``make bench`` reports the largest of them as ``loop_stall_ms``. So every
benchmark that watches its loop counts, without recording anything itself.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from bench import results

#: The worst loop stall and collector pause (seconds) any watch saw in this process.
WORST = {"stall": 0.0, "gc": 0.0}
#: Whether this process's worst stall goes to ``results.json`` (off for a "before" baseline).
RECORD = {"enabled": True}


def benchmark_name() -> str:
    """The module run with ``python -m`` (``bench.bench_storage``), or the script's name."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return spec.name if spec is not None else (sys.argv[0] or "unknown")


def _record_worst() -> None:
    if RECORD["enabled"] and (WORST["stall"] or WORST["gc"]):
        results.record_stall(benchmark_name(), WORST["stall"], WORST["gc"])


def forget_warm_up() -> None:
    """Start this process's worst stall afresh (after a warm-up that imports, spawns workers
    and fills caches: a first use, not the steady state the benchmark measures)."""
    WORST.update(stall=0.0, gc=0.0)


_REGISTERED: set[Any] = set()


class LoopWatch:
    """Wakes every `tick` seconds and records how late it woke: the loop's worst stall.

    ``longest`` is the worst stall and ``longest_gc`` the worst collector pause since
    ``start()`` (or since the caller last reset them with ``reset()``).
    """

    def __init__(self, tick: float = 0.005, *, record: bool = True) -> None:
        self.tick = tick
        #: Whether this watch counts towards the process's worst stall (:data:`WORST`).
        self.record = record
        self.longest = 0.0
        self.longest_gc = 0.0
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.tick)
            late = time.perf_counter() - before - self.tick
            self.longest = max(self.longest, late)
            if self.record:
                WORST["stall"] = max(WORST["stall"], late)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started:
            pause = time.perf_counter() - self._gc_started
            self.longest_gc = max(self.longest_gc, pause)
            if self.record:
                WORST["gc"] = max(WORST["gc"], pause)

    def reset(self) -> None:
        self.longest = 0.0
        self.longest_gc = 0.0

    async def exclude(self, work: Callable[[], object]) -> None:
        """Run ``work``, which blocks the loop on purpose (a benchmark's own ``gc.collect()``
        between runs), without counting the stall it causes; then start afresh."""
        saved = dict(WORST)
        work()
        await asyncio.sleep(self.tick * 2)  # the watch wakes late once, here
        WORST.update(saved)
        self.reset()

    @asynccontextmanager
    async def uncounted(self) -> AsyncIterator[None]:
        """The benchmark's own setup (bulk-loading its data with plain ``sqlite3`` in a worker
        thread, which the bot never does): its stalls and collector pauses are not the bot's,
        so they count neither towards this process's worst nor towards this watch."""
        saved = dict(WORST)
        try:
            yield
            await asyncio.sleep(self.tick * 2)  # a stall at the very end shows up here
        finally:
            WORST.update(saved)
            self.reset()

    def start(self) -> None:
        if _record_worst not in _REGISTERED:
            atexit.register(_record_worst)
            _REGISTERED.add(_record_worst)
        self._task = asyncio.get_running_loop().create_task(self._run())
        gc.callbacks.append(self._on_gc)

    async def stop(self) -> float:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        return self.longest

    def describe(self) -> str:
        """``"12.3 ms (GC 10.1 ms)"``: the stall and the longest collector pause."""
        return f"{self.longest * 1000:.1f} ms (GC {self.longest_gc * 1000:.1f} ms)"
