"""The figures' canvas: their size, resolution and class colours, a blank figure, and
``save_png``, the one PNG writer (every figure of initreg is written through it)."""

import os
from pathlib import Path

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import TightLayoutEngine

FIGSIZE = (6.0, 4.0)
DPI = 110
# The course's Spectral colormap puts class 0 at red and class 1 at blue; we keep that reading.
POINT_COLORS = ("#d62728", "#1f4e9c")
REGION_COLORS = ("#f6c3c3", "#c3d5f6")


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
