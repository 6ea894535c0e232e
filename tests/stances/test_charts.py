import asyncio
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgb
from matplotlib.dates import DateFormatter, num2date
from matplotlib.patches import Polygon, Rectangle
from matplotlib.transforms import IdentityTransform

from bot import chart_style
from bot.charts import PNG_MAGIC
from bot.stance_scale import Stance
from bot.stances.charts import (
    describe_community_chart,
    describe_member_history,
    render_community_chart,
    render_member_history,
)
from bot.stances.map_chart import (
    CAPTION,
    DOT_BASE,
    describe_opinion_map,
    dot_sizes,
    hull,
    render_opinion_map,
    spots,
)
from bot.stances.models import Observation
from bot.stances.opinion_map import build_opinion_map
from bot.stances.statistics import distribution, suppress_small
from bot.stances.trend import TrendPoint
from tests.figures import drawn, inside, points, texts
from tests.stances.test_trend import trend_of

NOW = datetime(2024, 3, 10, 12, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
TWO_CAMPS = np.array([[1.0, 1, 1, -1, -1, -1, 1, 0]] * 20 + [[-1.0, -1, -1, 1, 1, 1, 1, 0]] * 12)


def trend_points():
    rows = [
        Observation(m, Stance((m % 5) - 2), NOW - timedelta(days=m % 20, hours=m))
        for m in range(40)
    ]
    return trend_of(rows, "30d", NOW).points


def is_png(data: bytes) -> bool:
    return isinstance(data, bytes) and data.startswith(PNG_MAGIC) and len(data) > 1000


async def test_charts_render_png_in_worker_threads() -> None:
    buckets = suppress_small(distribution([2, 2, 2, 1, 0, 0, 0, -2]))
    assert any(b.suppressed for b in buckets)
    history = [(NOW - timedelta(days=9), 1), (NOW - timedelta(days=3), -1)]
    matrix = np.random.default_rng(0).choice([1.0, -1.0, 0.0], size=(40, 10))
    results = await asyncio.gather(
        asyncio.to_thread(render_community_chart, buckets),
        asyncio.to_thread(render_community_chart, buckets, trend_points()),
        asyncio.to_thread(render_member_history, history, now=NOW, community_mean=0.4),
        asyncio.to_thread(render_member_history, []),
        asyncio.to_thread(render_opinion_map, build_opinion_map(matrix)),
        asyncio.to_thread(render_opinion_map, build_opinion_map(np.zeros((0, 0)))),
    )
    assert all(is_png(png) for png in results)


def test_many_threads_at_once() -> None:
    buckets = suppress_small({Stance(1): 4, Stance(-1): 1})
    with ThreadPoolExecutor(max_workers=6) as pool:
        pngs = list(pool.map(lambda _: render_community_chart(buckets, trend_points()), range(12)))
    assert all(is_png(png) for png in pngs)


def test_same_data_same_png() -> None:
    history = [(NOW - timedelta(days=2), 1)]
    first = render_member_history(history, now=NOW)
    render_community_chart(suppress_small({Stance(2): 5}))  # a reused figure in between
    assert render_member_history(history, now=NOW) == first


def test_suppressed_bucket_is_drawn_without_its_height(monkeypatch) -> None:
    def bars(counts: dict[Stance, int]) -> tuple[dict[int, float], dict[int, str]]:
        axis = drawn(monkeypatch, render_community_chart, suppress_small(counts)).axes[0]
        rects = [p for p in axis.patches if isinstance(p, Rectangle)]
        heights = {round(p.get_x() + p.get_width() / 2): p.get_height() for p in rects}
        labels = {round(t.get_position()[0]): t.get_text() for t in axis.texts}
        return heights, labels

    heights, labels = bars({Stance(2): 10, Stance(-2): 2})
    assert heights[0] == 10 and labels[0] == "10"
    assert labels[4] == "<3"
    # Same outline whatever the true count (1 or 2): nothing to read off the chart.
    other, _ = bars({Stance(2): 10, Stance(-2): 1})
    assert other == heights


def test_every_bucket_hidden_says_so(monkeypatch) -> None:
    chart = drawn(monkeypatch, render_community_chart, suppress_small({Stance(2): 1, Stance(0): 2}))
    assert any("counts are hidden" in t for t in texts(chart))


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (timedelta(seconds=20), "%H:%M"),  # a position set just now: times, not seconds
        (timedelta(hours=5), "%H:%M"),
        (timedelta(days=3), "%d %b\n%H:%M"),
        (timedelta(days=60), "%d %b"),
        (timedelta(days=500), "%b %Y"),
        (timedelta(days=2500), "%Y"),
    ],
)
def test_time_axis_fits_the_span(monkeypatch, span: timedelta, expected: str) -> None:
    history = [(NOW - span, 1), (NOW - span / 2, -1)]
    chart = drawn(monkeypatch, render_member_history, history, now=NOW)
    axis = chart.axes[0]
    formatter = axis.xaxis.get_major_formatter()
    assert isinstance(formatter, DateFormatter) and formatter.fmt == expected
    assert axis.xaxis.get_offset_text().get_text() == ""  # never "+2026-11-30 18:30"
    labels = [t.get_text() for t in axis.get_xticklabels() if t.get_text()]
    assert len(labels) >= 2
    low, high = (num2date(x) for x in axis.get_xlim())
    assert low <= NOW - span and high >= NOW  # every point inside the axis
    assert inside(axis, points(axis), margin=0.01)


def test_trend_of_a_day_old_community_spans_that_day(monkeypatch) -> None:
    day = NOW.replace(hour=0)
    trend = [
        TrendPoint(day - timedelta(days=d), day - timedelta(days=d - 1), 0, None)
        for d in range(29, 0, -1)
    ] + [TrendPoint(day, day + timedelta(days=1), 12, 0.5)]
    chart = drawn(monkeypatch, render_community_chart, suppress_small({Stance(2): 12}), trend)
    line = chart.axes[1]
    low, high = (num2date(x) for x in line.get_xlim())
    assert timedelta(days=1) <= high - low <= timedelta(days=1, hours=3)
    assert low <= day and high >= day + timedelta(days=1)
    assert line.xaxis.get_major_formatter().fmt == "%H:%M"  # type: ignore[attr-defined]
    assert "from 10 Mar 2024 to 11 Mar 2024" in describe_community_chart(
        suppress_small({Stance(2): 12}), trend
    )


def test_two_camps_map_shows_both_groups_with_regions_and_sized_dots(monkeypatch) -> None:
    opinion_map = build_opinion_map(TWO_CAMPS)
    assert [g.size for g in opinion_map.groups] == [20, 12]
    chart = drawn(monkeypatch, render_opinion_map, opinion_map)
    check_map(chart, opinion_map)
    assert [
        c.get_sizes()[0] for c in chart.axes[0].collections if isinstance(c, PathCollection)
    ] == pytest.approx(dot_sizes(np.array([20, 12])))  # one dot per camp, sized by its members


def check_map(chart, opinion_map) -> None:
    """Each group: one shaded region in its colour, one dot per spot sized by the members on
    it, its label inside the plot above its region; nothing on the border; the caption."""
    axis = chart.axes[0]
    regions = [p for p in axis.patches if isinstance(p, Polygon)]
    dots = [c for c in axis.collections if isinstance(c, PathCollection)]
    assert len(regions) == len(dots) == len(opinion_map.groups)
    assert inside(axis, points(axis), margin=0.05)
    found = spots(opinion_map)
    for index, group in enumerate(opinion_map.groups):
        colour = to_rgb(chart_style.GROUP_PALETTE[index])
        assert regions[index].get_facecolor()[:3] == pytest.approx(colour)
        assert dots[index].get_facecolor()[0][:3] == pytest.approx(colour)  # type: ignore[index]
        assert inside(axis, regions[index].get_xy(), margin=0.01)
        mine = found.group == index
        assert found.count[mine].sum() == group.size
        assert dots[index].get_sizes().tolist() == pytest.approx(dot_sizes(found.count[mine]))
        # Sized in points, as scatter's dots (not in data units: a dot a map wide)
        assert dots[index].get_transform() == IdentityTransform()
        label = next(a for a in axis.texts if a.get_text().startswith(f"{group.name} · "))
        assert label.get_text() == f"{group.name} · {group.size} members"
        outline = regions[index].get_xy()
        assert inside(axis, np.array([label.xy]), margin=0.01)
        assert outline[:, 0].min() <= label.xy[0] <= outline[:, 0].max()
        assert label.xy[1] == pytest.approx(outline[:, 1].max())
    assert CAPTION in texts(chart)


def test_map_dots_grow_with_members_on_the_same_spot() -> None:
    sizes = dot_sizes(np.array([1, 4, 20]))
    assert sizes[0] == DOT_BASE and sizes[0] < sizes[1] < sizes[2]


def test_hull() -> None:
    square = np.array([[0.0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5], [0.2, 0.7]])
    assert sorted(map(tuple, hull(square).tolist())) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert hull(np.array([[1.0, 1], [1, 1]])).shape == (1, 2)


def test_five_groups_map(monkeypatch) -> None:
    rng = np.random.default_rng(4)
    rows = []
    patterns = np.sign(rng.normal(size=(5, 20)))
    for pattern in patterns:
        for _ in range(15):
            row = pattern.copy()
            row[rng.random(20) < 0.05] *= -1
            rows.append(row)
    opinion_map = build_opinion_map(np.array(rows))
    assert len(opinion_map.groups) == 5
    chart = drawn(monkeypatch, render_opinion_map, opinion_map)
    check_map(chart, opinion_map)
    assert "5 shaded regions" in describe_opinion_map(opinion_map)


def test_empty_map_explains_itself(monkeypatch) -> None:
    chart = drawn(monkeypatch, render_opinion_map, build_opinion_map(np.zeros((0, 0))))
    assert any("Not enough votes yet" in t for t in texts(chart))


def test_descriptions_say_what_the_charts_show() -> None:
    history = [(NOW - timedelta(days=9), 1), (NOW - timedelta(days=3), -1)]
    text = describe_member_history(history, 0.25)
    assert "2 declared positions" in text and "lean share (+1)" in text
    assert "lean safeguard (-1)" in text and "+0.25" in text
    assert describe_member_history([]).startswith("The chart is empty")
    buckets = suppress_small({Stance(2): 5, Stance(-1): 1})
    assert "strongly share 5" in describe_community_chart(buckets)
    assert "lean safeguard <3" in describe_community_chart(buckets)


def test_rendering_needs_neither_pyplot_nor_discord() -> None:
    code = (
        "import sys, datetime as d\n"
        "import bot.stances, bot.stances.charts as c\n"
        "from bot.stances import community, export, models, opinion_map, profile, statistics, text\n"
        "from bot.stances import trend, map_chart\n"
        "assert 'matplotlib' not in sys.modules, 'naming a renderer loads no matplotlib'\n"
        "c.render_member_history([(d.datetime(2024, 1, 1, tzinfo=d.UTC), 1)])\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert 'discord' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
