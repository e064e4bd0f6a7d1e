"""An Agg canvas whose renderer keeps the font metrics, texts and glyphs it has drawn with.

matplotlib's Agg renderer lays out every text and rasterises every glyph anew at each draw. A
sweep worker draws a run's three figures on kept figures (``canvas.kept_figure``) once per job,
and their tick labels, axis labels and legends mostly repeat from job to job: laying them out
and rasterising them was about a third of a run's figure time. ``CachingRendererAgg`` keeps

- each font's ascent, descent and line gap, by its files and size, which
  matplotlib's ``Text`` reads from the font's tables for every text it lays out or measures
  (matplotlib 3.11 first asks the renderer, through ``_get_font_height_metrics``, as its PDF
  and PostScript renderers answer),
- each text's glyphs and their offsets, by font, size, text, font features and language (what
  FreeType's layout depends on), and
- each glyph's coverage bitmap, by font, size, glyph, rotation and the sub-pixel
  part of its position (FreeType positions glyphs in 1/64 pixel: a whole-pixel shift moves the
  bitmap without changing it),

so the pixels are matplotlib's own, byte for byte (tests/test_plots_agg.py compares them). It
reaches into matplotlib's private glyph API (``FT2Font._layout``, ``_set_transform``,
``_render_glyph``, as matplotlib 3.11's ``RendererAgg.draw_text`` uses them); where they or
``RendererAgg._draw_text_glyphs_and_boxes`` are missing, and for mathtext, it draws as
``RendererAgg`` does. Each cache starts over when full (``MAX_LAYOUTS``, ``MAX_GLYPHS``
entries). A glyph so far off the canvas that FreeType cannot rasterise it where it is (some
10^7 pixels), which makes ``RendererAgg`` raise, is rasterised here at its sub-pixel phase and
falls outside the image: nothing of it is drawn.
"""

import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.figure import Figure
from matplotlib.font_manager import fontManager, get_font
from matplotlib.ft2font import FT2Font

try:
    from matplotlib.ft2font import RenderMode
except ImportError:  # an older matplotlib: no glyph API
    RenderMode = None

GLYPH_API = (RenderMode is not None
             and hasattr(RendererAgg, "_draw_text_glyphs_and_boxes")
             and all(hasattr(FT2Font, name) for name in ("_layout", "_set_transform",
                                                        "_render_glyph")))
# Measured full (tracemalloc): ~7 MiB of glyphs (a bitmap of ~100-300 bytes and its key);
# ~4 KiB per 40-character text laid out, ~8 MiB. A run's figures add about 10 glyphs and 1-2
# texts per job.
MAX_GLYPHS = 20_000
MAX_LAYOUTS = 2_000


class CachingRendererAgg(RendererAgg):
    """``RendererAgg`` keeping font metrics, laid-out texts and rasterised glyphs between draws.

    A renderer draws at one resolution (the canvas makes a new one for another, as for
    ``savefig(dpi=...)``), so its caches' keys leave it out."""

    def __init__(self, width, height, dpi):
        super().__init__(width, height, dpi)
        self.heights: dict[tuple, tuple] = {}
        self.layouts: dict[tuple, list] = {}
        self.glyphs: dict[tuple, tuple] = {}
        self.cached = GLYPH_API  # False: draw every text as RendererAgg does

    def _get_font_height_metrics(self, prop):
        """The ascent, descent and line gap (pixels) ``Text._get_layout`` reads from the tables
        of the font ``prop`` names, as it reads them; (None, None, None) (``Text`` reads them
        itself) when not ``cached``."""
        if not self.cached:
            return None, None, None
        paths = fontManager._find_fonts_by_props(prop)  # as Text finds them, under today's rc
        size = prop.get_size_in_points()
        key = (tuple(paths), size)
        metrics = self.heights.get(key)
        if metrics is None:
            metrics = _put(self.heights, MAX_LAYOUTS, key, _height_metrics(
                get_font(paths), size, self.dpi))
        return metrics

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        # docstring inherited
        if ismath or not self.cached:
            return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        flags = get_hinting_flag()
        size = prop.get_size_in_points()
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        font = self._prepare_font(prop)  # the font (and fallbacks) prop names under today's rc
        key = (font, size, s, features and tuple(features), language, flags)
        items = self.layouts.get(key)
        if items is None:
            items = [(item.ft_object, item.glyph_index, item.x, item.y) for item in
                     font._layout(s, flags=flags, features=features, language=language)]
            _put(self.layouts, MAX_LAYOUTS, key, items)
        self._draw_glyphs(gc, x, y, angle, size, flags, items)

    def _draw_glyphs(self, gc, x, y, angle, size, flags, items):
        """Draw glyphs ``(font, glyph index, dx, dy)`` of a text at ``x, y`` (y downwards; dx,
        dy upwards, in pixels), as ``RendererAgg._draw_text_glyphs_and_boxes`` does without
        slant or stretch."""
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
        rotation = tuple(matrix.ravel().tolist())
        antialiased = gc.get_antialiased()
        for font, glyph_index, dx, dy in items:
            # where FreeType puts the glyph's origin, in 1/64 pixel (its y upwards)
            x64 = round(0x40 * (x + dx * cos - dy * sin))
            y64 = round(0x40 * (self.height - y + dx * sin + dy * cos))
            key = (font, size, glyph_index, rotation, x64 & 63, y64 & 63, flags, antialiased)
            glyph = self.glyphs.get(key)
            if glyph is None:
                glyph = _put(self.glyphs, MAX_GLYPHS, key, _rasterise(
                    font, size, self.dpi, glyph_index, matrix, (x64 & 63, y64 & 63), flags,
                    antialiased))
            bitmap, left, top = glyph
            # draw_text_image's y is downwards and the bitmap's bottom side
            self._renderer.draw_text_image(
                bitmap, left + (x64 >> 6), int(self.height) - (top + (y64 >> 6)) + len(bitmap),
                0, gc)


def _height_metrics(font, size, dpi) -> tuple:
    """Ascent, descent and line gap of ``font`` at ``size`` points and ``dpi``, from its OS/2
    table, else its hhea table (None, None, None without either), as ``Text._get_layout``
    computes them."""
    for table_name, gap, ascent, descent in (
            ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
            ("hhea", "lineGap", "ascent", "descent")):
        table = font.get_sfnt_table(table_name)
        if table is not None:
            scale = 1 / font.get_sfnt_table("head")["unitsPerEm"] * size * dpi / 72
            return table[ascent] * scale, -table[descent] * scale, table[gap] * scale
    return None, None, None


def _rasterise(font, size, dpi, glyph_index, matrix, offset, flags, antialiased):
    """The glyph's coverage bitmap (a copy) with its left and top pixel for an origin at
    ``offset`` (1/64 pixel, within the first pixel)."""
    font.set_size(size, dpi)
    font._set_transform(matrix, list(offset))
    rendered = font._render_glyph(glyph_index, flags,
                                  RenderMode.NORMAL if antialiased else RenderMode.MONO)
    bitmap = np.array(rendered.buffer)  # FreeType's buffer is reused by the next glyph
    if not antialiased:
        bitmap *= 0xff
    return bitmap, rendered.left, rendered.top


def _put(cache: dict, most: int, key, value):
    if len(cache) >= most:
        cache.clear()
    cache[key] = value
    return value


class CachingCanvasAgg(FigureCanvasAgg):
    """``FigureCanvasAgg`` drawing with a :class:`CachingRendererAgg`."""

    def get_renderer(self):
        # docstring inherited; FigureCanvasAgg's, with the caching renderer
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = CachingRendererAgg(w, h, self.figure.dpi)
            self._lastKey = key
        return self.renderer


def attach_canvas(fig: Figure) -> Figure:
    """Give ``fig`` a :class:`CachingCanvasAgg`; return it."""
    CachingCanvasAgg(fig)
    return fig
