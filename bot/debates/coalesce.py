"""Throttling message edits: a burst of votes becomes a handful of edits, never a lost one.

Every vote on a poll would otherwise edit the poll message; Discord rate-limits message edits
(about 5 per 5 seconds per channel), so 50 quick votes would queue edits for a minute. A
:class:`Coalescer` runs the callback for a key at most once per ``interval`` seconds with the
*latest* state submitted for that key:

- the first submit for an idle key runs at once (the voter sees the effect immediately);
- submits during the following ``interval`` are merged: only the last state is kept and
  delivered once the interval has passed (the final update is never lost);
- calls for one key never overlap; different keys run independently;
- an exception from the callback is logged and does not stop later updates.

Usage in a service (which owns both the coalescer and its callback)::

    self.edits = Coalescer(self._edit_poll_message, interval=2.0)   # in __init__
    self.edits.submit(poll_id, None)                                  # after each vote
    await self.edits.aclose()                                         # when the feature closes

The callback may re-read the state itself (pass ``None``) or receive it from ``submit``.
Time comes from a :class:`Clock` (the event loop's by default; tests pass one they move by hand).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
S = TypeVar("S")


class Clock(Protocol):
    """Where a coalescer reads the time and waits."""

    def time(self) -> float:
        """Seconds on a monotonic clock."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class LoopClock:
    """The running event loop's clock."""

    def time(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Coalescer(Generic[K, S]):
    """Run ``callback(key, state)`` at most once per ``interval`` seconds per key."""

    def __init__(
        self,
        callback: Callable[[K, S], Awaitable[None]],
        interval: float,
        *,
        clock: Clock | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._callback = callback
        self._interval = interval
        self._clock = clock or LoopClock()
        self._pending: dict[K, S] = {}
        self._workers: dict[K, asyncio.Task[None]] = {}
        self._closing = asyncio.Event()
        self._closed = False

    @property
    def interval(self) -> float:
        return self._interval

    @property
    def closed(self) -> bool:
        return self._closed

    def submit(self, key: K, state: S) -> None:
        """Ask for ``callback(key, state)``; replaces any state still waiting for ``key``.

        Must be called from the event loop. Raises :class:`RuntimeError` once closed.
        """
        if self._closed:
            raise RuntimeError("the coalescer is closed")
        self._pending[key] = state
        if key not in self._workers:
            self._workers[key] = asyncio.get_running_loop().create_task(
                self._run(key), name=f"coalesce-{key!r}"
            )

    def cancel(self, key: K) -> None:
        """Drop the waiting update for ``key`` and stop its worker (e.g. when the poll
        closes and the cog makes the final edit itself). A callback in progress is cancelled."""
        self._pending.pop(key, None)
        task = self._workers.pop(key, None)
        if task is not None:
            task.cancel()

    async def aclose(self, *, flush: bool = True) -> None:
        """Stop accepting updates. With ``flush``, deliver every waiting update now (without
        waiting out the interval) and wait for the callbacks; otherwise drop and cancel them."""
        self._closed = True
        self._closing.set()
        tasks = list(self._workers.values())
        if not flush:
            self._pending.clear()
            for task in tasks:
                task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> Coalescer[K, S]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _run(self, key: K) -> None:
        try:
            while key in self._pending:
                state = self._pending.pop(key)
                started = self._clock.time()
                try:
                    await self._callback(key, state)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("coalesced update for %r failed", key)
                delay = self._interval - (self._clock.time() - started)
                if delay > 0 and not self._closing.is_set():
                    await self._pause(delay)
        finally:
            if self._workers.get(key) is asyncio.current_task():
                del self._workers[key]

    async def _pause(self, delay: float) -> None:
        """Wait ``delay`` seconds, or less if the coalescer closes meanwhile."""
        sleep = asyncio.ensure_future(self._clock.sleep(delay))
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait((sleep, closing), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleep.cancel()
            closing.cancel()
