"""What ``/stance community`` computes, from the per-day changes of a community's positions (the
table ``stance_daily_changes``): the current positions' summary and the trend over a period, in
O(days) whatever the number of observations behind them.

The rule of the changes (the triggers of migration 0009 apply it): a member's first observation
on a topic adds 1 to its value on its day; each later one adds 1 to the new value and takes 1
from the previous one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from bot.stance_scale import SCALE, Stance
from bot.stances.statistics import CommunitySummary, summarise
from bot.stances.trend import Trend, TrendPoint, daily_trend


@dataclass(frozen=True, slots=True)
class DailyChanges:
    """A community's per-day position changes on one topic (see the module docstring).

    ``days``: ascending UTC day numbers; ``changes``: one row per day, columns -2..+2;
    ``earliest``: the oldest observation's time (None: no observation).
    """

    days: npt.NDArray[np.int64]
    changes: npt.NDArray[np.int64]
    earliest: float | None

    def holding(self) -> dict[Stance, int]:
        """How many members hold each position now (their latest observation)."""
        totals = self.changes.reshape(-1, len(SCALE)).sum(axis=0)
        return {stance: int(totals[int(stance) + 2]) for stance in SCALE}


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
