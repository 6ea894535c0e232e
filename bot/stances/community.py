"""What ``/stance community`` computes, from the per-day changes of a community's positions that
the repositories keep up to date (``stance_daily_changes``): the current positions' summary and
the trend over a period, in O(days) whatever the number of observations behind them.

:func:`position_changes` is the rule those changes follow, for one member's observations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from bot.stance_scale import SCALE, Stance
from bot.stances.statistics import CommunitySummary, summarise
from bot.stances.trend import Trend, TrendPoint, daily_trend, day_of

#: One change per position, in the order -2, -1, 0, +1, +2 (index = value + 2).
Changes = list[int]


@dataclass(frozen=True, slots=True)
class DailyChanges:
    """A community's per-day position changes on one topic (see :func:`position_changes`).

    ``days``: ascending UTC day numbers; ``changes``: one row per day, columns -2..+2;
    ``earliest``: the oldest observation's time (None: no observation).
    """

    days: npt.NDArray[np.int64]
    changes: npt.NDArray[np.int64]
    earliest: float | None

    def holding(self) -> dict[Stance, int]:
        """How many members hold each position now (their latest observation)."""
        totals = self.changes.sum(axis=0) if self.days.size else np.zeros(len(SCALE), np.int64)
        return {stance: int(totals[int(stance) + 2]) for stance in SCALE}


def position_changes(observations: Iterable[tuple[float, int]]) -> dict[int, Changes]:
    """The per-day changes one member's observations on one topic make, ``{day: changes}``.

    ``observations``: (time, value) in the member's order (time, then insertion). The first
    observation adds the member to its value; each later one moves them from the previous
    value to the new one. Summed over days, every member counts once, at their latest value.
    """
    result: dict[int, Changes] = {}
    previous: int | None = None
    for at, value in observations:
        row = result.setdefault(day_of(at), [0] * len(SCALE))
        row[value + 2] += 1
        if previous is not None:
            row[previous + 2] -= 1
        previous = value
    return result


@dataclass(frozen=True, slots=True)
class CommunityPicture:
    summary: CommunitySummary
    trend: Trend | None

    @property
    def chart_trend(self) -> tuple[TrendPoint, ...] | None:
        """The trend to draw: none when the summary's figures are withheld (tiny community)."""
        return None if self.summary.withheld or self.trend is None else self.trend.points


def community_picture(
    daily: DailyChanges, members_known: int, period: str, now: datetime
) -> CommunityPicture:
    """The summary of the members' latest positions and the trend over ``period``."""
    summary = summarise(daily.holding(), members_known)
    trend = None
    if daily.earliest is not None:
        trend = daily_trend(daily.days, daily.changes, daily.earliest, period, now)
    return CommunityPicture(summary, trend)
