"""The figures' canvas: their size, resolution and class colours, a blank figure, and the PNG
writers: ``save_png`` for a figure built for one use, ``save_kept_png`` for a run's figures,
which a sweep worker draws once per job on figures it keeps (``kept_figure``)."""

import os
import re
import textwrap
import threading
from collections.abc import Callable, Mapping
from itertools import pairwise
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import TightLayoutEngine
from matplotlib.ticker import LogFormatterSciNotation
from matplotlib.transforms import Bbox

from initreg.plots.png import write_png

FIGSIZE = (6.0, 4.0)
DPI = 110
# The course's Spectral colormap puts class 0 at red and class 1 at blue; we keep that reading.
POINT_COLORS = ("#d62728", "#1f4e9c")
REGION_COLORS = ("#f6c3c3", "#c3d5f6")

PAD = 1.08 * 10 / 72 * DPI  # pixels between a text and what it must not touch: tight layout's
SLACK = 2.0  # a text closer than this (pixels) to the edge or to another panel is moved by PAD
MIN_PANEL = 0.3  # margins are not widened past panels this share of the figure's width/height

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def plain_label(label: str) -> str:
    r"""A log axis's mathtext tick label (``$\mathdefault{2\times10^{-3}}$``) in plain Unicode
    (``2×10⁻³``, with a minus sign); any other label as it is."""
    inner = re.fullmatch(r"\$\\mathdefault\{(.*)\}\$", label)
    if inner is None:
        return label
    text = re.sub(r"\^\{(-?[0-9]+)\}", lambda power: power.group(1).translate(_SUPERSCRIPTS),
                  inner.group(1).replace(r"\times", "\u00d7"))
    return label if re.search(r"[$\\^{}]", text) else text.replace("-", "\u2212")


class PlainLogFormatter(LogFormatterSciNotation):
    """matplotlib's log-axis labels (which ticks, and their text) in plain Unicode: a
    mathtext label loads mathtext's parser and its fonts, about 1 MiB of every job."""

    def __call__(self, x, pos=None):
        return plain_label(super().__call__(x, pos))


def plain_log_labels(ax) -> None:
    """Give ``ax``'s base-10 log and symlog axes :class:`PlainLogFormatter` labels, as
    matplotlib's own would be. Call it after ``set_xscale``/``set_yscale``: they reset them."""
    for axis in (ax.xaxis, ax.yaxis):
        if getattr(axis.get_transform(), "base", None) != 10:
            continue
        for get, put in ((axis.get_major_formatter, axis.set_major_formatter),
                         (axis.get_minor_formatter, axis.set_minor_formatter)):
            old = get()
            if type(old) is LogFormatterSciNotation:
                put(PlainLogFormatter(labelOnlyBase=old.labelOnlyBase,
                                      minor_thresholds=old.minor_thresholds))


def new_figure() -> Figure:
    """A blank figure with an Agg canvas attached and a tight layout."""
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="tight")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path: str | os.PathLike) -> Path:
    """Write ``fig`` as a PNG to ``path`` (parents created), free it, and return the path.

    A tight layout is computed here, once, and then fixed: ``savefig`` of a figure that still
    has its layout engine draws it twice (once only to lay it out), a third of the time a run's
    figures take.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = fig.get_layout_engine()
        if isinstance(engine, TightLayoutEngine):
            engine.execute(fig)
            with rc_context({"figure.autolayout": False}):  # None would mean the rc's default
                fig.set_layout_engine(None)  # not "none": a placeholder still draws twice
        fig.savefig(out, format="png", dpi=DPI)
    finally:
        fig.clear()
    return out


_KEPT = threading.local()  # one set of kept figures per thread: a Figure is not thread-safe


def kept_figure(build: Callable[[], Figure]) -> Figure:
    """This thread's figure made by ``build()`` at its first use, and kept after.

    A new figure's first draw creates its ticks and measures every text anew (a new renderer
    starts with an empty text-size cache); a kept one pays that once per worker, not per job.
    The caller sets everything a job changes (data, limits, scales, texts, margins) every
    time, so that a figure never depends on what was drawn on it before (tests/test_plots.py
    compares the bytes of a figure drawn on a new and on a used one). Styles come from the
    matplotlib rc settings at the figure's first use.
    """
    kept = _KEPT.__dict__.setdefault("figures", {})
    if build not in kept:
        kept[build] = build()
    return kept[build]


def save_kept_png(fig: Figure, path: str | os.PathLike, margins: Mapping[str, float]) -> Path:
    """Draw ``fig`` (a :func:`kept_figure`) laid out by :func:`fit_margins` from ``margins``
    and write the drawn image as a PNG to ``path`` (parents created); return the path.

    The image written is the one drawn: ``savefig`` would draw the figure once more.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fit_margins(fig, margins)
    write_png(out, np.asarray(fig.canvas.buffer_rgba()), fig.dpi)
    return out


def fit_margins(fig: Figure, margins: Mapping[str, float], draws: int = 4) -> None:
    """Draw ``fig`` with the subplot parameters ``margins`` (``left``, ``right``, ``bottom``,
    ``top``, ``wspace`` of ``Figure.subplots_adjust``, chosen to fit a usual run); while a text
    sticks out of the figure, into the next panel or under the suptitle, or a title is wider
    than its room, widen the margins there (or break the title over lines) and draw again.

    What a tight layout ensures, read from the draw that makes the image (a tight layout
    measures every text in a draw of its own first): one draw when the margins fit, as for
    most runs. After ``draws`` draws the last one stays, as it is.
    """
    fig.subplots_adjust(**margins)
    renderer = fig.canvas.get_renderer()
    for attempt in range(draws):
        fig.canvas.draw()
        wrapped = _wrap_titles(fig, renderer)
        wider = _widened(fig, renderer)
        if attempt == draws - 1 or not (wrapped or wider):
            return
        fig.subplots_adjust(**wider)


def _shown(texts):
    return [t for t in texts if t.get_visible() and t.get_text()]


def _drawn_tick_labels(axis) -> list:
    """The tick labels ``axis`` drew in its last draw: those of its first ticks, one per tick
    location, inside the view (an axis keeps its ticks between draws, so ticks past the
    current count hold another draw's labels)."""
    transform = axis.get_transform()
    lo, hi = sorted(transform.transform(np.asarray(axis.get_view_interval(), dtype=float)))
    tol = 1e-9 * max(abs(lo), abs(hi), 1.0)
    labels = []
    for locs, ticks in ((axis.get_majorticklocs(), axis.get_major_ticks),
                        (axis.get_minorticklocs(), axis.get_minor_ticks)):
        if len(locs) == 0:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            where = transform.transform(np.asarray(locs, dtype=float))
        labels += [tick.label1 for tick, at in zip(ticks(len(locs)), where, strict=True)
                   if lo - tol <= at <= hi + tol]
    return _shown(labels)


def _axes_texts(ax) -> list:
    """Every text ``ax`` drew around or over its plot: title, axis and tick labels, offsets,
    legend."""
    texts = _shown([ax.title, ax.xaxis.label, ax.yaxis.label, ax.xaxis.offsetText,
                    ax.yaxis.offsetText])
    texts += _drawn_tick_labels(ax.xaxis) + _drawn_tick_labels(ax.yaxis)
    legend = ax.get_legend()
    return texts + ([legend] if legend is not None else [])


def _wrap_titles(fig: Figure, renderer) -> bool:
    """Break the suptitle and the axes' titles over lines where they are wider than the
    figure's room for them (a title centred at x has 2 min(x, width - x) - 2 PAD); True if one
    was broken."""
    width = fig.bbox.width
    centred = [(t, width / 2) for t in _shown(fig.texts)]
    centred += [(ax.title, ax.bbox.x0 + ax.bbox.width / 2) for ax in fig.axes
                if ax.title.get_text()]
    changed = False
    for text, x in centred:
        room = 2 * min(x, width - x) - 2 * PAD
        box = text.get_window_extent(renderer)
        if box.width > room:
            lines = text.get_text().split("\n")
            # chars per line in proportion to the widest line; a line still too wide is
            # broken again after the next draw
            chars = max(8, int(max(map(len, lines)) * room / box.width * 0.95))
            text.set_text(textwrap.fill(" ".join(lines), chars))
            changed = True
    return changed


def _widened(fig: Figure, renderer) -> dict[str, float] | None:
    """New subplot parameters giving every side ``PAD`` where a text is closer than ``SLACK``
    to the figure's edge, to the next panel's texts or to the suptitle; None when none is."""
    width, height = fig.bbox.width, fig.bbox.height
    panels = sorted(fig.axes, key=lambda ax: ax.bbox.x0)
    boxes = [Bbox.union([ax.bbox] + [t.get_window_extent(renderer) for t in _axes_texts(ax)])
             for ax in panels]
    ceiling = min([t.get_window_extent(renderer).y0 for t in _shown(fig.texts)] + [height])
    sp = fig.subplotpars
    old = {"left": sp.left, "right": sp.right, "bottom": sp.bottom, "top": sp.top,
           "wspace": sp.wspace}
    new = dict(old)
    x0, x1 = min(b.x0 for b in boxes), max(b.x1 for b in boxes)
    y0, y1 = min(b.y0 for b in boxes), max(b.y1 for b in boxes)
    if x0 < SLACK:
        new["left"] += (PAD - x0) / width
    if x1 > width - SLACK:
        new["right"] -= (x1 - width + PAD) / width
    if y0 < SLACK:
        new["bottom"] += (PAD - y0) / height
    if y1 > ceiling - SLACK:
        new["top"] -= (y1 - ceiling + PAD) / height
    gap = min((b.x0 - a.x1 for a, b in pairwise(boxes)), default=np.inf)
    n = len(panels)
    panel = ((new["right"] - new["left"]) * width - (n - 1) * PAD) / n
    if gap < SLACK:  # the space between panels grows by PAD - gap pixels
        span = (new["right"] - new["left"]) * width
        space = sp.wspace * span / (n + (n - 1) * sp.wspace) + PAD - gap
        panel = (span - (n - 1) * space) / n
        new["wspace"] = space / max(panel, 1.0)
    if panel < MIN_PANEL * width / n or new["top"] - new["bottom"] < MIN_PANEL:
        return None  # a text too large for the figure: widening would crush the panels
    return new if new != old else None
