"""The coalescer on a clock the test moves by hand: counts and states, never elapsed time."""

import asyncio
import logging
from collections.abc import Callable

import pytest

from bot.debates.coalesce import Coalescer

INTERVAL = 1.0


class ManualClock:
    """Time moves only when the test calls :meth:`advance`."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self.now + seconds, future)
        self._sleepers.append(entry)
        try:
            await future
        finally:
            self._sleepers.remove(entry)

    @property
    def sleeping(self) -> int:
        """Sleepers still waiting for their time."""
        return sum(not future.done() for _, future in self._sleepers)

    def advance(self, seconds: float) -> None:
        """Move time on and wake the sleepers that are due (they run at the next turns)."""
        self.now += seconds
        for wake, future in self._sleepers:
            if wake <= self.now and not future.done():
                future.set_result(None)


async def until(condition: Callable[[], object], rounds: int = 1000) -> None:
    """Let other tasks run until ``condition()`` holds (a bounded number of loop turns)."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


class Recorder:
    def __init__(self, gate: asyncio.Event | None = None, fail_on: set[int] | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.running = 0
        self.max_running = 0
        self.gate = gate
        self.fail_on = fail_on or set()

    async def __call__(self, key: str, state: int) -> None:
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            if self.gate is not None:
                await self.gate.wait()
            self.calls.append((key, state))
            if state in self.fail_on:
                raise RuntimeError("edit failed")
        finally:
            self.running -= 1


def coalescer(record: Recorder, clock: ManualClock) -> Coalescer[str, int]:
    return Coalescer(record, interval=INTERVAL, clock=clock)


async def test_burst_becomes_two_calls_and_final_state_is_delivered() -> None:
    clock, record = ManualClock(), Recorder()
    edits = coalescer(record, clock)
    for vote in range(1, 51):
        edits.submit("poll", vote)
        await asyncio.sleep(0)
    await until(lambda: clock.sleeping)
    assert record.calls == [("poll", 1)]  # leading edge: immediate feedback
    clock.advance(INTERVAL)
    await until(lambda: len(record.calls) == 2)
    assert record.calls == [("poll", 1), ("poll", 50)]  # the rest merged, nothing lost
    await edits.aclose()
    assert len(record.calls) == 2


async def test_spread_out_burst_is_rate_limited() -> None:
    clock, record = ManualClock(), Recorder()
    edits = coalescer(record, clock)
    for vote in range(1, 51):  # four votes per interval, over 12.5 intervals
        edits.submit("poll", vote)
        await until(lambda: clock.sleeping)  # the worker waits out its interval
        clock.advance(INTERVAL / 4)
        if clock.now % INTERVAL == 0:  # the interval passed: the latest state is delivered
            await until(lambda: record.calls[-1] == ("poll", vote))  # noqa: B023
    # One call at once, one per interval with the latest state, the last one on close.
    expected = [1, *range(4, 49, 4)]
    assert [state for _, state in record.calls] == expected
    await edits.aclose()
    assert [state for _, state in record.calls] == [*expected, 50]


async def test_keys_are_independent_and_calls_never_overlap() -> None:
    clock, gate = ManualClock(), asyncio.Event()
    record = Recorder(gate=gate)
    edits = coalescer(record, clock)
    for vote in range(10):
        edits.submit("a", vote)
        edits.submit("b", vote)
        await asyncio.sleep(0)
    await until(lambda: record.running == 2)  # one call per key, held at the gate
    gate.set()
    await edits.aclose()
    assert sorted(record.calls) == [("a", 0), ("a", 9), ("b", 0), ("b", 9)]
    assert record.max_running == 2  # one per key at most


async def test_callback_errors_are_logged_and_later_updates_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, record = ManualClock(), Recorder(fail_on={1})
    edits = coalescer(record, clock)
    with caplog.at_level(logging.ERROR, logger="bot.debates.coalesce"):
        edits.submit("poll", 1)
        await until(lambda: clock.sleeping)
        edits.submit("poll", 2)
        clock.advance(INTERVAL)
        await until(lambda: len(record.calls) == 2)
    assert record.calls == [("poll", 1), ("poll", 2)]
    assert "coalesced update for 'poll' failed" in caplog.text
    await edits.aclose()


async def one_sent_one_pending() -> tuple[Recorder, Coalescer[str, int]]:
    """A coalescer (on a clock that never moves) that ran ("poll", 1) at once and holds
    ("poll", 2) for the end of the interval."""
    record = Recorder()
    edits = coalescer(record, ManualClock())
    edits.submit("poll", 1)
    await asyncio.sleep(0)
    edits.submit("poll", 2)
    return record, edits


async def test_aclose_flushes_pending_without_waiting_the_interval() -> None:
    record, edits = await one_sent_one_pending()
    await asyncio.wait_for(edits.aclose(), timeout=5)  # the clock never moves
    assert record.calls == [("poll", 1), ("poll", 2)]
    with pytest.raises(RuntimeError):
        edits.submit("poll", 3)


async def test_aclose_without_flush_drops_pending() -> None:
    record, edits = await one_sent_one_pending()
    await asyncio.wait_for(edits.aclose(flush=False), timeout=5)
    assert record.calls == [("poll", 1)]


async def test_cancel_one_key() -> None:
    clock, record = ManualClock(), Recorder()
    edits = coalescer(record, clock)
    edits.submit("a", 1)
    edits.submit("b", 1)
    await asyncio.sleep(0)
    edits.submit("a", 2)
    edits.submit("b", 2)
    edits.cancel("a")
    await asyncio.wait_for(edits.aclose(), timeout=5)
    assert record.calls == [("a", 1), ("b", 1), ("b", 2)]


async def test_idle_key_runs_immediately_again_after_the_interval() -> None:
    clock, record = ManualClock(), Recorder()
    async with Coalescer[str, int](record, interval=INTERVAL, clock=clock) as edits:
        edits.submit("poll", 1)
        await until(lambda: clock.sleeping)
        clock.advance(INTERVAL)  # the interval passes with nothing new: the key idles
        await until(lambda: not clock.sleeping)
        edits.submit("poll", 2)
        await until(lambda: len(record.calls) == 2)  # without moving the clock
        assert record.calls == [("poll", 1), ("poll", 2)]
    assert edits.closed


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Coalescer(Recorder(), interval=0)
