"""PNG charts for stances, rendered with matplotlib's object API (no pyplot).

Every function builds its own ``Figure`` on an Agg canvas and returns PNG bytes, so there is no
global figure state; a module lock serialises rendering because matplotlib's text and font
caches are not guaranteed thread-safe. The service renders them in the bot's one chart worker
process (:mod:`bot.charts`), which alone imports matplotlib (inside the functions)::

    png = await charts.render(render_community_chart, summary.buckets, trend.points)

Charts never show member names, and suppressed buckets are drawn without their height.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bot.stance_scale import SCALE, Stance
from bot.stances.opinion_map import MIN_GROUP_SIZE, OpinionMap
from bot.stances.statistics import Bucket
from bot.stances.trend import TrendPoint

if TYPE_CHECKING:  # matplotlib is imported by the functions, in the chart worker only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_RENDER_LOCK = threading.Lock()
_DPI = 100

#: Diverging colours from strongly share (blue) to strongly safeguard (orange); Okabe-Ito based.
STANCE_COLOURS: dict[Stance, str] = {
    Stance.STRONGLY_SHARE: "#0072B2",
    Stance.LEAN_SHARE: "#56B4E9",
    Stance.UNDECIDED: "#999999",
    Stance.LEAN_SAFEGUARD: "#F0A050",
    Stance.STRONGLY_SAFEGUARD: "#D55E00",
}
#: Colour-blind-safe group colours for the opinion map (Okabe-Ito).
GROUP_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9")


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _dates(moments: Sequence[datetime]) -> npt.NDArray[np.float64]:
    """Matplotlib date numbers (days); the axis is then marked as a date axis."""
    from matplotlib.dates import date2num

    return np.asarray(date2num(list(moments)), dtype=np.float64)


def _date_axis(axis: Axes) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=3, maxticks=7)
    axis.xaxis.set_major_locator(locator)
    axis.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _stance_axis(axis: Axes) -> None:
    axis.set_ylim(-2.3, 2.3)
    axis.set_yticks([int(s) for s in SCALE], [f"{int(s):+d} {s.label}" for s in SCALE])
    axis.axhline(0, color="#cccccc", linewidth=0.8, zorder=0)


def render_member_history(
    points: Sequence[tuple[datetime, int]],
    *,
    now: datetime | None = None,
    community_mean: float | None = None,
    title: str = "Your stance over time",
) -> bytes:
    """A small step chart of one member's positions; the last one extends to ``now``.

    ``points`` are ``(time, value)`` pairs (e.g. from ``MemberProfile.history``), any order.
    ``community_mean`` adds a dashed reference line.
    """
    ordered = sorted(points, key=lambda p: p[0])
    from matplotlib.figure import Figure

    with _RENDER_LOCK:
        figure = Figure(figsize=(6, 2.6), layout="constrained")
        axis = figure.add_subplot()
        _stance_axis(axis)
        axis.set_title(title, fontsize=10)
        if ordered:
            times = [p[0] for p in ordered]
            values = [int(p[1]) for p in ordered]
            if now is not None and now > times[-1]:
                times.append(now)
                values.append(values[-1])
            axis.step(_dates(times), values, where="post", color="#0072B2", linewidth=2)
            axis.scatter(
                _dates([p[0] for p in ordered]),
                [int(p[1]) for p in ordered],
                color="#0072B2",
                zorder=3,
            )
            _date_axis(axis)
        else:
            axis.text(0.5, 0.5, "No positions yet", ha="center", transform=axis.transAxes)
        if community_mean is not None:
            axis.axhline(community_mean, color="#D55E00", linestyle="--", label="community mean")
            axis.legend(loc="best", fontsize=8)
        axis.tick_params(labelsize=8)
        return _png(figure)


def render_community_chart(
    buckets: Sequence[Bucket],
    trend: Sequence[TrendPoint] | None = None,
    *,
    title: str = "Where the community stands",
) -> bytes:
    """Distribution bars (suppressed buckets: a hatched outline and "<3", no height) and,
    when ``trend`` is given, the mean over time with gaps where it is suppressed."""
    from matplotlib.figure import Figure

    with _RENDER_LOCK:
        figure = Figure(figsize=(10 if trend else 6, 4), layout="constrained")
        figure.suptitle(title)
        bars = figure.add_subplot(1, 2 if trend else 1, 1)
        ordered = sorted(buckets, key=lambda b: -int(b.stance))
        labels = [b.stance.label.replace(" ", "\n") for b in ordered]
        x = np.arange(len(ordered))
        visible = max([b.count or 0 for b in ordered] + [1])
        for i, bucket in enumerate(ordered):
            colour = STANCE_COLOURS[bucket.stance]
            if bucket.count is None:
                # Deliberately no height: an outline at a fixed size that says nothing.
                bars.bar(i, visible * 0.08, color="none", edgecolor=colour, hatch="///")
                bars.text(i, visible * 0.1, bucket.text, ha="center", va="bottom", fontsize=9)
            else:
                bars.bar(i, bucket.count, color=colour)
                bars.text(i, bucket.count, bucket.text, ha="center", va="bottom", fontsize=9)
        bars.set_xticks(x, labels, fontsize=8)
        bars.set_ylim(0, visible * 1.15)
        bars.set_ylabel("members")
        bars.set_title("Current positions", fontsize=10)
        if trend:
            line = figure.add_subplot(1, 2, 2)
            _stance_axis(line)
            starts = _dates([p.start for p in trend])
            means = [np.nan if p.mean is None else p.mean for p in trend]
            line.plot(starts, means, marker="o", color="#333333", linewidth=2, markersize=3)
            counts = line.twinx()
            counts.bar(
                starts,
                [p.count for p in trend],
                width=_bar_width(trend),
                align="edge",
                color="#0072B2",
                alpha=0.15,
            )
            counts.set_ylabel("members with a position", fontsize=8)
            counts.set_ylim(0, max([p.count for p in trend] + [1]) * 1.1)
            line.set_zorder(counts.get_zorder() + 1)
            line.patch.set_visible(False)
            _date_axis(line)
            line.set_title("Mean position over time", fontsize=10)
            line.tick_params(labelsize=8)
        return _png(figure)


def _bar_width(trend: Sequence[TrendPoint]) -> float:
    """Bar width in days (matplotlib's date unit) for the trend buckets."""
    spans = [(p.end - p.start).total_seconds() / 86_400 for p in trend[:-1]]
    return 0.8 * (min(spans) if spans else 1.0)


def render_opinion_map(opinion_map: OpinionMap, *, title: str = "Opinion map") -> bytes:
    """Members as anonymous dots coloured by group, with each group's name and size."""
    from matplotlib.figure import Figure

    with _RENDER_LOCK:
        figure = Figure(figsize=(6, 6), layout="constrained")
        axis = figure.add_subplot()
        axis.set_title(title)
        axis.set_xticks([])
        axis.set_yticks([])
        if opinion_map.is_empty:
            axis.text(
                0.5,
                0.5,
                f"Not enough votes yet: the map needs {MIN_GROUP_SIZE} members with "
                f"{opinion_map.min_votes} votes each.",
                ha="center",
                wrap=True,
                transform=axis.transAxes,
            )
            return _png(figure)
        coords = opinion_map.coords
        for index, group in enumerate(opinion_map.groups):
            chosen = opinion_map.labels == index
            colour = GROUP_COLOURS[index % len(GROUP_COLOURS)]
            axis.scatter(coords[chosen, 0], coords[chosen, 1], s=18, alpha=0.7, color=colour)
            axis.annotate(
                f"{group.name} ({group.size})",
                group.centroid,
                fontsize=12,
                fontweight="bold",
                ha="center",
                color="black",
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": colour},
            )
        axis.axhline(0, color="#dddddd", linewidth=0.8, zorder=0)
        axis.axvline(0, color="#dddddd", linewidth=0.8, zorder=0)
        return _png(figure)
