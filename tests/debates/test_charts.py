import asyncio
import struct
import zlib

from matplotlib.colors import to_hex

from bot import chart_style
from bot.charts import PNG_MAGIC
from bot.debates.charts import (
    describe_oxford_chart,
    describe_quick_chart,
    describe_results_chart,
    render_oxford_chart,
    render_quick_chart,
    render_results_chart,
)
from bot.debates.debate import quick_result
from bot.debates.oxford import oxford_result
from bot.debates.poll import PollSpec
from bot.debates.tally import Tally
from bot.stance_scale import Stance
from tests.figures import drawn, texts


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, checking its CRC."""
    assert data[:8] == PNG_MAGIC == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    body = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert zlib.crc32(kind + body) == crc
    assert data.endswith(b"IEND\xaeB`\x82")
    width, height = struct.unpack(">II", body[:8])
    return width, height


SPEC = PollSpec(
    question="Which licence should an open model use when it is released for research?",
    options=("Apache-2.0", "MIT", "A licence with use restrictions for harmful applications"),
    max_choices=2,
)


def test_results_chart_is_a_png() -> None:
    tally = Tally.from_votes([(1, 0), (1, 1), (2, 0), (3, 2)], 3)
    width, height = png_size(render_results_chart(tally, SPEC))
    assert width > 300 and height > 100


def test_chart_grows_with_options_and_handles_no_votes() -> None:
    small = png_size(render_results_chart(Tally.empty(3), SPEC))
    big_spec = PollSpec(question="Many?", options=tuple(f"option {i}" for i in range(25)))
    big = png_size(render_results_chart(Tally.empty(25), big_spec))
    assert big[1] > small[1]


async def test_charts_render_in_worker_threads() -> None:
    tally = Tally.from_votes([(m, m % 3) for m in range(30)], 3)
    results = await asyncio.gather(
        *(asyncio.to_thread(render_results_chart, tally, SPEC) for _ in range(4))
    )
    for data in results:
        png_size(data)


def test_debate_charts() -> None:
    pre = {1: Stance(2), 2: Stance(0), 3: Stance(-2)}
    post = {1: Stance(2), 2: Stance(1), 3: Stance(-2)}
    png_size(render_oxford_chart(oxford_result(pre, post), "This house believes in tests."))
    png_size(render_oxford_chart(oxford_result({}, {}), "This house believes in nothing."))
    png_size(render_quick_chart(quick_result(post), "This house believes in tests."))
    png_size(render_quick_chart(quick_result({}), "This house believes in tests."))


def test_descriptions_say_what_the_charts_show() -> None:
    tally = Tally.from_votes([(1, 0), (2, 0), (3, 2)], 3)
    text = describe_results_chart(tally, SPEC)
    assert text.startswith("Bar chart of the votes, 3 voters:")
    assert "Apache-2.0: 2 (67%)" in text and "MIT: 0 (0%)" in text
    pre = {1: Stance(2), 2: Stance(0), 3: Stance(-2), 4: Stance(-1)}
    post = {1: Stance(2), 2: Stance(1), 3: Stance(-2), 4: Stance(-1)}
    assert describe_quick_chart(quick_result(post)).startswith(
        "Column chart of 4 voters by stance, mean +0.00: strongly share 1"
    )
    assert "share 25% → 50%" in describe_oxford_chart(oxford_result(pre, post))


def test_result_charts_use_the_side_colours(monkeypatch) -> None:
    chart = drawn(monkeypatch, render_quick_chart, quick_result({1: Stance(2)}), "Motion")
    colours = {to_hex(p.get_facecolor()) for p in chart.axes[0].patches}
    assert colours == {c.lower() for c in chart_style.SIDE_COLOURS}
    assert "Motion" in texts(chart)
