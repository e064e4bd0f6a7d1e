"""The figures of a multi-seed sweep and of an Optuna search (drawn like ``initreg.plots``: a
``Figure`` with an Agg canvas, never pyplot, so they are safe in any process or thread)."""

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from initreg.aggregate import Stat
from initreg.pages import num
from initreg.plots import DPI, frame_cells, save_png


def spread_heatmaps(panels: Mapping[str, Mapping[tuple[float, float], tuple[Stat, str]]],
                    path: str | Path, *, highlight: tuple[str, tuple[float, float]] | None = None,
                    title: str = "") -> Path:
    """One heatmap per panel of ``{(lambd, keep_prob): (stat, note)}``, coloured by the mean,
    each cell reading ``mean`` over ``± std`` and its ``note`` (e.g. ``2/3 seeds``); a cell with
    no finished run is grey and shows only its note, one with no configuration ``no run``.
    ``highlight`` = (panel, cell) frames one cell in red (the selected configuration). One
    colour scale for every panel."""
    rows = sorted({r for cells in panels.values() for r, _ in cells})
    cols = sorted({c for cells in panels.values() for _, c in cells}, reverse=True)
    means = [s.mean for cells in panels.values() for s, _ in cells.values() if s.n]
    lo, hi = (min(means), max(means)) if means else (0.0, 1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.01, hi + 0.01
    fig = Figure(figsize=(0.6 + 3.4 * len(panels), 2.0 + 0.75 * max(len(rows), 2)), dpi=DPI,
                 layout="constrained")
    FigureCanvasAgg(fig)
    image = None
    for ax, (name, cells) in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels.items(),
                                 strict=True):
        grid = np.full((len(rows), len(cols)), np.nan)
        for i, j in np.ndindex(grid.shape):
            if (rows[i], cols[j]) not in cells:
                ax.text(j, i, "no run", ha="center", va="center", fontsize=8, color="#444444")
        for (r, c), (s, note) in cells.items():
            i, j = rows.index(r), cols.index(c)
            grid[i, j] = s.mean if s.n else np.nan
            dark = s.n and (s.mean - lo) / (hi - lo) < 0.55
            text = "\n".join(t for t in (num(s.mean, ".3f") if s.n else "",
                                         f"± {s.std:.3f}" if s.std is not None else "", note) if t)
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
        image = ax.imshow(np.ma.masked_invalid(grid), vmin=lo, vmax=hi, aspect="auto",
                          cmap=colormaps["viridis"].with_extremes(bad="#d0d0d0"))
        chosen = highlight[1] if highlight is not None and highlight[0] == name else None
        frame_cells(ax, rows, cols, chosen)
        ax.set(xlabel="keep_prob", ylabel="lambd", title=name)
    fig.colorbar(image, ax=fig.axes, label="mean dev accuracy", shrink=0.9)
    if title:
        fig.suptitle(title)
    return save_png(fig, path)


def trials_figure(trials: Sequence[tuple[int, float]], best_so_far: Sequence[float],
                  grid: float | None, path: str | Path) -> Path:
    """Dev accuracy per trial ``(number, dev accuracy or NaN when it failed)``, failed trials
    marked at the bottom, ``best_so_far`` as a step line and the grid's best dashed."""
    fig = Figure(figsize=(7.0, 4.0), dpi=DPI, layout="tight")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    n, dev = [t[0] for t in trials], [t[1] for t in trials]
    finite = [d for d in dev if math.isfinite(d)] + ([grid] if grid is not None else [])
    floor = min(finite) - 0.02 if finite else 0.0
    ax.plot(n, dev, "o", color="#1f4e9c", label="trial (finished)")
    failed = [x for x, d in zip(n, dev, strict=True) if not math.isfinite(d)]
    if failed:
        ax.plot(failed, [floor] * len(failed), "x", color="#d62728", markersize=9,
                label="failed in Optuna (gated, diverged, crashed)")
    ax.step(n, best_so_far, where="post", color="#2e7d32", label="best so far")
    if grid is not None:
        ax.axhline(grid, color="#555555", linestyle="--", label="grid's best")
    ax.set(xlabel="trial", ylabel="dev accuracy", title="Optuna trials in order")
    ax.legend(frameon=False, fontsize="small")
    ax.grid(True, alpha=0.3)
    return save_png(fig, path)
