from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.limits import NONCE
from bot.releases import announcement_nonce, backoff_seconds, should_pause
from bot.releases.policy import MAX_BACKOFF_SECONDS, PAUSE_AFTER_FAILURES


def test_backoff_doubles_then_caps() -> None:
    assert backoff_seconds(0, 300) == 300
    assert backoff_seconds(1, 300) == 600
    assert backoff_seconds(2, 300) == 1200
    assert backoff_seconds(3, 300) == 2400
    assert backoff_seconds(10, 300) == MAX_BACKOFF_SECONDS == 6 * 3600
    assert backoff_seconds(10_000, 300) == MAX_BACKOFF_SECONDS
    assert backoff_seconds(-3, 300) == 300


def test_pause_after_five_failures() -> None:
    assert PAUSE_AFTER_FAILURES == 5
    assert [should_pause(n) for n in range(7)] == [False] * 5 + [True] * 2
    assert should_pause(2, threshold=2)


def test_nonce_is_short_deterministic_and_distinct() -> None:
    a = announcement_nonce(1, "meta-llama/Llama-3-8B")
    assert a == announcement_nonce(1, "meta-llama/Llama-3-8B")
    assert len(a) == NONCE == 25
    assert a.isalnum()
    assert a != announcement_nonce(2, "meta-llama/Llama-3-8B")
    assert a != announcement_nonce(1, "meta-llama/Llama-3-70B")
    # "1:2x" vs "12:x" style collisions are avoided by the separator.
    assert announcement_nonce(1, "2:x") != announcement_nonce(12, "x")


@given(st.integers(min_value=0, max_value=2**63), st.text(max_size=2000))
def test_nonce_always_fits(sub_id: int, item_id: str) -> None:
    assert len(announcement_nonce(sub_id, item_id)) <= 25
