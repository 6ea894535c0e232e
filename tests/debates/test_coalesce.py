import asyncio
import logging

import pytest

from bot.debates.coalesce import Coalescer


class Recorder:
    def __init__(self, delay: float = 0.0, fail_on: set[int] | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.running = 0
        self.max_running = 0
        self.delay = delay
        self.fail_on = fail_on or set()

    async def __call__(self, key: str, state: int) -> None:
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            self.calls.append((key, state))
            if state in self.fail_on:
                raise RuntimeError("edit failed")
        finally:
            self.running -= 1


async def test_burst_becomes_few_calls_and_final_state_is_delivered() -> None:
    record = Recorder()
    coalescer: Coalescer[str, int] = Coalescer(record, interval=0.05)
    for vote in range(1, 51):
        coalescer.submit("poll", vote)
        await asyncio.sleep(0)
    await asyncio.sleep(0.2)
    assert record.calls[0] == ("poll", 1)  # leading edge: immediate feedback
    assert record.calls[-1] == ("poll", 50)  # nothing lost
    assert 2 <= len(record.calls) <= 3  # 3 only if the loop stalls past the interval
    await coalescer.aclose()


async def test_spread_out_burst_is_rate_limited() -> None:
    record = Recorder()
    coalescer: Coalescer[str, int] = Coalescer(record, interval=0.05)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for vote in range(1, 51):
        coalescer.submit("poll", vote)
        await asyncio.sleep(0.005)  # 50 votes over ~0.25 s
    elapsed = loop.time() - start
    await coalescer.aclose()
    assert record.calls[-1] == ("poll", 50)
    assert 2 <= len(record.calls) <= elapsed / 0.05 + 2
    states = [state for _, state in record.calls]
    assert states == sorted(states)  # always newer state


async def test_keys_are_independent_and_calls_never_overlap() -> None:
    record = Recorder(delay=0.03)
    coalescer: Coalescer[str, int] = Coalescer(record, interval=0.01)
    for vote in range(10):
        coalescer.submit("a", vote)
        coalescer.submit("b", vote)
        await asyncio.sleep(0.005)
    await coalescer.aclose()
    assert ("a", 9) in record.calls and ("b", 9) in record.calls
    assert record.max_running == 2  # one per key at most


async def test_callback_errors_are_logged_and_later_updates_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = Recorder(fail_on={1})
    coalescer: Coalescer[str, int] = Coalescer(record, interval=0.01)
    with caplog.at_level(logging.ERROR, logger="bot.debates.coalesce"):
        coalescer.submit("poll", 1)
        await asyncio.sleep(0)
        coalescer.submit("poll", 2)
        await asyncio.sleep(0.05)
    assert record.calls == [("poll", 1), ("poll", 2)]
    assert "coalesced update for 'poll' failed" in caplog.text
    await coalescer.aclose()


async def test_aclose_flushes_pending_without_waiting_the_interval() -> None:
    record = Recorder()
    coalescer: Coalescer[str, int] = Coalescer(record, interval=30)
    coalescer.submit("poll", 1)
    await asyncio.sleep(0)
    coalescer.submit("poll", 2)
    await asyncio.wait_for(coalescer.aclose(), timeout=1)
    assert record.calls == [("poll", 1), ("poll", 2)]
    with pytest.raises(RuntimeError):
        coalescer.submit("poll", 3)


async def test_aclose_without_flush_drops_pending() -> None:
    record = Recorder()
    coalescer: Coalescer[str, int] = Coalescer(record, interval=30)
    coalescer.submit("poll", 1)
    await asyncio.sleep(0)
    coalescer.submit("poll", 2)
    await asyncio.wait_for(coalescer.aclose(flush=False), timeout=1)
    assert record.calls == [("poll", 1)]


async def test_cancel_one_key() -> None:
    record = Recorder()
    coalescer: Coalescer[str, int] = Coalescer(record, interval=30)
    coalescer.submit("a", 1)
    coalescer.submit("b", 1)
    await asyncio.sleep(0)
    coalescer.submit("a", 2)
    coalescer.submit("b", 2)
    coalescer.cancel("a")
    await asyncio.wait_for(coalescer.aclose(), timeout=1)
    assert record.calls == [("a", 1), ("b", 1), ("b", 2)]


async def test_idle_key_runs_immediately_again_after_the_interval() -> None:
    record = Recorder()
    async with Coalescer[str, int](record, interval=0.02) as coalescer:
        coalescer.submit("poll", 1)
        await asyncio.sleep(0.05)
        coalescer.submit("poll", 2)
        await asyncio.sleep(0)
        assert record.calls == [("poll", 1), ("poll", 2)]
    assert coalescer.closed


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Coalescer(Recorder(), interval=0)
