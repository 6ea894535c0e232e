"""PNG charts of poll and debate results.

Rendered with matplotlib's Agg backend on :class:`~matplotlib.figure.Figure` objects that this
module creates and drops itself (no pyplot, no global figure state). The services render them in
the bot's one chart worker process, so the functions are module-level and their arguments
picklable: ``await bot.charts.render(render_results_chart, tally, spec)``; matplotlib is imported
inside them, so only the worker loads it (about 30 MiB the bot's process does not hold).
"""

from __future__ import annotations

import io
import textwrap
from typing import TYPE_CHECKING

from bot.debates.debate import QuickResult
from bot.debates.oxford import OxfordResult
from bot.debates.poll import PollSpec
from bot.debates.tally import Tally
from bot.stance_scale import Side

if TYPE_CHECKING:  # matplotlib is imported by the functions, in the chart worker only
    from matplotlib.figure import Figure

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SHARE_COLOUR = "#2b8cbe"
UNDECIDED_COLOUR = "#9e9e9e"
SAFEGUARD_COLOUR = "#e6550d"
BAR_COLOUR = "#5865f2"
_SIDE_COLOURS = {
    Side.SHARE: SHARE_COLOUR,
    Side.UNDECIDED: UNDECIDED_COLOUR,
    Side.SAFEGUARD: SAFEGUARD_COLOUR,
}


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width, max_lines=2, placeholder="…")) or text


def render_results_chart(tally: Tally, spec: PollSpec) -> bytes:
    """Horizontal bars, one per option in poll order (first at the top), labelled with the
    count and percentage; the question as the title and the turnout underneath."""
    if len(tally.counts) != len(spec.options):
        raise ValueError("the tally and the poll have different numbers of options")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    count = len(spec.options)
    figure = Figure(figsize=(8, 1.2 + 0.45 * count))
    axes = figure.add_subplot()
    positions = list(range(count))[::-1]
    percentages = tally.voter_percentages() if spec.multiple else tally.percentages()
    bars = axes.barh(positions, tally.counts, color=BAR_COLOUR, height=0.6)
    axes.set_yticks(positions, [_wrap(option, 32) for option in spec.options], fontsize=9)
    labels = [f"{c} · {p:.0f}%" for c, p in zip(tally.counts, percentages, strict=True)]
    axes.bar_label(bars, labels=labels, padding=4, fontsize=9)
    top = max(tally.counts, default=0)
    axes.set_xlim(0, max(top * 1.25, 1))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("votes")
    for edge in ("top", "right"):
        axes.spines[edge].set_visible(False)
    axes.set_title(_wrap(spec.question, 70), fontsize=11, loc="left")
    voters = f"{tally.voters} voter{'s' if tally.voters != 1 else ''}"
    figure.text(0.01, 0.005, voters, fontsize=8, color="#555555")
    return _png(figure)


def render_quick_chart(result: QuickResult, motion: str) -> bytes:
    """Columns for the five stances, coloured by side, the mean in the subtitle."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(7, 3.6))
    axes = figure.add_subplot()
    stances = list(result.distribution)
    counts = [result.distribution[s] for s in stances]
    bars = axes.bar(
        range(len(stances)), counts, color=[_SIDE_COLOURS[s.side] for s in stances], width=0.7
    )
    axes.set_xticks(range(len(stances)), [s.label.replace(" ", "\n") for s in stances], fontsize=9)
    axes.bar_label(bars, padding=2, fontsize=9)
    axes.set_ylim(0, max(max(counts, default=0) * 1.2, 1))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    for edge in ("top", "right"):
        axes.spines[edge].set_visible(False)
    mean = "no votes" if result.mean is None else f"mean {result.mean:+.2f}"
    axes.set_title(f"{_wrap(motion, 70)}\n{result.total} voters · {mean}", fontsize=10, loc="left")
    return _png(figure)


def render_oxford_chart(result: OxfordResult, motion: str) -> bytes:
    """Grouped columns: each side's percentage in the opening and the closing vote."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.6))
    axes = figure.add_subplot()
    sides = (Side.SHARE, Side.UNDECIDED, Side.SAFEGUARD)
    width = 0.38
    for offset, (name, values, alpha) in enumerate(
        (("opening", result.pre_percent, 0.55), ("closing", result.post_percent, 1.0))
    ):
        xs = [i + (offset - 0.5) * width for i in range(len(sides))]
        bars = axes.bar(
            xs,
            [values[s] for s in sides],
            width=width,
            color=[_SIDE_COLOURS[s] for s in sides],
            alpha=alpha,
            label=name,
        )
        axes.bar_label(bars, labels=[f"{values[s]:.0f}%" for s in sides], padding=2, fontsize=8)
    axes.set_xticks(range(len(sides)), ["Share", "Undecided", "Safeguard"])
    axes.set_ylim(0, 110)
    axes.set_ylabel("% of voters")
    axes.legend(frameon=False, fontsize=8)
    for edge in ("top", "right"):
        axes.spines[edge].set_visible(False)
    axes.set_title(_wrap(motion, 70), fontsize=10, loc="left")
    return _png(figure)
