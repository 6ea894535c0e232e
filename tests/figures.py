"""Looking inside a chart instead of at its pixels: the figures a renderer drew, captured just
before they are encoded, and what is on them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.text import Text

from bot import chart_style
from bot.charts import PNG_MAGIC


@contextmanager
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Figure]]:
    """Every figure rendered inside the block (the PNG is not encoded)."""
    figures: list[Figure] = []

    def keep(chart: Figure, *_: object) -> bytes:
        chart.canvas.draw()  # lay the whole figure out (a backdrop's too) as it would be drawn
        figures.append(chart)
        return PNG_MAGIC

    monkeypatch.setattr(chart_style, "png", keep)
    yield figures


def drawn(
    monkeypatch: pytest.MonkeyPatch, render: Callable[..., bytes], *args: Any, **kwargs: Any
) -> Figure:
    """The one figure ``render(*args, **kwargs)`` draws."""
    with captured(monkeypatch) as figures:
        render(*args, **kwargs)
    assert len(figures) == 1
    return figures[0]


def texts(chart: Figure) -> list[str]:
    """Every text on the figure: titles, labels, tick labels, annotations, captions."""
    return [t.get_text() for t in chart.findobj(Text) if t.get_text()]


def points(axis: Axes) -> np.ndarray:
    """The data coordinates of every scatter point on ``axis``."""
    offsets = [c.get_offsets() for c in axis.collections if isinstance(c, PathCollection)]
    return np.vstack(offsets) if offsets else np.zeros((0, 2))


def inside(axis: Axes, xy: np.ndarray, margin: float = 0.02) -> bool:
    """Whether every point lies inside the axes, at least ``margin`` of the range from the border."""
    (x0, x1), (y0, y1) = sorted(axis.get_xlim()), sorted(axis.get_ylim())
    dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
    return bool(
        (
            (xy[:, 0] > x0 + dx)
            & (xy[:, 0] < x1 - dx)
            & (xy[:, 1] > y0 + dy)
            & (xy[:, 1] < y1 - dy)
        ).all()
    )
