"""The figures' canvas: their size, resolution and class colours, a blank figure, and
``save_png``, the one PNG writer (every figure of initreg is written through it)."""

import os
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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
    """Write ``fig`` as a PNG to ``path`` (parents created), free it, and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(out, format="png", dpi=DPI)
    finally:
        fig.clear()
    return out
