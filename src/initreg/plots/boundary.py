"""The decision boundary of a predictor over 2-D data, with the points on top."""

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from initreg.plots.agg import attach_canvas
from initreg.plots.canvas import (
    DPI,
    FIGSIZE,
    POINT_COLORS,
    REGION_COLORS,
    kept_figure,
    save_kept_png,
)

# subplot parameters that fit the usual labels and the legend right of the axes
# (``fit_margins`` widens them for wider ones); the top without a title
BOUNDARY_MARGINS = {"left": 0.146, "right": 0.778, "bottom": 0.145, "top": 0.91}
UNTITLED_TOP = 0.963


def _boundary_grid(X: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Mesh ``xx, yy`` of shape (resolution, resolution) covering X (2, m) with a 10% margin."""
    lo, hi = X.min(axis=1), X.max(axis=1)
    margin = np.maximum(0.1 * (hi - lo), 0.5)  # 0.5 keeps a degenerate (flat) axis visible
    xs = np.linspace(lo[0] - margin[0], hi[0] + margin[0], resolution)
    ys = np.linspace(lo[1] - margin[1], hi[1] + margin[1], resolution)
    return np.meshgrid(xs, ys)


def _boundary_figure(
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    title: str = "",
    resolution: int = 300,
) -> Figure:
    """This thread's kept figure of :func:`decision_boundary` (:func:`_boundary_template`)
    showing the predicted class over the plane of X (2, m) and the points coloured by Y."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] != 2:
        raise ValueError(
            f"decision_boundary needs 2-D features, X of shape (2, m); got shape {X.shape}"
        )
    y = np.asarray(Y).ravel()
    if y.size != X.shape[1]:
        raise ValueError(
            f"Y has {y.size} labels but X has {X.shape[1]} examples; shapes must be "
            f"X (2, m) and Y (1, m); got X {X.shape}, Y {np.shape(Y)}"
        )
    if resolution < 2:
        raise ValueError(f"resolution={resolution!r} must be >= 2 grid points per axis")

    xx, yy = _boundary_grid(X, resolution)
    grid = np.vstack([xx.ravel(), yy.ravel()])  # (2, k), one column per grid point
    scores = np.asarray(predict(grid), dtype=float)
    if scores.size != grid.shape[1]:
        raise ValueError(
            f"predict returned shape {scores.shape} for a grid of shape {grid.shape}; "
            f"expected (1, {grid.shape[1]})"
        )
    Z = (scores.reshape(xx.shape) > 0.5).astype(float)  # labels or probabilities -> class

    fig = kept_figure(_boundary_template)
    (ax,) = fig.axes
    for drawn in [*ax.collections]:  # the last run's regions and points
        drawn.remove()
    ax.contourf(xx, yy, Z, levels=[-0.5, 0.5, 1.5], colors=REGION_COLORS)
    for cls, color in enumerate(POINT_COLORS):
        pts = X[:, y == cls]
        ax.scatter(pts[0], pts[1], s=18, c=color, edgecolors="black", linewidths=0.4)
    ax.set_xlim(xx[0, 0], xx[0, -1])
    ax.set_ylim(yy[0, 0], yy[-1, 0])
    ax.set_title(title)
    return fig


def _boundary_template() -> Figure:
    """A decision boundary's axes without regions or points: labels and the legend."""
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    attach_canvas(fig)  # redrawn for every job: a renderer that keeps its texts
    ax = fig.add_subplot()
    handles = [
        Line2D(
            [],
            [],
            linestyle="",
            marker="o",
            markersize=5,
            markerfacecolor=POINT_COLORS[k],
            markeredgecolor="black",
            markeredgewidth=0.4,
            label=f"y = {k}",
        )
        for k in (0, 1)
    ] + [Patch(facecolor=REGION_COLORS[k], label=f"predicted {k}") for k in (0, 1)]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        fontsize="small",
    )
    ax.set_xlabel("x\u2081")  # x₁, x₂ in Unicode: a mathtext label would load mathtext's parser
    ax.set_ylabel("x\u2082")
    return fig


def decision_boundary(
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    path: str | os.PathLike,
    title: str = "",
    resolution: int = 300,
) -> Path:
    """The predicted class over the plane of 2-D data with the points on top, as a PNG.

    Args:
        predict: maps a grid (2, k) to labels or P(y = 1) of shape (1, k); > 0.5 is class 1.
        X: features, shape (2, m).
        Y: 0/1 labels, shape (1, m); red is 0 and blue is 1, as in the course.
        path: where to write the PNG.
        title: optional axis title.
        resolution: grid points per axis.
    """
    margins = BOUNDARY_MARGINS if title else {**BOUNDARY_MARGINS, "top": UNTITLED_TOP}
    return save_kept_png(_boundary_figure(predict, X, Y, title, resolution), path, margins)
