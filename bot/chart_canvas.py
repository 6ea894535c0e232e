"""matplotlib's Agg canvas with its texts drawn from a cache.

Most of a chart's CPU is text: for every label, matplotlib reads the font's tables, lays the
string out over the font fallback list and has FreeType render each glyph, at every render, though a chart worker draws
the same tick labels, titles and captions again and again. :class:`Canvas` renders a text
(string, font, size, angle) once into one grey bitmap and afterwards only blends that bitmap
in at the text's place, rounded to a whole pixel (matplotlib places glyphs to 1/64 pixel; the
difference cannot be seen). Up to :data:`TEXT_CACHE_SIZE` bitmaps (a few KiB each) are kept
per process, least recently used out first. Mathtext (``$...$``) is drawn as matplotlib does.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections import OrderedDict
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.backend_bases import GraphicsContextBase, RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.collections import PathCollection
from matplotlib.font_manager import FontProperties, fontManager, get_font
from matplotlib.ft2font import RenderMode
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.transforms import Affine2D, IdentityTransform, TransformedPath

TEXT_CACHE_SIZE = 4096
#: A text's bitmap (rows top-down) and its left and top edges from the text's origin (pixels,
#: y upwards); None for a text without ink (blank).
Bitmap = tuple[npt.NDArray[np.uint8], int, int] | None
_bitmaps: OrderedDict[tuple[Any, ...], Bitmap] = OrderedDict()
#: Ascent, descent and line gap per font, size and resolution (a chart uses a handful).
_heights: dict[tuple[Any, ...], tuple[float | None, float | None, float | None]] = {}


class Renderer(RendererAgg):
    """:class:`RendererAgg` whose :meth:`draw_text` reuses each text's bitmap."""

    def draw_text(
        self, gc: GraphicsContextBase, x: float, y: float, s: str, prop: FontProperties,
        angle: float, ismath: bool | str = False, mtext: Text | None = None,
    ) -> None:  # fmt: skip
        if ismath:
            super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            return
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        antialiased = bool(gc.get_antialiased())
        key = (
            s,
            *_font_key(prop),
            angle,
            self.dpi,
            antialiased,
            None if features is None else tuple(features),
            None if language is None else str(language),
        )
        if key in _bitmaps:
            _bitmaps.move_to_end(key)
            found = _bitmaps[key]
        else:
            found = _bitmaps[key] = self._text_bitmap(
                s, prop, angle, antialiased, features, language
            )
            while len(_bitmaps) > TEXT_CACHE_SIZE:
                _bitmaps.popitem(last=False)
        if found is None:
            return
        image, left, top = found
        # draw_text_image's y is downwards and the bitmap's bottom side.
        origin_up = round(self.height - y)
        self._renderer.draw_text_image(
            image, round(x) + left, int(self.height) - (origin_up + top) + image.shape[0], 0, gc
        )

    def _get_font_height_metrics(
        self, prop: FontProperties
    ) -> tuple[float | None, float | None, float | None]:
        """A font's ascent, descent and line gap at its size (pixels), which matplotlib reads
        from the font's tables for every text it lays out; here once per font and size."""
        key = (*_font_key(prop), self.dpi)
        found = _heights.get(key)
        if found is None:
            found = _heights[key] = _height_metrics(prop, self.dpi)
        return found

    def _text_bitmap(
        self,
        s: str,
        prop: FontProperties,
        angle: float,
        antialiased: bool,
        features: Any,
        language: Any,
    ) -> Bitmap:
        """``s`` rendered glyph by glyph as matplotlib does, its origin at (0, 0), into one
        bitmap."""
        font = self._prepare_font(prop)
        flags = get_hinting_flag()
        items = font._layout(s, flags=flags, features=features, language=language)
        size = prop.get_size_in_points()
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
        mode = RenderMode.NORMAL if antialiased else RenderMode.MONO
        glyphs: list[tuple[int, int, npt.NDArray[np.uint8]]] = []
        for item in items:
            face = item.ft_object
            face.set_size(size, self.dpi)
            dx, dy = item.x, item.y  # dy is upwards
            face._set_transform(
                matrix, [round(0x40 * (dx * cos - dy * sin)), round(0x40 * (dx * sin + dy * cos))]
            )
            bitmap = face._render_glyph(item.glyph_index, flags, mode)
            buffer = np.array(bitmap.buffer, dtype=np.uint8)
            if not antialiased:
                buffer *= 0xFF
            if buffer.size:
                glyphs.append((bitmap.left, bitmap.top, buffer))
        if not glyphs:
            return None
        left = min(g[0] for g in glyphs)
        top = max(g[1] for g in glyphs)
        right = max(g[0] + g[2].shape[1] for g in glyphs)
        bottom = min(g[1] - g[2].shape[0] for g in glyphs)
        image = np.zeros((top - bottom, right - left), dtype=np.uint8)
        for glyph_left, glyph_top, buffer in glyphs:
            rows = slice(top - glyph_top, top - glyph_top + buffer.shape[0])
            columns = slice(glyph_left - left, glyph_left - left + buffer.shape[1])
            np.maximum(image[rows, columns], buffer, out=image[rows, columns])
        return image, left, top


def _font_key(prop: FontProperties) -> tuple[Any, ...]:
    return (
        tuple(prop.get_family()),
        prop.get_style(),
        prop.get_variant(),
        prop.get_weight(),
        prop.get_stretch(),
        prop.get_size_in_points(),
        prop.get_file(),
    )


def _height_metrics(
    prop: FontProperties, dpi: float
) -> tuple[float | None, float | None, float | None]:
    """What ``Text._get_layout`` computes from the font's tables (None: it measures instead)."""
    font = get_font(fontManager._find_fonts_by_props(prop))
    head = font.get_sfnt_table("head")
    if head is None:
        return None, None, None
    scale = prop.get_size_in_points() * dpi / 72 / head["unitsPerEm"]
    os2 = font.get_sfnt_table("OS/2")
    if os2 is not None:
        return (
            os2["sTypoAscender"] * scale,
            -os2["sTypoDescender"] * scale,
            os2["sTypoLineGap"] * scale,
        )
    hhea = font.get_sfnt_table("hhea")
    if hhea is not None:
        return hhea["ascent"] * scale, -hhea["descent"] * scale, hhea["lineGap"] * scale
    return None, None, None


class Dots(PathCollection):
    """A scatter's dots (``paths``: one marker; ``sizes``: areas in points², as ``scatter``),
    drawn as markers: Agg renders a marker once per size and stamps it at every point, where a
    collection fills and strokes every dot anew (most of an opinion map's drawing time). One
    face and one edge colour for all the dots."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_transform(IdentityTransform())  # as scatter's: sizes are in points

    def draw(self, renderer: RendererBase) -> None:
        offsets = np.asarray(self.get_offsets(), dtype=np.float64)
        if not self.get_visible() or offsets.shape[0] == 0:
            return
        renderer.open_group("dots", self.get_gid())
        gc = renderer.new_gc()
        if self.get_clip_on():
            gc.set_clip_rectangle(self.get_clip_box())
            clip = self.get_clip_path()
            gc.set_clip_path(clip if isinstance(clip, TransformedPath) else None)
        gc.set_linewidth(float(np.ravel(self.get_linewidth())[0]))
        gc.set_foreground(_rgba(self.get_edgecolor()), isRGBA=True)
        face = _rgba(self.get_facecolor())
        places = self.get_offset_transform().transform(offsets)
        sizes = np.broadcast_to(np.asarray(self.get_sizes(), dtype=np.float64), (len(places),))
        marker = self.get_paths()[0]
        for size in np.unique(sizes).tolist():
            scale = float(np.asarray(renderer.points_to_pixels(math.sqrt(size))).item())
            renderer.draw_markers(
                gc,
                marker,
                Affine2D().scale(scale),
                Path(places[sizes == size]),
                IdentityTransform(),
                face,
            )
        gc.restore()
        renderer.close_group("dots")
        self.stale = False


def _rgba(colours: Any) -> tuple[float, float, float, float]:
    """The first of a collection's colours (an N × 4 array)."""
    red, green, blue, alpha = (float(v) for v in np.asarray(colours, dtype=np.float64)[0])
    return red, green, blue, alpha


class Canvas(FigureCanvasAgg):
    """:class:`FigureCanvasAgg` drawing with :class:`Renderer`."""

    def get_renderer(self) -> Renderer:
        width, height = self.get_width_height(physical=True)
        key = width, height, self.figure.dpi
        if self._lastKey != key or not isinstance(self.renderer, Renderer):
            self.renderer = Renderer(width, height, self.figure.dpi)
            self._lastKey = key
        renderer: Renderer = self.renderer
        return renderer


def encode_png(rgba: npt.NDArray[np.uint8]) -> bytes:
    """A PNG of an RGBA pixel buffer (rows × columns × 4), each row stored as its difference
    from the row above (PNG's "up" filter: a chart's flat areas and its opaque alpha become
    zeros) and deflated at level 1. Kept RGBA: dropping the alpha would copy every pixel
    (several ms) to save a tenth of the file. About a third of what PIL's encoder takes."""
    height, width = rgba.shape[:2]
    rows = np.ascontiguousarray(rgba).reshape(height, width * 4)
    data = np.empty((height, width * 4 + 1), dtype=np.uint8)
    data[:, 0] = 2  # filter type "up"
    data[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=data[1:, 1:])
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(data.tobytes(), 1)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
