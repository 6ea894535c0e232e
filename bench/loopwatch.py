"""An event-loop watchdog: the longest interval the loop was blocked, reported beside a benchmark."""

from __future__ import annotations

import asyncio
import time


class LoopWatch:
    """Wakes every `tick` seconds and records how late it woke: the loop's worst stall."""

    def __init__(self, tick: float = 0.005) -> None:
        self.tick = tick
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.tick)
            late = time.perf_counter() - before - self.tick
            self.longest = max(self.longest, late)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        return self.longest
