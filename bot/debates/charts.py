"""PNG charts of poll and debate results, each with a sentence saying what it shows.

The services render them in the bot's chart workers (:mod:`bot.charts`), so the functions are
module-level and their arguments picklable: ``await bot.charts.render(render_results_chart,
tally, spec)``. matplotlib is imported (through :mod:`bot.chart_style`) only when one is drawn.
"""

from __future__ import annotations

import textwrap

from bot.debates.debate import QuickResult
from bot.debates.oxford import OxfordResult
from bot.debates.poll import PollSpec
from bot.debates.tally import Tally
from bot.stance_scale import Side

_SIDES = (Side.SHARE, Side.UNDECIDED, Side.SAFEGUARD)
_SIDE_NAMES = {Side.SHARE: "Share", Side.UNDECIDED: "Undecided", Side.SAFEGUARD: "Safeguard"}


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width, max_lines=2, placeholder="…")) or text


def _percentages(tally: Tally, spec: PollSpec) -> list[float]:
    return list(tally.voter_percentages() if spec.multiple else tally.percentages())


def render_results_chart(tally: Tally, spec: PollSpec) -> bytes:
    """Horizontal bars, one per option in poll order (first at the top), labelled with the
    count and percentage; the question as the title and the turnout underneath."""
    from matplotlib.ticker import MaxNLocator

    from bot import chart_style as style

    if len(tally.counts) != len(spec.options):
        raise ValueError("the tally and the poll have different numbers of options")
    count = len(spec.options)
    height = 1.5 + 0.5 * count
    with style.figure(f"poll-{count}", 8, height) as chart:
        chart.subplots_adjust(left=0.3, right=0.95, top=1 - 0.75 / height, bottom=0.55 / height)
        axes = style.subplot(chart)
        positions = list(range(count))[::-1]
        bars = style.bars(axes, positions, tally.counts, width=0.6, horizontal=True)
        options = [_wrap(option, 30) for option in spec.options]
        axes.set_yticks(positions, options, fontsize=9, fontfamily=style.ANY_SCRIPT_FONTS)
        labels = [
            f"{c} · {p:.0f}%" for c, p in zip(tally.counts, _percentages(tally, spec), strict=True)
        ]
        style.bar_labels(axes, bars, labels, horizontal=True, padding=4, fontsize=9)
        axes.set_xlim(0, max(max(tally.counts, default=0) * 1.3, 1))
        axes.set_ylim(-0.6, count - 0.4)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        style.declutter(axes, categories="y")
        style.label_x(axes, "votes", fontsize=8)
        chart.suptitle(
            _wrap(spec.question, 80),
            x=0.01,
            ha="left",
            fontsize=11,
            fontfamily=style.ANY_SCRIPT_FONTS,
        )
        voters = f"{tally.voters} voter{'s' if tally.voters != 1 else ''}"
        style.caption(chart, voters + (" · several choices each" if spec.multiple else ""))
        return style.png(chart)


def describe_results_chart(tally: Tally, spec: PollSpec) -> str:
    """What :func:`render_results_chart` shows, in words."""
    parts = [
        f"{option}: {c} ({p:.0f}%)"
        for option, c, p in zip(spec.options, tally.counts, _percentages(tally, spec), strict=True)
    ]
    return f"Bar chart of the votes, {tally.voters} voters: " + "; ".join(parts) + "."


def render_quick_chart(result: QuickResult, motion: str) -> bytes:
    """Columns for the five stances, coloured by side, the mean in the subtitle."""
    from matplotlib.ticker import MaxNLocator

    from bot import chart_style as style

    with style.figure("quick", 7, 3.8) as chart:
        chart.subplots_adjust(left=0.08, right=0.97, top=0.8, bottom=0.2)
        axes = style.subplot(chart)
        stances = list(result.distribution)
        counts = [result.distribution[s] for s in stances]
        colours = [style.SIDE_COLOURS[_SIDES.index(s.side)] for s in stances]
        bars = style.bars(axes, range(len(stances)), counts, colours=colours, width=0.7)
        axes.set_xticks(range(len(stances)), [s.label.replace(" ", "\n") for s in stances])
        style.bar_labels(axes, bars, [str(c) for c in counts], padding=2, fontsize=9)
        top = max(max(counts, default=0) * 1.25, 1)
        axes.set_ylim(0, top)
        axes.set_xlim(-0.6, len(stances) - 0.4)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        style.declutter(axes, categories="x")
        style.label_y(axes, "voters", str(int(top)), fontsize=8)
        mean = "no votes" if result.mean is None else f"mean {result.mean:+.2f}"
        chart.suptitle(
            _wrap(motion, 80), x=0.01, ha="left", fontsize=11, fontfamily=style.ANY_SCRIPT_FONTS
        )
        axes.set_title(f"{result.total} voters · {mean}", fontsize=9)
        style.caption(chart, "Voters by stance, +2 strongly share … −2 strongly safeguard.")
        return style.png(chart)


def describe_quick_chart(result: QuickResult) -> str:
    parts = [f"{s.label.lower()} {n}" for s, n in result.distribution.items()]
    mean = "" if result.mean is None else f", mean {result.mean:+.2f}"
    return f"Column chart of {result.total} voters by stance{mean}: " + ", ".join(parts) + "."


def render_oxford_chart(result: OxfordResult, motion: str) -> bytes:
    """Grouped columns: each side's percentage in the opening and the closing vote."""
    from bot import chart_style as style

    with style.figure("oxford", 7, 3.8) as chart:
        chart.subplots_adjust(left=0.1, right=0.97, top=0.82, bottom=0.17)
        axes = style.subplot(chart)
        width = 0.38
        legend = []
        for offset, (name, values, alpha) in enumerate(
            (("opening", result.pre_percent, 0.45), ("closing", result.post_percent, 1.0))
        ):
            xs = [i + (offset - 0.5) * width for i in range(len(_SIDES))]
            bars = style.bars(
                axes,
                xs,
                [values[s] for s in _SIDES],
                width=width,
                colours=list(style.SIDE_COLOURS),
                alpha=alpha,
                label=name,
                hatch="//" if offset == 0 else None,
                edgecolor="white",
            )
            legend.append(bars[0])
            labels = [f"{values[s]:.0f}%" for s in _SIDES]
            style.bar_labels(axes, bars, labels, padding=0, fontsize=8)
        axes.set_xticks(range(len(_SIDES)), [_SIDE_NAMES[s] for s in _SIDES])
        axes.set_ylim(0, 115)
        axes.set_xlim(-0.6, len(_SIDES) - 0.4)
        axes.legend(legend, ["opening", "closing"], frameon=False, fontsize=8, loc="upper right")
        style.declutter(axes, categories="x")
        style.label_y(axes, "% of voters", "100", fontsize=8)
        chart.suptitle(
            _wrap(motion, 80), x=0.01, ha="left", fontsize=11, fontfamily=style.ANY_SCRIPT_FONTS
        )
        style.caption(chart, "Hatched, pale: the opening vote; solid: the closing vote.")
        return style.png(chart)


def describe_oxford_chart(result: OxfordResult) -> str:
    parts = [
        f"{_SIDE_NAMES[s].lower()} {result.pre_percent[s]:.0f}% → {result.post_percent[s]:.0f}%"
        for s in _SIDES
    ]
    return "Columns of each side's share, opening vote → closing vote: " + ", ".join(parts) + "."
