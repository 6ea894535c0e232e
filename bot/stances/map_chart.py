"""The opinion map as a member reads it at a glance (``/stance map``).

- each group is a shaded region in its colour (the convex hull of its members, padded; a circle
  when they share one or two spots), with its name and size written inside the plot, beside its
  members;
- members are anonymous dots; members on the same spot are one dot, larger with more of them
  (its area grows with the count), so two tight camps show as two big dots, not two specks;
- the limits leave a margin around every dot and region: nothing sits on the border;
- one caption line says what the axes are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bot.stances.opinion_map import MIN_GROUP_SIZE, OpinionMap

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FloatArray = npt.NDArray[np.float64]
CAPTION = "Dot: members who voted alike (bigger: more). Axes: the main directions of disagreement."
#: A dot's area in points²: BASE for one member, growing with the square root of the count.
DOT_BASE, DOT_GROWTH = 40.0, 110.0
#: Share of the plotted range added around everything drawn.
MARGIN = 0.12


@dataclass(frozen=True, slots=True)
class Spots:
    """Members merged by position: ``xy`` (s × 2), ``count`` and ``group`` of each spot."""

    xy: FloatArray
    count: npt.NDArray[np.int64]
    group: npt.NDArray[np.int64]


def spots(opinion_map: OpinionMap, resolution: float = 0.01) -> Spots:
    """Members closer than ``resolution`` × the map's extent (and of one group) share a spot."""
    coords, labels = opinion_map.coords, opinion_map.labels
    if coords.shape[0] == 0:
        return Spots(np.zeros((0, 2)), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    extent = float(np.ptp(coords, axis=0).max()) or 1.0
    cells = np.round(coords / (extent * resolution)).astype(np.int64)
    keys = np.column_stack([cells, labels])
    unique, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    xy = np.zeros((unique.shape[0], 2))
    np.add.at(xy, inverse, coords)
    xy /= counts[:, None]
    return Spots(xy, counts.astype(np.int64), unique[:, 2].astype(np.int64))


def dot_sizes(counts: npt.NDArray[np.int64]) -> FloatArray:
    return DOT_BASE + DOT_GROWTH * (np.sqrt(counts.astype(np.float64)) - 1.0)


def hull(points: FloatArray) -> FloatArray:
    """Convex hull (counter-clockwise, Andrew's monotone chain) of 2-D points."""
    unique = np.unique(points, axis=0)  # sorted by x, then y
    if unique.shape[0] < 3:
        return unique
    ordered: list[tuple[float, float]] = [(x, y) for x, y in unique.tolist()]

    def half(sequence: list[tuple[float, float]]) -> list[tuple[float, float]]:
        chain: list[tuple[float, float]] = []
        for px, py in sequence:  # plain floats: several times faster than numpy scalars
            while len(chain) >= 2:
                (ax, ay), (bx, by) = chain[-2], chain[-1]
                if (bx - ax) * (py - ay) - (by - ay) * (px - ax) > 0:
                    break
                chain.pop()
            chain.append((px, py))
        return chain

    lower, upper = half(ordered), half(ordered[::-1])
    return np.array(lower[:-1] + upper[:-1])


def region(points: FloatArray, pad: float) -> FloatArray:
    """The shaded outline of a group: its hull pushed out by ``pad`` (points on a circle of
    radius ``pad`` around every hull corner, hulled again), so one spot or two make a disc or
    a capsule and a larger group a rounded polygon."""
    corners = hull(points)
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    ring = np.column_stack([np.cos(angles), np.sin(angles)]) * pad
    return hull((corners[:, None, :] + ring[None, :, :]).reshape(-1, 2))


def _fit(axis: Axes, drawn: FloatArray, extent: float) -> None:
    """Limits around everything drawn, with :data:`MARGIN` on every side, and one unit as long
    across as up (a round region stays round): the shorter side only ever grows."""
    low, high = drawn.min(axis=0), drawn.max(axis=0)
    span = np.maximum(high - low, extent * 0.2) * (1 + 2 * MARGIN)
    box = axis.get_position()
    figure = axis.get_figure(root=True)
    assert figure is not None
    width, height = figure.get_size_inches() * np.array([box.width, box.height])
    ratio = height / width
    span = np.maximum(span, [span[1] / ratio, span[0] * ratio])
    middle = (low + high) / 2
    axis.set_xlim(middle[0] - span[0] / 2, middle[0] + span[0] / 2)
    axis.set_ylim(middle[1] - span[1] / 2, middle[1] + span[1] / 2)


def render_opinion_map(opinion_map: OpinionMap, *, title: str = "Opinion map") -> bytes:
    """The map (see the module docstring); an explanation instead when nobody is placed yet."""
    from matplotlib.markers import MarkerStyle
    from matplotlib.patches import Polygon

    from bot import chart_style as style
    from bot.chart_canvas import Dots

    marker = MarkerStyle("o")
    dot = marker.get_path().transformed(marker.get_transform())  # as scatter draws a dot

    with style.figure("opinion-map", 6.4, 6.4) as chart:
        chart.subplots_adjust(left=0.04, right=0.96, top=0.92, bottom=0.08)
        axis = style.subplot(chart)
        axis.set_title(title, fontsize=12)
        axis.set_xticks([])
        axis.set_yticks([])
        for spine in axis.spines.values():
            spine.set_color("#cccccc")
        if opinion_map.is_empty:
            axis.text(
                0.5,
                0.5,
                f"Not enough votes yet: the map needs {MIN_GROUP_SIZE} members\n"
                f"with {opinion_map.min_votes} votes each (/stance vote).",
                ha="center",
                va="center",
                transform=axis.transAxes,
            )
            return style.png(chart)
        found = spots(opinion_map)
        extent = float(np.ptp(opinion_map.coords, axis=0).max()) or 1.0
        pad = 0.06 * extent
        outlines = []
        for index in range(len(opinion_map.groups)):
            colour = style.GROUP_PALETTE[index % len(style.GROUP_PALETTE)]
            mine = found.group == index
            outline = region(found.xy[mine], pad)
            outlines.append(outline)
            # Added as artists: the limits are set below (_fit), not grown shape by shape.
            axis.add_artist(
                Polygon(outline, closed=True, facecolor=colour, alpha=0.18, edgecolor=colour)
            )
            axis.add_collection(
                Dots(
                    (dot,),
                    sizes=dot_sizes(found.count[mine]),
                    offsets=found.xy[mine],
                    offset_transform=axis.transData,
                    facecolors=colour,
                    edgecolors="white",
                    linewidths=0.8,
                    zorder=3,
                ),
                autolim=False,
            )
        _fit(axis, np.vstack(outlines), extent)
        for index, group in enumerate(opinion_map.groups):
            colour = style.GROUP_PALETTE[index % len(style.GROUP_PALETTE)]
            top = outlines[index][outlines[index][:, 1].argmax()]
            axis.annotate(
                f"{group.name} · {group.size} member{'s' if group.size != 1 else ''}",
                (float(np.mean(outlines[index][:, 0])), float(top[1])),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=10,
                color=style.INK,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": colour},
                zorder=4,
                annotation_clip=True,
            )
        style.caption(chart, CAPTION)
        return style.png(chart)


def describe_opinion_map(opinion_map: OpinionMap) -> str:
    """What :func:`render_opinion_map` shows, in words."""
    if opinion_map.is_empty:
        return "The map is empty: not enough members have voted yet."
    groups = ", ".join(
        f"group {g.name} with {g.size} member{'s' if g.size != 1 else ''}"
        for g in opinion_map.groups
    )
    return (
        f"Map of {len(opinion_map.member_ids)} members as dots, placed by how alike they voted; "
        f"{len(opinion_map.groups)} shaded region{'s' if len(opinion_map.groups) != 1 else ''}: "
        f"{groups}."
    )
