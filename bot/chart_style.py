"""What every chart of every feature shares: fonts, colours, time axes, reused figures, PNG output.

- **Fonts**: text a member typed (:data:`ANY_SCRIPT_FONTS`) is set in DejaVu Sans (matplotlib's own)
  with Noto Sans CJK (Chinese, Japanese, Korean), Noto Sans Arabic, Noto Sans Symbols and Noto
  Emoji as fallbacks, so a poll question in any of those scripts or with emoji draws its glyphs,
  not empty boxes. The Noto fonts come
  from the project's own dependencies (``noto-cjk-sans-otc``, ``manimgx-fonts``: SIL OFL), never
  from a download at run time.
- **Colours**: the Okabe-Ito palette, distinguishable with every common colour-vision
  deficiency; sides and stances diverge from blue (share) to vermillion (safeguard).
- **Time axes** (:func:`time_axis`): ticks and labels chosen from the span shown, from a few
  minutes to years; never an offset ("+2026-11-30 18:30") or fractional seconds.
- **Reused figures** (:func:`figure`): one ``Figure`` per chart kind lives in each rendering
  process and is cleared for the next chart instead of being built anew; with fixed margins
  (no layout engine) and a fast PNG encoding. The most asked chart (``/stance me``) goes further
  (:func:`backdrop`): its unchanging part is drawn once per process and only the member's own
  data is drawn over it.

Rendering goes through :data:`RENDER_LOCK`: matplotlib's text and font caches are not
guaranteed thread-safe, and a reused figure belongs to one chart at a time.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.dates import AutoDateLocator, DateFormatter, date2num  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

DPI = 100
RENDER_LOCK = threading.RLock()

# -- colours (Okabe & Ito, "Color Universal Design") ------------------------------------------
BLUE = "#0072B2"
SKY_BLUE = "#56B4E9"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
GREEN = "#009E73"
PURPLE = "#CC79A7"
YELLOW = "#F0E442"
GREY = "#999999"
INK = "#333333"
MUTED = "#666666"
#: Share → undecided → safeguard.
SIDE_COLOURS = (BLUE, GREY, VERMILLION)
#: Strongly share … strongly safeguard (diverging).
STANCE_PALETTE = (BLUE, SKY_BLUE, GREY, ORANGE, VERMILLION)
#: Opinion groups A, B, C, D, E.
GROUP_PALETTE = (BLUE, ORANGE, GREEN, PURPLE, SKY_BLUE)

# -- fonts ------------------------------------------------------------------------------------
FONT_FAMILIES = (
    "DejaVu Sans",
    "Noto Sans CJK JP",
    "Noto Sans Arabic",
    "Noto Sans Symbols",
    "Noto Emoji",
)
_FONT_FILES = (
    ("noto_cjk_sans_otc", "NotoSansCJK-Regular.ttc"),
    ("manimgx_fonts", "NotoSansArabic[wght].ttf"),
    ("manimgx_fonts", "NotoSansSymbols[wght].ttf"),
    ("manimgx_fonts", "NotoEmoji[wght].ttf"),
)
#: For text a member typed (a question, an option, a motion): every font, in fallback order.
#: Agora's own words use DejaVu Sans alone: laying text out over five fonts costs several times
#: more, and a chart carries a few dozen texts.
ANY_SCRIPT_FONTS = list(FONT_FAMILIES)
_fonts_ready = False


def setup_fonts() -> None:
    """Register the shipped Noto fonts with matplotlib and make them the fallbacks (once per
    process). A missing font package leaves DejaVu Sans alone: charts still render."""
    global _fonts_ready
    with RENDER_LOCK:
        if _fonts_ready:
            return
        for package, name in _FONT_FILES:
            try:
                path = resources.files(package).joinpath(name)
            except ModuleNotFoundError:
                continue
            if path.is_file():
                font_manager.fontManager.addfont(str(path))
        matplotlib.rcParams["font.family"] = FONT_FAMILIES[0]
        matplotlib.rcParams["axes.titlesize"] = 11
        matplotlib.rcParams["axes.titlelocation"] = "left"
        _fonts_ready = True


# -- figures ----------------------------------------------------------------------------------
_figures: dict[str, Figure] = {}
#: How many axes the chart being drawn has asked for, per reused figure.
_asked: dict[int, int] = {}


@contextmanager
def figure(kind: str, width: float, height: float) -> Iterator[Figure]:
    """This process's figure for ``kind``, held under the render lock. A figure used before
    keeps its axes (see :func:`subplot`) with what the previous chart drew taken off: making
    the axes and their ticks anew is, after the text, most of a chart's cost."""
    with RENDER_LOCK:
        setup_fonts()
        found = _figures.get(kind)
        if found is None:
            found = Figure(figsize=(width, height), dpi=DPI)
            FigureCanvasAgg(found)
            _figures[kind] = found
        else:
            _take_off(found)
        _asked[id(found)] = 0
        yield found


def _take_off(chart: Figure) -> None:
    """Remove the previous chart's artists, keep the axes (same kind: same layout)."""
    for axis in chart.axes:
        for artist in [*axis.patches, *axis.lines, *axis.texts, *axis.collections, *axis.images]:
            artist.remove()
        axis.containers.clear()
        if axis.legend_ is not None:
            axis.legend_.remove()
        axis.relim()
    for text in list(chart.texts):
        text.remove()
    chart.suptitle("")


def subplot(chart: Figure, *layout: int) -> Axes:
    """The axes at ``layout`` (``add_subplot``'s arguments): made the first time, the same axes
    when the figure is reused (axes are handed out in the order the chart asks for them)."""
    return _next_axes(chart, lambda: chart.add_subplot(*layout))


def twin(chart: Figure, axis: Axes) -> Axes:
    """``axis.twinx()``, made once per reused figure (see :func:`subplot`)."""
    return _next_axes(chart, axis.twinx)


def _next_axes(chart: Figure, make: Callable[[], Axes]) -> Axes:
    index = _asked.get(id(chart), 0)
    _asked[id(chart)] = index + 1
    return chart.axes[index] if index < len(chart.axes) else make()


def png(chart: Figure, over: Backdrop | None = None, artists: Sequence[Artist] = ()) -> bytes:
    """Draw and encode: RGB, fast deflate (a chart's flat colours compress well anyway). With a
    backdrop, only ``artists`` are drawn, over its saved pixels."""
    canvas = chart.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    if over is None:
        canvas.draw()
    else:
        canvas.restore_region(over.pixels)
        renderer = canvas.get_renderer()
        for artist in artists:
            artist.draw(renderer)
    image = Image.frombuffer(
        "RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1
    ).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


@dataclass
class Backdrop:
    """A reused figure's unchanging part (frame, scale labels, title, caption) drawn once; each
    chart restores its pixels and draws only what it adds (most of a chart's CPU is text)."""

    figure: Figure
    pixels: Any
    added: list[Artist] = field(default_factory=list)


_backdrops: dict[str, Backdrop] = {}


@contextmanager
def backdrop(
    kind: str, width: float, height: float, build: Callable[[Figure], None]
) -> Iterator[Backdrop]:
    """This process's backdrop for ``kind``: built by ``build`` and drawn the first time; the
    artists the previous chart added (``added``) are taken off. Held under the render lock."""
    with RENDER_LOCK:
        setup_fonts()
        found = _backdrops.get(kind)
        if found is None:
            chart = Figure(figsize=(width, height), dpi=DPI)
            canvas = FigureCanvasAgg(chart)
            build(chart)
            canvas.draw()
            found = _backdrops[kind] = Backdrop(chart, canvas.copy_from_bbox(chart.bbox))
        for artist in found.added:
            artist.remove()
        found.added.clear()
        yield found


def caption(chart: Figure, text: str) -> None:
    """One line under the plot saying what it shows (the axes, the period...)."""
    chart.text(0.01, 0.015, text, fontsize=8, color=MUTED, ha="left", va="bottom")


def declutter(axis: Axes) -> None:
    for edge in ("top", "right"):
        axis.spines[edge].set_visible(False)
    axis.tick_params(labelsize=8)


# -- time axes --------------------------------------------------------------------------------
#: (longest span, tick label format, axis label) from the shortest span up.
_TIME_FORMATS: tuple[tuple[timedelta, str, str], ...] = (
    (timedelta(days=1), "%H:%M", "time (UTC), {day}"),
    (timedelta(days=7), "%d %b\n%H:%M", "date and time (UTC)"),
    (timedelta(days=200), "%d %b", "date ({year})"),
    (timedelta(days=3 * 365), "%b %Y", "month"),
    (timedelta.max, "%Y", "year"),
)
#: A span is never drawn narrower than this (one point, or a few seconds of history).
MIN_SPAN = timedelta(minutes=10)


def time_format(span: timedelta) -> str:
    """The tick label format for a time axis covering ``span``."""
    return next(fmt for limit, fmt, _ in _TIME_FORMATS if span <= limit)


def time_axis(axis: Axes, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Make ``axis.xaxis`` a time axis from ``start`` to ``end`` (widened to :data:`MIN_SPAN`,
    padded by 3 % on each side), its labels chosen for that span. Returns the limits used."""
    if end - start < MIN_SPAN:
        start = end - MIN_SPAN
    pad = (end - start) * 0.03
    low, high = start - pad, end + pad
    axis.set_xlim(float(date2num(low)), float(date2num(high)))
    _, fmt, label = next(entry for entry in _TIME_FORMATS if end - start <= entry[0])
    locator = AutoDateLocator(minticks=3, maxticks=6)
    axis.xaxis.set_major_locator(locator)
    axis.xaxis.set_major_formatter(DateFormatter(fmt, tz=start.tzinfo))
    years = {low.year, high.year}
    axis.set_xlabel(
        label.format(day=f"{end:%d %b %Y}", year="–".join(str(y) for y in sorted(years))),
        fontsize=8,
        color=MUTED,
    )
    return low, high


def dates(moments: Sequence[datetime]) -> list[float]:
    """matplotlib date numbers (days) for ``moments``."""
    return [float(date2num(moment)) for moment in moments]
