"""Dev error against train error, one labelled point per run, over the four diagnosis regions."""

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from initreg.plots.canvas import DPI, save_png

REGION_SHADES = {  # the four bias/variance verdicts of initreg.diagnosis
    "good_fit": "#d9f2d9",
    "high_bias": "#fde3c8",
    "high_variance": "#dbe6fb",
    "high_bias_high_variance": "#f4d3e6",
}


def _shade_regions(ax, lo: float, hi: float, bayes_error: float, tolerance: float) -> None:
    """The four diagnosis regions over the square [lo, hi]^2 of (train error, dev error)."""
    edge = min(max(bayes_error + tolerance, lo), hi)
    left, right = np.linspace(lo, edge, 50), np.linspace(edge, hi, 50)
    ax.fill_between(left, lo, left + tolerance, color=REGION_SHADES["good_fit"], lw=0)
    ax.fill_between(left, left + tolerance, hi, color=REGION_SHADES["high_variance"], lw=0)
    ax.fill_between(right, lo, right + tolerance, color=REGION_SHADES["high_bias"], lw=0)
    ax.fill_between(right, right + tolerance, hi, color=REGION_SHADES["high_bias_high_variance"],
                    lw=0)
    ax.plot([lo, hi], [lo, hi], color="#888888", lw=0.8, ls=":", label="dev = train")
    ax.axvline(bayes_error, color="#555555", lw=0.8, ls="--",
               label=f"Bayes error {bayes_error:.3f}")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("train error")
    ax.set_ylabel("dev error")


NEAR = 0.015  # points closer than this x the view's span on both axes are drawn as one


def point_groups(points: Sequence[tuple[str, float, float]], lo: float, hi: float,
                 near: float = NEAR) -> list[tuple[float, float, list[str]]]:
    """The ``(label, x, y)`` points inside the view ``[lo, hi]^2`` as ``(x, y, labels)`` groups:
    a point within ``near`` x the span of a group's first point on both axes joins it (runs
    that coincide, or nearly: their labels would print over each other)."""
    tol = near * (hi - lo)
    groups: list[tuple[float, float, list[str]]] = []
    for label, x, y in points:
        if not (lo <= x <= hi and lo <= y <= hi):
            continue
        for gx, gy, labels in groups:
            if abs(x - gx) <= tol and abs(y - gy) <= tol:
                labels.append(label)
                break
        else:
            groups.append((x, y, [label]))
    return groups


def group_label(labels: Sequence[str], highlight: str | None) -> str:
    """One run's label; ``16 runs`` for a group (``, with the selected`` when it holds it)."""
    if len(labels) == 1:
        return labels[0]
    return f"{len(labels)} runs" + (", with the selected" if highlight in labels else "")


def _labelled_points(ax, points, highlight: str | None, lo: float, hi: float) -> None:
    """Runs as dots, one label per group of coinciding runs (:func:`point_groups`), each label
    on one line and turned towards the inside of the axes so that it stays within them."""
    span = hi - lo
    groups = point_groups(points, lo, hi)
    for x, y, labels in groups:
        # the label goes left of the dot near the right edge or when a neighbour sits just right
        crowded = any(0 < x2 - x < 0.15 * span and abs(y2 - y) < 0.04 * span
                      for x2, y2, _ in groups)
        left = crowded or x > lo + 0.7 * span
        ring = highlight in labels
        size = 28 if len(labels) == 1 else 28 + 6 * min(len(labels), 20)
        ax.scatter([x], [y], s=size, c="#222222", zorder=3)
        if ring:
            ax.scatter([x], [y], s=size + 140, facecolors="none", edgecolors="#d62728",
                       linewidths=2, zorder=4, label="selected")
        va = "top" if y > hi - 0.03 * span else "bottom" if y < lo + 0.03 * span else "center"
        gap = np.sqrt(size + (140 if ring else 0)) / 2 + 3  # the marker's radius, in points
        ax.annotate(group_label(labels, highlight), (x, y), xytext=(-gap if left else gap, 0),
                    textcoords="offset points", fontsize=6.5, va=va,
                    ha="right" if left else "left",
                    color="#b71c1c" if ring else "#222222", zorder=5)


def _bias_variance_figure(points, bayes_error: float, tolerance: float,
                          highlight: str | None, title: str) -> Figure:
    """The figure of :func:`bias_variance_scatter`."""
    if not points:
        raise ValueError("no runs to plot; pass at least one (label, train_error, dev_error)")
    errors = np.array([[p[1], p[2]] for p in points], dtype=float)
    hi = max(float(np.nanmax(errors)), bayes_error + 2 * tolerance) * 1.08
    best = float(np.nanmin(errors[:, 1]))
    near = errors[errors[:, 1] <= best + 0.1]
    zoom_hi = max(float(np.nanmax(near)), bayes_error + 2 * tolerance) * 1.15
    views = [(0.0, hi, "all runs")]
    if zoom_hi < 0.6 * hi:
        zoom_lo = max(0.0, float(np.nanmin(near)) - 0.25 * (zoom_hi - float(np.nanmin(near))))
        views.append((zoom_lo, zoom_hi, "zoom on the best runs"))
    fig = Figure(figsize=(6.2 * len(views), 6.0), dpi=DPI, layout="tight")
    FigureCanvasAgg(fig)
    for k, (lo, top, name) in enumerate(views):
        ax = fig.add_subplot(1, len(views), k + 1)
        _shade_regions(ax, lo, top, bayes_error, tolerance)
        _labelled_points(ax, points, highlight, lo, top)
        ax.set_title(name)
        if k == 0:
            handles = [Patch(facecolor=c, label=v.replace("_", " "))
                       for v, c in REGION_SHADES.items()]
            ax.legend(handles=handles + ax.get_legend_handles_labels()[0], loc="upper left",
                      fontsize="small", framealpha=0.9)
    if title:
        fig.suptitle(title)
    return fig


def bias_variance_scatter(
    points: Sequence[tuple[str, float, float]],
    path: str | os.PathLike,
    *,
    bayes_error: float = 0.0,
    tolerance: float = 0.02,
    highlight: str | None = None,
    title: str = "",
) -> Path:
    """Dev error against train error, one labelled point per run, over the diagnosis regions.

    ``points`` are ``(label, train_error, dev_error)``. A run has high avoidable bias right of
    ``bayes_error + tolerance`` and high variance above the line ``dev = train + tolerance``,
    exactly as :func:`initreg.diagnosis.diagnose` decides; ``highlight`` rings one label. Runs
    on one spot are one point labelled with their number (``16 runs``). When some runs are far
    worse than the best, a second panel zooms on the best runs.
    """
    return save_png(_bias_variance_figure(points, bayes_error, tolerance, highlight, title), path)
