"""How the community's mean position moves over time.

For each period bucket (a UTC day, a week starting on Monday, or a calendar month) the trend
gives the mean of every member's *latest position as of the end of that bucket* (positions
carry forward until the member changes them) and how many members that mean covers.

Algorithm (:func:`trend_sums`), for n observations and B buckets:

1. bucket index of every observation by binary search over the bucket starts: O(n log B);
   observations before the first bucket fall into bucket 0 (they are the starting state);
2. one stable sort by (member, time): O(n log n);
3. keep each member's last observation per bucket, then turn the sequence into *changes*: a
   member's first kept observation adds its value and +1 member; each later one adds
   ``value - previous value``: O(n);
4. ``bincount`` the changes per bucket and take cumulative sums: O(n + B).

Memory is O(n). A million observations of 50,000 members take well under a second
(see ``bench/bench_stances_domain.py``).

``/stance community`` itself does not read observations: :func:`daily_trend` gives the same
points from the per-day changes the repositories keep up to date with every observation
(``stance_daily_changes``), in O(days).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from bot.errors import UserFacingError
from bot.stance_scale import SCALE
from bot.stances.models import from_timestamp, to_timestamp
from bot.stances.statistics import DEFAULT_MIN_BUCKET

DAY = 86_400.0
#: The choices offered by ``/stance community period``.
PERIOD_CHOICES: tuple[str, ...] = ("7d", "30d", "90d", "365d", "all")
DEFAULT_PERIOD = "30d"
MAX_PERIOD_DAYS = 3660

_PERIOD_PATTERN = re.compile(r"(\d{1,5})\s*([dwy])")
_UNIT_DAYS = {"d": 1, "w": 7, "y": 365}


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def granularity_for(days: float) -> Granularity:
    """Days for up to a month, weeks up to half a year, months beyond."""
    if days <= 31:
        return Granularity.DAY
    if days <= 180:
        return Granularity.WEEK
    return Granularity.MONTH


@dataclass(frozen=True, slots=True)
class Period:
    """A parsed period: ``days`` is ``None`` for ``all``."""

    text: str
    days: int | None

    @property
    def granularity(self) -> Granularity | None:
        """Fixed for a length of days; for ``all`` it depends on the data (see ``bucket_starts``)."""
        return None if self.days is None else granularity_for(self.days)


def parse_period(text: str | None) -> Period:
    """Parse ``7d``, ``30d``, ``12w``, ``1y``, ``all`` (case and spaces ignored).

    ``None`` or an empty string gives the default (30 days). Raises ``UserFacingError``.
    """
    raw = (text or DEFAULT_PERIOD).strip().lower()
    if raw in {"all", "all time", "everything"}:
        return Period("all", None)
    match = _PERIOD_PATTERN.fullmatch(raw)
    if match is None:
        raise UserFacingError(
            f"I don't understand the period {text!r}: use a number of days, weeks or years "
            "like 7d, 30d, 12w, 1y, or `all`."
        )
    days = int(match.group(1)) * _UNIT_DAYS[match.group(2)]
    if not 1 <= days <= MAX_PERIOD_DAYS:
        raise UserFacingError(
            f"The period must be between 1 day and {MAX_PERIOD_DAYS // 365} years, or `all`."
        )
    return Period(f"{days}d", days)


def day_of(seconds: float) -> int:
    """The UTC day number of a Unix time: the largest d with ``d * 86400 <= seconds`` (exactly:
    the quotient in floating point can round up to the next day just before midnight)."""
    day = math.floor(seconds / DAY)
    return day - 1 if day * DAY > seconds else day


def floor_to(seconds: float, granularity: Granularity) -> float:
    """Start (Unix seconds) of the UTC day, Monday-based week or month containing ``seconds``."""
    day = int(np.floor(seconds / DAY))
    if granularity is Granularity.DAY:
        return day * DAY
    if granularity is Granularity.WEEK:
        return (day - (day + 3) % 7) * DAY  # 1970-01-01 was a Thursday
    month = np.datetime64(int(np.floor(seconds)), "s").astype("datetime64[M]")
    return float(month.astype("datetime64[s]").astype(np.int64))


def bucket_starts(
    period: Period, now: float, earliest: float | None = None
) -> tuple[Granularity, npt.NDArray[np.float64]]:
    """Granularity and bucket start times (Unix seconds, ascending) covering the period.

    The last bucket is the one containing ``now`` (it ends at ``now``). A period of N days
    starts with the bucket containing ``now - (N - 1) days``, so ``7d`` gives exactly 7 days.
    For ``all`` the first bucket contains ``earliest`` (the oldest observation; ``now`` if none)
    and the granularity follows the span.
    """
    if period.days is None:
        first = now if earliest is None else min(earliest, now)
        granularity = granularity_for((now - first) / DAY)
    else:
        first = now - (period.days - 1) * DAY
        granularity = granularity_for(period.days)
    start, last = floor_to(first, granularity), floor_to(now, granularity)
    if granularity is Granularity.MONTH:
        months = np.arange(
            np.datetime64(int(start), "s").astype("datetime64[M]"),
            np.datetime64(int(last), "s").astype("datetime64[M]") + 1,
        )
        starts = months.astype("datetime64[s]").astype(np.int64).astype(np.float64)
    else:
        step = DAY if granularity is Granularity.DAY else 7 * DAY
        starts = np.arange(start, last + step / 2, step, dtype=np.float64)
    return granularity, starts


def trend_sums(
    member_ids: npt.ArrayLike,
    values: npt.ArrayLike,
    timestamps: npt.ArrayLike,
    starts: npt.ArrayLike,
    now: float | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per bucket: the sum of members' latest positions and the number of those members.

    Columns come straight from the repository: ``member_ids`` (int64), ``values`` (int8,
    -2..+2), ``timestamps`` (Unix seconds, int or float). ``starts`` are ascending bucket starts;
    bucket i holds what is known strictly before ``starts[i + 1]`` (the last one: up to ``now``).
    Observations after ``now`` are ignored. Equal timestamps for a member: the later array
    element wins. Complexity: O(n log n) time, O(n) memory (see the module docstring).
    """
    members = np.asarray(member_ids, dtype=np.int64).ravel()
    vals = np.asarray(values, dtype=np.int64).ravel()
    times = np.asarray(timestamps, dtype=np.float64).ravel()
    edges = np.asarray(starts, dtype=np.float64).ravel()
    if not members.size == vals.size == times.size:
        raise ValueError("member_ids, values and timestamps must have the same length")
    n_buckets = edges.size
    if n_buckets == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if vals.size and (vals.min() < -2 or vals.max() > 2):
        raise ValueError("values must be on the -2..+2 scale")
    if now is not None:
        keep = times <= now
        if not keep.all():
            members, vals, times = members[keep], vals[keep], times[keep]
    if members.size == 0:
        return np.zeros(n_buckets, np.int64), np.zeros(n_buckets, np.int64)

    bucket = np.searchsorted(edges, times, side="right") - 1
    np.maximum(bucket, 0, out=bucket)
    order = np.lexsort((times, members))  # stable: input order breaks ties in time
    members, vals, bucket = members[order], vals[order], bucket[order]

    # Keep each member's last observation within each bucket.
    last = np.ones(members.size, dtype=bool)
    last[:-1] = (members[1:] != members[:-1]) | (bucket[1:] != bucket[:-1])
    members, vals, bucket = members[last], vals[last], bucket[last]

    first = np.ones(members.size, dtype=bool)
    first[1:] = members[1:] != members[:-1]
    previous = np.zeros_like(vals)
    previous[1:] = vals[:-1]
    previous[first] = 0
    change = vals - previous

    sums = np.bincount(bucket, weights=change, minlength=n_buckets).cumsum()
    counts = np.bincount(bucket[first], minlength=n_buckets).cumsum()
    return np.rint(sums).astype(np.int64), counts.astype(np.int64)


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One bucket: ``mean`` is ``None`` when fewer than k members have a position by ``end``.

    A mean over one or two members would reveal their positions, hence the suppression;
    ``count`` (how many members the mean covers) is always given.
    """

    start: datetime
    end: datetime
    count: int
    mean: float | None

    @property
    def suppressed(self) -> bool:
        return self.mean is None and self.count > 0


@dataclass(frozen=True, slots=True)
class Trend:
    period: Period
    granularity: Granularity
    points: tuple[TrendPoint, ...]


def compute_trend(
    member_ids: npt.ArrayLike,
    values: npt.ArrayLike,
    timestamps: npt.ArrayLike,
    period: Period | str,
    now: datetime,
    *,
    k: int = DEFAULT_MIN_BUCKET,
) -> Trend:
    """The trend over ``period`` ending at ``now``, from numpy columns (see :func:`trend_sums`).

    Give *all* observations of the community (or topic), not only those in the period: older
    ones are the starting state carried into the first bucket.
    """
    period = parse_period(period) if isinstance(period, str) else period
    now_s = to_timestamp(now)
    times = np.asarray(timestamps, dtype=np.float64).ravel()
    in_past = times[times <= now_s]
    earliest = float(in_past.min()) if in_past.size else None
    granularity, starts = bucket_starts(period, now_s, earliest)
    sums, counts = trend_sums(member_ids, values, times, starts, now_s)
    return _trend(period, granularity, starts, now_s, sums, counts, k)


def daily_trend(
    days: npt.ArrayLike,
    changes: npt.ArrayLike,
    earliest: float | None,
    period: Period | str,
    now: datetime,
    *,
    k: int = DEFAULT_MIN_BUCKET,
) -> Trend:
    """The same trend as :func:`compute_trend`, from per-day changes instead of observations.

    ``days`` are ascending UTC day numbers (``floor(seconds / 86400)``); row i of ``changes``
    holds, for the positions -2..+2, how many more members hold each at the end of day i than
    before it (the ``stance_daily_changes`` table). ``earliest`` is the oldest observation's
    time (it picks the granularity of ``all``). Buckets start at midnight UTC, so a day falls
    in one bucket as a whole; days after ``now``'s are left out. O(days), whatever the number
    of observations behind them.
    """
    period = parse_period(period) if isinstance(period, str) else period
    now_s = to_timestamp(now)
    day_numbers = np.asarray(days, dtype=np.int64).ravel()
    per_day = np.asarray(changes, dtype=np.int64).reshape(day_numbers.size, len(SCALE))
    start = earliest if earliest is not None and earliest <= now_s else None
    granularity, starts = bucket_starts(period, now_s, start)
    past = day_numbers <= day_of(now_s)
    bucket = np.searchsorted(starts, day_numbers[past] * DAY, side="right") - 1
    per_bucket = np.zeros((starts.size, len(SCALE)), dtype=np.int64)
    np.add.at(per_bucket, np.maximum(bucket, 0), per_day[past])
    holding = per_bucket.cumsum(axis=0)
    sums = holding @ np.arange(-2, 3, dtype=np.int64)
    return _trend(period, granularity, starts, now_s, sums, holding.sum(axis=1), k)


def _trend(
    period: Period,
    granularity: Granularity,
    starts: npt.NDArray[np.float64],
    now_s: float,
    sums: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
    k: int,
) -> Trend:
    """The trend's points from each bucket's sum of positions and number of members."""
    ends = np.append(starts[1:], now_s)
    points = tuple(
        TrendPoint(
            start=from_timestamp(starts[i]),
            end=from_timestamp(ends[i]),
            count=int(counts[i]),
            mean=float(sums[i] / counts[i]) if counts[i] >= max(k, 1) else None,
        )
        for i in range(starts.size)
    )
    return Trend(period, granularity, points)
