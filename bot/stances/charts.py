"""PNG charts for stances: a member's history and the community's picture (the opinion map is in
:mod:`bot.stances.map_chart`), each with a sentence saying what it shows.

The renderers run in the bot's chart workers (:mod:`bot.charts`)::

    png = await charts.render(render_community_chart, summary.buckets, trend.points)

They import matplotlib (through :mod:`bot.chart_style`) only when called, so the bot process
that merely names them never loads it. Charts never show member names; a hidden bucket ("<3")
is drawn as an outline of a fixed height that says nothing about its count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from bot.stance_scale import SCALE, Stance
from bot.stances.statistics import Bucket
from bot.stances.trend import TrendPoint

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: The scale's labels on a stance axis.
_SCALE_LABELS = [f"{int(s):+d} {s.label}" for s in SCALE]


def _stance_axis(axis: Axes) -> None:
    axis.set_ylim(-2.4, 2.4)
    axis.set_yticks([int(s) for s in SCALE], _SCALE_LABELS)


def stance_colour(stance: Stance) -> str:
    from bot.chart_style import STANCE_PALETTE

    return STANCE_PALETTE[SCALE.index(stance)]


def render_member_history(
    points: Sequence[tuple[datetime, int]],
    *,
    now: datetime | None = None,
    community_mean: float | None = None,
    title: str = "Your stance over time",
) -> bytes:
    """A step chart of one member's positions; the last one extends to ``now``.

    ``points`` are ``(time, value)`` pairs (e.g. from ``MemberProfile.history``), any order;
    ``community_mean`` adds a dashed reference line. The time axis fits the span, from a few
    minutes (a position set just now) to years. The frame, the scale and the words are a
    backdrop drawn once per worker (:func:`bot.chart_style.backdrop`); only the member's data
    and the time axis are drawn for each chart.
    """
    from bot import chart_style as style

    ordered = sorted(points, key=lambda p: p[0])
    with style.backdrop(f"member-history:{title}", 6.4, 3.0, partial(_history_frame, title)) as bg:
        axis = bg.figure.axes[0]
        added = bg.added
        if ordered:
            times = [p[0] for p in ordered]
            values = [int(p[1]) for p in ordered]
            end = max(now or times[-1], times[-1])
            steps_x, steps_y = [*times, end], [*values, values[-1]]
            added += axis.step(
                style.dates(steps_x), steps_y, where="post", color=style.BLUE, linewidth=2
            )
            added.append(axis.scatter(style.dates(times), values, color=style.BLUE, s=28, zorder=3))
            style.time_axis(axis, times[0], end)
            axis.xaxis.set_visible(True)
        else:
            axis.xaxis.set_visible(False)
            added.append(
                axis.text(0.5, 0.5, "No positions yet", ha="center", transform=axis.transAxes)
            )
        if community_mean is not None:
            added.append(
                axis.axhline(community_mean, color=style.VERMILLION, linestyle="--", linewidth=1.5)
            )
            added.append(
                axis.text(
                    1.0,
                    community_mean,
                    "community mean ",
                    transform=axis.get_yaxis_transform(),
                    ha="right",
                    va="bottom",
                    fontsize=8,
                    color=style.VERMILLION,
                )
            )
        return style.png(bg.figure, bg, [*added, axis.xaxis] if ordered else added)


def _history_frame(title: str, chart: Figure) -> None:
    """What every member's history chart shares: frame, scale, title, caption."""
    from bot import chart_style as style

    chart.subplots_adjust(left=0.25, right=0.97, top=0.88, bottom=0.27)
    axis = chart.add_subplot()
    _stance_axis(axis)
    axis.axhline(0, color="#dddddd", linewidth=0.8, zorder=0)
    style.declutter(axis, categories="y")
    axis.set_title(title)
    axis.xaxis.set_visible(False)  # drawn with each chart, for its span
    style.caption(chart, "Dots: each position you declared; the line: your position since.")


def describe_member_history(
    points: Sequence[tuple[datetime, int]], community_mean: float | None = None
) -> str:
    """What :func:`render_member_history` shows, in words."""
    if not points:
        return "The chart is empty: no position declared yet."
    ordered = sorted(points, key=lambda p: p[0])
    first, last = ordered[0], ordered[-1]
    text = (
        f"Chart of your {len(ordered)} declared position{'s' if len(ordered) != 1 else ''} "
        f"from {first[0]:%d %b %Y} to {last[0]:%d %b %Y}: "
        f"from {Stance(first[1]).label.lower()} ({first[1]:+d}) "
        f"to {Stance(last[1]).label.lower()} ({last[1]:+d})"
    )
    if community_mean is not None:
        text += f"; the dashed line is the community's mean, {community_mean:+.2f}"
    return text + "."


def render_community_chart(
    buckets: Sequence[Bucket],
    trend: Sequence[TrendPoint] | None = None,
    *,
    title: str = "Where the community stands",
) -> bytes:
    """Distribution bars (hidden buckets: a hatched outline and "<3", no height) and, when
    ``trend`` is given, the mean over time (gaps where it is hidden) with the members it
    covers as pale bars. The trend starts at the first period with a position: a community
    a day old shows that day, not a month of empty periods. What does not depend on the data
    (titles, the stance scale, the bars' names, frames) is a backdrop drawn once per worker;
    each chart draws its bars, lines, counts, time axis and caption over it."""
    from bot import chart_style as style

    shown = _trimmed(trend)
    frame = partial(_community_frame, title, bool(shown))
    kind = f"community:{bool(shown)}:{title}"
    with style.backdrop(kind, 10 if shown else 6, 4, frame) as bg:
        chart = bg.figure
        layers = []
        period = ""
        if shown:
            layers += _trend(chart.axes[1], chart.axes[2], shown, bg.added)
            period = f" Trend from {shown[0].start:%d %b %Y} to {shown[-1].end:%d %b %Y}."
        layers += _distribution(chart.axes[0], buckets, bg.added)
        note = "Members by current position; '<3': 1–2 members, hidden." + period
        bg.added.append(style.caption(chart, note))
        return style.png(chart, bg, [*layers, bg.added[-1]])


#: The distribution's bars, left to right.
_BAR_ORDER = sorted(SCALE, key=lambda s: -int(s))


def _community_frame(title: str, with_trend: bool, chart: Figure) -> None:
    """The community chart's unchanging part; its data axes are hidden until a chart shows
    them (they are drawn with each chart, for its data)."""
    from matplotlib.ticker import MaxNLocator

    from bot import chart_style as style

    chart.suptitle(title, x=0.01, ha="left", fontsize=12)
    chart.subplots_adjust(left=0.07, right=0.93, top=0.85, bottom=0.2, wspace=0.5)
    bars = chart.add_subplot(1, 2 if with_trend else 1, 1)
    style.declutter(bars, categories="x")
    bars.set_xlim(-0.6, len(_BAR_ORDER) - 0.4)
    bars.set_xticks(range(len(_BAR_ORDER)), [s.label.replace(" ", "\n") for s in _BAR_ORDER])
    bars.set_title("Current positions", fontsize=10)
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))  # members: whole numbers
    bars.yaxis.set_visible(False)
    if not with_trend:
        return
    line = chart.add_subplot(1, 2, 2)
    _stance_axis(line)
    style.declutter(line, categories="y")
    line.set_title("Mean position over time", fontsize=10)
    line.xaxis.set_visible(False)
    counts = line.twinx()
    counts.tick_params(labelsize=style.TICK_SIZE)
    counts.spines["top"].set_visible(False)
    counts.yaxis.set_major_locator(MaxNLocator(integer=True))
    counts.yaxis.set_visible(False)
    line.set_zorder(counts.get_zorder() + 1)
    line.patch.set_visible(False)


def _trimmed(trend: Sequence[TrendPoint] | None) -> tuple[TrendPoint, ...]:
    """The trend from its first period with a member (earlier periods are empty)."""
    points = tuple(trend or ())
    first = next((i for i, p in enumerate(points) if p.count > 0), len(points))
    return points[first:]


def _distribution(axis: Axes, buckets: Sequence[Bucket], added: list[Artist]) -> list[Artist]:
    """The bars, their counts and the count axis on ``axis``; returns what to draw, in order
    (the artists are also put in ``added``, to be taken off for the next chart)."""
    from bot import chart_style as style

    mine: list[Artist] = []
    visible = max([b.count or 0 for b in buckets] + [1])
    for bucket in buckets:
        i = _BAR_ORDER.index(bucket.stance)
        colour = stance_colour(bucket.stance)
        if bucket.count is None:
            # Deliberately no height: an outline at a fixed size that says nothing.
            mine += style.bars(
                axis, [i], [visible * 0.08], colours="none", edgecolor=colour, hatch="///"
            )
            top = visible * 0.1
        else:
            mine += style.bars(axis, [i], [bucket.count], colours=colour)
            top = bucket.count
        mine.append(axis.text(i, top, bucket.text, ha="center", va="bottom", fontsize=9))
    axis.set_ylim(0, visible * 1.18)
    axis.yaxis.set_visible(True)
    style.label_y(axis, "members", str(int(visible * 1.18)), fontsize=9)
    if buckets and all(b.count is None or b.count == 0 for b in buckets):
        note = "Every position has fewer than 3 members:\ncounts are hidden"
        mine.append(
            axis.text(
                0.5, 0.6, note, ha="center", transform=axis.transAxes, fontsize=9, color=style.MUTED
            )
        )
    added += mine
    return [*mine, axis.yaxis]


def _trend(
    axis: Axes, counts: Axes, points: Sequence[TrendPoint], added: list[Artist]
) -> list[Artist]:
    """The mean over time on ``axis`` and the members it covers on its twin ``counts``;
    returns what to draw, in order (see :func:`_distribution`)."""
    from matplotlib.collections import PolyCollection

    from bot import chart_style as style

    starts = style.dates([p.start for p in points])
    ends = style.dates([p.end for p in points])
    middles = [(a + b) / 2 for a, b in zip(starts, ends, strict=True)]
    means = [float("nan") if p.mean is None else p.mean for p in points]
    # The members covered, one pale bar per period: one collection (cheap to draw).
    columns = [
        [(a, 0), (a, p.count), (a + 0.9 * (b - a), p.count), (a + 0.9 * (b - a), 0)]
        for a, b, p in zip(starts, ends, points, strict=True)
    ]
    pale = PolyCollection(columns, facecolors=style.SKY_BLUE, alpha=0.3, edgecolors="none")
    counts.add_collection(pale, autolim=False)
    most = max([p.count for p in points] + [1]) * 1.15
    counts.set_ylim(0, most)
    counts.yaxis.set_visible(True)
    style.label_y(counts, "members with a position", str(int(most)), right=True, fontsize=8)
    style.time_axis(axis, points[0].start, points[-1].end)
    axis.xaxis.set_visible(True)
    middle = axis.axhline(0, color="#dddddd", linewidth=0.8, zorder=0)
    (line,) = axis.plot(middles, means, marker="o", color=style.INK, linewidth=2, markersize=4)
    added += [pale, middle, line]
    return [pale, counts.yaxis, middle, line, axis.xaxis]


def describe_community_chart(
    buckets: Sequence[Bucket], trend: Sequence[TrendPoint] | None = None
) -> str:
    """What :func:`render_community_chart` shows, in words."""
    ordered = sorted(buckets, key=lambda b: -int(b.stance))
    parts = [f"{b.stance.label.lower()} {b.text}" for b in ordered]
    text = "Bar chart of members by current position: " + ", ".join(parts) + "."
    shown = _trimmed(trend)
    if shown:
        means = [p.mean for p in shown if p.mean is not None]
        text += (
            f" Line chart of the mean position from {shown[0].start:%d %b %Y} "
            f"to {shown[-1].end:%d %b %Y}"
        )
        text += f", from {means[0]:+.2f} to {means[-1]:+.2f}." if means else " (hidden: <3)."
    return text
