import asyncio
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from bot.stance_scale import Stance
from bot.stances import charts
from bot.stances.charts import (
    PNG_MAGIC,
    render_community_chart,
    render_member_history,
    render_opinion_map,
)
from bot.stances.models import Observation
from bot.stances.opinion_map import build_opinion_map
from bot.stances.statistics import distribution, suppress_small
from tests.stances.test_trend import trend_of

NOW = datetime(2024, 3, 10, 12, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


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


def test_suppressed_bucket_is_drawn_without_its_height(monkeypatch) -> None:
    captured: list[Figure] = []

    def keep(figure: Figure) -> bytes:
        captured.append(figure)
        return PNG_MAGIC

    monkeypatch.setattr(charts, "_png", keep)
    render_community_chart(suppress_small({Stance(2): 10, Stance(-2): 2}))
    axis = captured[0].axes[0]
    bars = [p for p in axis.patches if isinstance(p, Rectangle)]
    heights = {round(p.get_x() + p.get_width() / 2): p.get_height() for p in bars}
    texts = {round(t.get_position()[0]): t.get_text() for t in axis.texts}
    assert heights[0] == 10 and texts[0] == "10"
    assert texts[4] == "<3"
    # Same outline whatever the true count (1 or 2): nothing to read off the chart.
    render_community_chart(suppress_small({Stance(2): 10, Stance(-2): 1}))
    other = [p for p in captured[1].axes[0].patches if isinstance(p, Rectangle)]
    assert [p.get_height() for p in other] == [p.get_height() for p in bars]


def test_rendering_needs_neither_pyplot_nor_discord() -> None:
    code = (
        "import sys, datetime as d\n"
        "import bot.stances, bot.stances.charts as c\n"
        "from bot.stances import community, export, models, opinion_map, profile, statistics, text\n"
        "from bot.stances import trend\n"
        "c.render_member_history([(d.datetime(2024, 1, 1, tzinfo=d.UTC), 1)])\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert 'discord' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
