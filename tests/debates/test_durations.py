from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.debates.durations import (
    DEBATE_DEFAULT,
    DEBATE_MIN,
    NATIVE_POLL_MAX_HOURS,
    POLL_DEFAULT,
    POLL_MAX,
    POLL_MIN,
    format_duration,
    parse_debate_duration,
    parse_duration,
    parse_native_hours,
    parse_poll_duration,
)
from bot.errors import UserFacingError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1H 30M", timedelta(hours=1, minutes=30)),
        ("  2d 6h  ", timedelta(days=2, hours=6)),
        ("1 day 2 hours", timedelta(days=1, hours=2)),
        ("1d, 2h and 5m", timedelta(days=1, hours=2, minutes=5)),
        ("90 minutes", timedelta(minutes=90)),
        ("1w", timedelta(weeks=1)),
        ("120s", timedelta(minutes=2)),
    ],
)
def test_valid_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text, POLL_MIN, POLL_MAX) == expected


@pytest.mark.parametrize(
    "text", ["abc", "h", "1.5h", "1h junk", "2x", "-3h", "1h 2h", "30m30m", "1h30", "+5m"]
)
def test_garbage_is_refused_with_help(text: str) -> None:
    with pytest.raises(UserFacingError) as info:
        parse_duration(text, POLL_MIN, POLL_MAX)
    assert "30m" in info.value.message or "unit" in info.value.message


def test_bare_number_asks_for_a_unit() -> None:
    with pytest.raises(UserFacingError, match="needs a unit"):
        parse_duration("30", POLL_MIN, POLL_MAX)


def test_unknown_unit_is_named() -> None:
    with pytest.raises(UserFacingError, match="`fortnights` is not a unit"):
        parse_duration("2 fortnights", POLL_MIN, POLL_MAX)


@pytest.mark.parametrize("text", ["30s", "0m", "31d", "5w", "9999999d"])
def test_poll_bounds(text: str) -> None:
    with pytest.raises(UserFacingError, match="between 1 minute and 30 days"):
        parse_poll_duration(text)


def test_bounds_are_inclusive() -> None:
    assert parse_poll_duration("1m") == POLL_MIN
    assert parse_poll_duration("30d") == POLL_MAX
    assert parse_poll_duration("720h") == POLL_MAX


def test_defaults() -> None:
    assert parse_poll_duration(None) == POLL_DEFAULT == timedelta(hours=24)
    assert parse_poll_duration("   ") == POLL_DEFAULT
    assert parse_debate_duration("") == DEBATE_DEFAULT
    with pytest.raises(UserFacingError, match="Give a duration"):
        parse_duration("", POLL_MIN, POLL_MAX)


def test_debate_bounds() -> None:
    assert parse_debate_duration("4m") == DEBATE_MIN
    with pytest.raises(UserFacingError, match="between 4 minutes and 30 days"):
        parse_debate_duration("3m")


def test_native_hours() -> None:
    assert parse_native_hours(None) == 24
    assert parse_native_hours("1h") == 1
    assert parse_native_hours("2d") == 48
    assert parse_native_hours("32d") == NATIVE_POLL_MAX_HOURS == 768
    assert parse_native_hours("120m") == 2


def test_native_hours_refuses_partial_hours_and_bounds() -> None:
    with pytest.raises(UserFacingError, match="whole hours"):
        parse_native_hours("1h30m")
    with pytest.raises(UserFacingError, match="between 1 hour and 32 days"):
        parse_native_hours("30m")
    with pytest.raises(UserFacingError, match="between 1 hour and 32 days"):
        parse_native_hours("33d")


def test_format_duration() -> None:
    assert format_duration(timedelta(days=1, hours=6)) == "1 day 6 hours"
    assert format_duration(timedelta(minutes=1)) == "1 minute"
    assert format_duration(timedelta(seconds=30)) == "30 seconds"
    assert format_duration(timedelta(0)) == "0 minutes"


@given(
    days=st.integers(0, 29),
    hours=st.integers(0, 23),
    minutes=st.integers(0, 59),
)
def test_round_trip_of_generated_parts(days: int, hours: int, minutes: int) -> None:
    expected = timedelta(days=days, hours=hours, minutes=minutes)
    text = f"{days}d{hours}h{minutes}m"
    if expected < POLL_MIN:
        with pytest.raises(UserFacingError):
            parse_poll_duration(text)
    else:
        assert parse_poll_duration(text) == expected
