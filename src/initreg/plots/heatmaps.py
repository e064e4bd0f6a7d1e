"""A sweep's dev accuracy over (lambd, keep_prob), one heatmap per init on one colour scale."""

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from initreg.plots.canvas import DPI, save_png


def frame_cells(ax, rows: Sequence[float], cols: Sequence[float],
                selected: tuple[float, float] | None = None) -> None:
    """A heatmap's ``rows`` and ``cols`` as its tick labels, and a red frame around the cell
    ``selected`` = (row, col) when given (the selected configuration)."""
    if selected is not None:
        r, c = selected
        ax.add_patch(Rectangle((cols.index(c) - 0.47, rows.index(r) - 0.47), 0.94, 0.94,
                               fill=False, edgecolor="#d62728", linewidth=2.5))
    ax.set_xticks(range(len(cols)), [f"{c:g}" for c in cols])
    ax.set_yticks(range(len(rows)), [f"{r:g}" for r in rows])


def accuracy_heatmaps(
    panels: Mapping[str, Mapping[tuple[float, float], float]],
    path: str | os.PathLike,
    *,
    notes: Mapping[str, Mapping[tuple[float, float], str]] | None = None,
    row_name: str = "lambd",
    col_name: str = "keep_prob",
    highlight: tuple[str, tuple[float, float]] | None = None,
    title: str = "",
) -> Path:
    """One heatmap per panel (e.g. per init) of ``{(row, col): accuracy}``, on one colour scale.

    Cells missing or NaN are grey and show ``notes[panel][(row, col)]`` (e.g. "gated") instead of
    a number, so a gap in the grid says why it is there; ``highlight`` = (panel, (row, col))
    draws a red frame around one cell (the selected configuration).
    """
    if not panels:
        raise ValueError("no heatmap panels to plot; pass at least one {name: {(row, col): acc}}")
    notes = notes or {}
    rows = sorted({r for cells in panels.values() for r, _ in cells})
    cols = sorted({c for cells in panels.values() for _, c in cells}, reverse=True)
    finite = [v for cells in panels.values() for v in cells.values() if np.isfinite(v)]
    vmin, vmax = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if vmax - vmin < 1e-9:
        vmin, vmax = vmin - 0.01, vmax + 0.01
    n = len(panels)
    fig = Figure(figsize=(0.6 + 3.2 * n, 0.9 + 0.55 * max(len(rows), 2) + 0.9), dpi=DPI,
                 layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n, squeeze=False)[0]
    cmap = colormaps["viridis"].with_extremes(bad="#d0d0d0")
    image = None
    for ax, (name, cells) in zip(axes, panels.items(), strict=True):
        grid = np.full((len(rows), len(cols)), np.nan)
        for (r, c), v in cells.items():
            grid[rows.index(r), cols.index(c)] = v
        image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=vmin, vmax=vmax,
                          aspect="auto")
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                v = grid[i, j]
                if np.isfinite(v):
                    shade = (v - vmin) / (vmax - vmin)
                    ax.text(j, i, f"{v:.3f}", ha="center", va="center", fontsize=9,
                            color="black" if shade > 0.55 else "white")
                else:
                    ax.text(j, i, notes.get(name, {}).get((r, c), "no run"), ha="center",
                            va="center", fontsize=8, color="#444444")
        chosen = highlight[1] if highlight is not None and highlight[0] == name else None
        frame_cells(ax, rows, cols, chosen)
        ax.set_xlabel(col_name)
        ax.set_ylabel(row_name)
        ax.set_title(name)
    fig.colorbar(image, ax=list(axes), label="dev accuracy", shrink=0.9)
    if title:
        fig.suptitle(title)
    return save_png(fig, path)
