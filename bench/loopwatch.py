"""An event-loop watchdog: the longest interval the loop was blocked, reported beside a benchmark.

It also records the longest pause of Python's garbage collector meanwhile (``gc.callbacks``):
a full (generation 2) collection stops the whole process, so it shows up as a loop stall
that no ``await`` can avoid, and it is worth telling apart from blocking code.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any


class LoopWatch:
    """Wakes every `tick` seconds and records how late it woke: the loop's worst stall.

    ``longest`` is the worst stall and ``longest_gc`` the worst collector pause since
    ``start()`` (or since the caller last reset them with ``reset()``).
    """

    def __init__(self, tick: float = 0.005) -> None:
        self.tick = tick
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

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started:
            self.longest_gc = max(self.longest_gc, time.perf_counter() - self._gc_started)

    def reset(self) -> None:
        self.longest = 0.0
        self.longest_gc = 0.0

    def start(self) -> None:
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
