"""What ``/stance community`` computes from a community's observations (numpy; run it in a
worker thread): the current positions' summary and the trend over a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from bot.stances.statistics import CommunitySummary, distribution, latest_positions, summarise
from bot.stances.trend import Trend, TrendPoint, compute_trend


@dataclass(frozen=True, slots=True)
class ObservationColumns:
    """A community's observations as numpy columns, in time order (ties: insertion order)."""

    member_ids: npt.NDArray[np.int64]
    values: npt.NDArray[np.int8]
    timestamps: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.member_ids.size)


@dataclass(frozen=True, slots=True)
class CommunityPicture:
    summary: CommunitySummary
    trend: Trend | None

    @property
    def chart_trend(self) -> tuple[TrendPoint, ...] | None:
        """The trend to draw: none when the summary's figures are withheld (tiny community)."""
        return None if self.summary.withheld or self.trend is None else self.trend.points


def community_picture(
    columns: ObservationColumns, members_known: int, period: str, now: datetime
) -> CommunityPicture:
    """The summary of the members' latest positions and the trend over ``period``."""
    _, current = latest_positions(columns.member_ids, columns.values)
    summary = summarise(distribution(current), members_known)
    trend = None
    if len(columns):
        trend = compute_trend(columns.member_ids, columns.values, columns.timestamps, period, now)
    return CommunityPicture(summary, trend)


def community_positions(columns: ObservationColumns) -> dict[int, int]:
    """Every member's latest position (member id -> value), for a profile's comparison."""
    members, current = latest_positions(columns.member_ids, columns.values)
    return dict(zip(members.tolist(), current.tolist(), strict=True))
