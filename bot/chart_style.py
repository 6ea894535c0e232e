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
  data is drawn over it; so does the community chart.
- **Drawing** (:mod:`bot.chart_canvas`): each text is rendered once per process and its bitmap
  reused; dots are stamped as markers; bars skip matplotlib's per-bar bookkeeping (:func:`bars`);
  titles and axis labels have fixed places (:func:`label_x`, :func:`label_y`), so no text is
  measured to place another. A chart costs ≤ 40 ms of CPU (``bench/bench_stances_domain.py``).

Rendering goes through :data:`RENDER_LOCK`: matplotlib's text and font caches are not
guaranteed thread-safe, and a reused figure belongs to one chart at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any
from weakref import WeakKeyDictionary

import matplotlib
import numpy as np

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.axis import XAxis, YAxis  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.dates import AutoDateLocator, DateFormatter, date2num  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.transforms import offset_copy  # noqa: E402

from bot.chart_canvas import Canvas, encode_png  # noqa: E402

DPI = 100
#: Tick labels' size (points).
TICK_SIZE = 8
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
        # A title at a fixed height: placed automatically, it is moved above the tick labels
        # of every axis (none of Agora's charts has any on top), measured at every draw.
        matplotlib.rcParams["axes.titley"] = 1.0
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
            Canvas(found)
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
    index = _asked.get(id(chart), 0)
    _asked[id(chart)] = index + 1
    return chart.axes[index] if index < len(chart.axes) else chart.add_subplot(*layout)


def png(chart: Figure, over: Backdrop | None = None, artists: Sequence[Artist] = ()) -> bytes:
    """Draw and encode (:func:`bot.chart_canvas.encode_png`). With a backdrop, only ``artists``
    are drawn, over its saved pixels."""
    canvas = chart.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    if over is None:
        canvas.draw()
    else:
        canvas.restore_region(over.pixels)
        renderer = canvas.get_renderer()
        for artist in artists:
            artist.draw(renderer)
    return encode_png(np.asarray(canvas.buffer_rgba()))


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
            canvas = Canvas(chart)
            build(chart)
            canvas.draw()
            found = _backdrops[kind] = Backdrop(chart, canvas.copy_from_bbox(chart.bbox))
        for artist in found.added:
            artist.remove()
        found.added.clear()
        yield found


def bars(
    axis: Axes,
    positions: Sequence[float],
    lengths: Sequence[float],
    *,
    width: float = 0.8,
    horizontal: bool = False,
    colours: Sequence[str] | str = BLUE,
    **style: Any,
) -> list[Rectangle]:
    """Bars centred on ``positions`` (columns, or rows when ``horizontal``), as ``axis.bar``
    and ``axis.barh`` draw them but without their bookkeeping: no data limits updated bar by
    bar (the caller sets the limits), no container. Returns the bars, in order."""
    paint = [colours] * len(positions) if isinstance(colours, str) else list(colours)
    drawn = []
    for position, length, colour in zip(positions, lengths, paint, strict=True):
        corner = (0.0, position - width / 2) if horizontal else (position - width / 2, 0.0)
        size = (length, width) if horizontal else (width, length)
        bar = Rectangle(corner, *size, facecolor=colour, **style)
        axis.add_artist(bar)
        drawn.append(bar)
    return drawn


def bar_labels(
    axis: Axes,
    bars: Sequence[Rectangle],
    labels: Sequence[str],
    *,
    horizontal: bool = False,
    padding: float = 3,
    **style: Any,
) -> None:
    """``labels`` just past the end of each bar (above a column, right of a row when
    ``horizontal``)."""
    for bar, label in zip(bars, labels, strict=True):
        x, y = bar.get_x(), bar.get_y()
        width, height = bar.get_width(), bar.get_height()
        anchor: tuple[float, float]
        offset: tuple[float, float]
        if horizontal:
            anchor, offset, align = (x + width, y + height / 2), (padding, 0), "left"
        else:
            anchor, offset, align = (x + width / 2, y + height), (0, padding), "center"
        axis.annotate(
            label,
            anchor,
            xytext=offset,
            textcoords="offset points",
            ha=align,
            va="center" if horizontal else "bottom",
            **style,
        )


#: Where matplotlib puts an axis label: past the ticks (3.5 pt), their padding (3.5 pt) and
#: the label's own padding (4 pt); and a digit's width in DejaVu Sans (in ems).
_LABEL_GAP, _DIGIT_EM = 11.0, 0.64


def label_x(axis: Axes, text: str, tick_lines: int = 1, **style: Any) -> None:
    """The x axis's label under its tick labels of ``tick_lines`` lines, at a place worked out
    here: placed by matplotlib, every tick label is laid out and measured again at every draw."""
    below = _LABEL_GAP + 1.2 * TICK_SIZE * tick_lines
    axis.set_xlabel(text, **style)
    _place_label(axis, axis.xaxis, (0.5, 0.0), (0.0, -below))


def label_y(axis: Axes, text: str, widest: str, *, right: bool = False, **style: Any) -> None:
    """The y axis's label beside its tick labels, the widest of which is ``widest`` (digits),
    on the left or the ``right`` (see :func:`label_x`)."""
    beside = _LABEL_GAP + _DIGIT_EM * TICK_SIZE * len(widest)
    axis.set_ylabel(text, **style)
    position, offset = ((1.0, 0.5), (beside, 0.0)) if right else ((0.0, 0.5), (-beside, 0.0))
    _place_label(axis, axis.yaxis, position, offset)


def _place_label(
    axis: Axes, which: XAxis | YAxis, position: tuple[float, float], offset: tuple[float, float]
) -> None:
    """The label at ``position`` (axes fraction) moved by ``offset`` points, keeping the
    alignment matplotlib gives it (its edge towards the axis at that point)."""
    chart = axis.get_figure(root=True)
    assert isinstance(chart, Figure)
    place = offset_copy(axis.transAxes, chart, x=offset[0], y=offset[1], units="points")
    which.set_label_coords(*position, transform=place)


def caption(chart: Figure, text: str) -> Text:
    """One line under the plot saying what it shows (the axes, the period...)."""
    return chart.text(0.01, 0.015, text, fontsize=8, color=MUTED, ha="left", va="bottom")


def _first_time(axis: Axes, what: str) -> bool:
    """Whether ``what`` is being done to this (reused) axes for the first time: settings that
    stay put need not be made again for every chart (tick styles cost a few ms each time)."""
    done = _done.setdefault(axis, set())
    if what in done:
        return False
    done.add(what)
    return True


_done: WeakKeyDictionary[Axes, set[str]] = WeakKeyDictionary()


def declutter(axis: Axes, categories: str = "") -> None:
    """No top and right frame; small tick labels, without tick marks on the axes that name
    ``categories`` ("x", "y" or "xy": their labels are enough). Axis labels get a fixed place
    (:func:`label_x`, :func:`label_y` say where). Once per axes."""
    if not _first_time(axis, "declutter"):
        return
    for edge in ("top", "right"):
        axis.spines[edge].set_visible(False)
    axis.tick_params(labelsize=TICK_SIZE)
    if "x" in categories:
        axis.tick_params(axis="x", length=0)
    if "y" in categories:
        axis.tick_params(axis="y", length=0)
    _place_label(axis, axis.xaxis, (0.5, 0.0), (0.0, -_LABEL_GAP - 1.2 * TICK_SIZE))
    _place_label(axis, axis.yaxis, (0.0, 0.5), (-_LABEL_GAP - 3 * _DIGIT_EM * TICK_SIZE, 0.0))


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
    label_x(
        axis,
        label.format(day=f"{end:%d %b %Y}", year="–".join(str(y) for y in sorted(years))),
        fmt.count("\n") + 1,
        fontsize=8,
        color=MUTED,
    )
    return low, high


def dates(moments: Sequence[datetime]) -> list[float]:
    """matplotlib date numbers (days) for ``moments`` (naive ones taken as UTC, as matplotlib
    does), computed directly: ``date2num`` costs tens of microseconds a date."""
    epoch = _epoch()
    return [
        ((m if m.tzinfo is not None else m.replace(tzinfo=UTC)).timestamp() - epoch) / 86_400
        for m in moments
    ]


@cache
def _epoch() -> float:
    """matplotlib's date epoch (``date.epoch``), as a POSIX timestamp."""
    return (
        datetime(1970, 1, 1, tzinfo=UTC).timestamp()
        - float(date2num(datetime(1970, 1, 1, tzinfo=UTC))) * 86_400
    )
