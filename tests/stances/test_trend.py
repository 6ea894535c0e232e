from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import UserFacingError
from bot.stance_scale import Stance
from bot.stances.models import Observation, from_timestamp
from bot.stances.trend import (
    Granularity,
    Trend,
    bucket_starts,
    compute_trend,
    parse_period,
    trend_sums,
)

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)  # a Sunday


def trend_of(observations: Iterable[Observation], period: str, now: datetime, **kw: int) -> Trend:
    """:func:`compute_trend` on the columns of a list of observations."""
    rows = list(observations)
    return compute_trend(
        np.array([o.member_id for o in rows], dtype=np.int64),
        np.array([int(o.value) for o in rows], dtype=np.int8),
        np.array([o.at.timestamp() for o in rows], dtype=np.float64),
        period,
        now,
        **kw,
    )


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "days", "granularity"),
    [
        ("7d", 7, Granularity.DAY),
        ("30d", 30, Granularity.DAY),
        ("90d", 90, Granularity.WEEK),
        ("365d", 365, Granularity.MONTH),
        (" 2W ", 14, Granularity.DAY),
        ("1y", 365, Granularity.MONTH),
        (None, 30, Granularity.DAY),
        ("", 30, Granularity.DAY),
    ],
)
def test_parse_period(text: str | None, days: int, granularity: Granularity) -> None:
    period = parse_period(text)
    assert period.days == days
    assert period.text == f"{days}d"
    assert period.granularity is granularity


def test_parse_period_all() -> None:
    period = parse_period("ALL")
    assert period.days is None and period.text == "all" and period.granularity is None


@pytest.mark.parametrize("text", ["7", "abc", "0d", "10000d", "-3d", "7h", "3m"])
def test_parse_period_rejects(text: str) -> None:
    with pytest.raises(UserFacingError):
        parse_period(text)


def test_bucket_starts_days_weeks_months() -> None:
    now = NOW.timestamp()
    granularity, starts = bucket_starts(parse_period("7d"), now)
    assert granularity is Granularity.DAY
    assert [from_timestamp(s) for s in starts] == [at(d) for d in range(4, 11)]

    granularity, starts = bucket_starts(parse_period("90d"), now)
    assert granularity is Granularity.WEEK
    weeks = [from_timestamp(s) for s in starts]
    assert all(w.weekday() == 0 and w.hour == 0 for w in weeks)
    assert weeks[-1] == datetime(2024, 3, 4, tzinfo=UTC)
    assert weeks[0] <= NOW - timedelta(days=89) < weeks[0] + timedelta(days=7)

    granularity, starts = bucket_starts(parse_period("365d"), now)
    assert granularity is Granularity.MONTH
    months = [from_timestamp(s) for s in starts]
    assert months[0] == datetime(2023, 3, 1, tzinfo=UTC)
    assert months[-1] == datetime(2024, 3, 1, tzinfo=UTC)
    assert len(months) == 13


def test_bucket_starts_all_follows_the_span() -> None:
    now = NOW.timestamp()
    g, starts = bucket_starts(
        parse_period("all"), now, earliest=(NOW - timedelta(days=3)).timestamp()
    )
    assert g is Granularity.DAY and len(starts) == 4
    g, starts = bucket_starts(
        parse_period("all"), now, earliest=datetime(2021, 7, 9, tzinfo=UTC).timestamp()
    )
    assert g is Granularity.MONTH
    assert from_timestamp(starts[0]) == datetime(2021, 7, 1, tzinfo=UTC)
    g, starts = bucket_starts(parse_period("all"), now, earliest=None)
    assert g is Granularity.DAY and len(starts) == 1


def hand_example() -> list[Observation]:
    return [
        Observation(1, Stance(2), at(1)),  # before the window: the starting state
        Observation(1, Stance(-1), at(6, 10), "debate:4"),
        Observation(2, Stance(1), at(5, 9)),
        Observation(2, Stance(0), at(5, 18)),  # same day: the later one counts
        Observation(3, Stance(-2), at(8, 0)),  # exactly at a bucket start
        Observation(4, Stance(2), at(11)),  # after now: ignored
    ]


def test_trend_carries_positions_forward_hand_computed() -> None:
    trend = trend_of(hand_example(), "7d", NOW, k=1)
    assert trend.granularity is Granularity.DAY
    assert [p.start for p in trend.points] == [at(d) for d in range(4, 11)]
    assert trend.points[-1].end == NOW
    assert [p.count for p in trend.points] == [1, 2, 2, 2, 3, 3, 3]
    assert [p.mean for p in trend.points] == [2.0, 1.0, -0.5, -0.5, -1.0, -1.0, -1.0]


def test_trend_suppresses_means_of_fewer_than_k_members() -> None:
    trend = trend_of(hand_example(), "7d", NOW)
    assert [p.mean for p in trend.points] == [None, None, None, None, -1.0, -1.0, -1.0]
    assert [p.suppressed for p in trend.points] == [True] * 4 + [False] * 3
    assert [p.count for p in trend.points] == [1, 2, 2, 2, 3, 3, 3]


def test_trend_with_no_observations() -> None:
    trend = trend_of([], "7d", NOW)
    assert len(trend.points) == 7
    assert all(p.count == 0 and p.mean is None and not p.suppressed for p in trend.points)
    assert len(trend_of([], "all", NOW).points) == 1


def test_trend_accepts_numpy_columns_with_integer_seconds() -> None:
    rows = hand_example()
    trend = compute_trend(
        np.array([o.member_id for o in rows], dtype=np.int64),
        np.array([int(o.value) for o in rows], dtype=np.int8),
        np.array([int(o.at.timestamp()) for o in rows], dtype=np.int64),
        parse_period("7d"),
        NOW,
        k=1,
    )
    assert [p.mean for p in trend.points] == [2.0, 1.0, -0.5, -0.5, -1.0, -1.0, -1.0]


def slow_trend(members, values, times, starts, now):
    """Reference: for every bucket, scan all observations for each member's latest one."""
    sums, counts = [], []
    for i in range(len(starts)):
        end = starts[i + 1] if i + 1 < len(starts) else np.inf
        latest: dict[int, tuple[float, int]] = {}
        for m, v, t in zip(members, values, times, strict=True):
            if t > now or t >= end:
                continue
            if m not in latest or t >= latest[m][0]:
                latest[m] = (t, v)
        sums.append(sum(v for _, v in latest.values()))
        counts.append(len(latest))
    return sums, counts


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 6), st.integers(-2, 2), st.integers(0, 40).map(lambda x: x * 2.5)),
        max_size=60,
    ),
    starts=st.lists(st.integers(0, 100).map(float), min_size=1, max_size=8, unique=True),
    now=st.floats(0, 110),
)
def test_trend_sums_match_reference(rows, starts, now) -> None:
    starts = sorted(starts)
    members = [r[0] for r in rows]
    values = [r[1] for r in rows]
    times = [r[2] for r in rows]
    sums, counts = trend_sums(
        np.array(members, dtype=np.int64),
        np.array(values, dtype=np.int8),
        np.array(times, dtype=np.float64),
        np.array(starts),
        now,
    )
    expected_sums, expected_counts = slow_trend(members, values, times, starts, now)
    assert sums.tolist() == expected_sums
    assert counts.tolist() == expected_counts


def test_trend_sums_match_reference_on_seeded_random_data() -> None:
    rng = np.random.default_rng(2024)
    n = 4000
    members = rng.integers(0, 300, n)
    values = rng.integers(-2, 3, n).astype(np.int8)
    times = rng.integers(0, 50, n).astype(np.float64) * 10.0  # many ties
    starts = np.arange(100.0, 500.0, 37.0)
    sums, counts = trend_sums(members, values, times, starts, now=450.0)
    expected_sums, expected_counts = slow_trend(
        members.tolist(), values.tolist(), times.tolist(), starts.tolist(), 450.0
    )
    assert sums.tolist() == expected_sums
    assert counts.tolist() == expected_counts


def test_trend_sums_validates_input() -> None:
    with pytest.raises(ValueError, match="same length"):
        trend_sums([1, 2], [1], [0.0, 1.0], [0.0])
    with pytest.raises(ValueError, match="scale"):
        trend_sums([1], [3], [0.0], [0.0])
    sums, counts = trend_sums([], [], [], [])
    assert sums.size == 0 and counts.size == 0
