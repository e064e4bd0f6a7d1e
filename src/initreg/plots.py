"""PNG figures for run artifacts: cost curves and 2-D decision boundaries.

Figures are built on ``matplotlib.figure.Figure`` with an Agg canvas and never touch pyplot,
so these functions are safe in worker processes and threads. Arrays are features x examples:
``X`` is ``(n_x, m)``, ``Y`` is ``(1, m)``.
"""

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

FIGSIZE = (6.0, 4.0)
DPI = 110
# The course's Spectral colormap puts class 0 at red and class 1 at blue; we keep that reading.
POINT_COLORS = ("#d62728", "#1f4e9c")
REGION_COLORS = ("#f6c3c3", "#c3d5f6")


def _new_figure() -> Figure:
    """A blank figure with an Agg canvas attached and a tight layout."""
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="tight")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | os.PathLike) -> Path:
    """Write ``fig`` as a PNG to ``path`` (parents created), free it, and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(out, format="png", dpi=DPI)
    finally:
        fig.clear()
    return out


def _use_log_scale(costs: Sequence[float] | np.ndarray) -> bool:
    """True when the finite costs are all > 0 and span more than two decades (max/min > 100)."""
    c = np.asarray(costs, dtype=float).ravel()
    c = c[np.isfinite(c)]  # a diverged run's inf/nan points are gaps, not part of the range
    if c.size == 0 or np.any(c <= 0):
        return False
    return bool(c.max() / c.min() > 100.0)


def _check_curve(label: str, iterations, costs) -> tuple[np.ndarray, np.ndarray]:
    """The curve as two equal-length 1-D float arrays; ValueError if empty or mismatched."""
    its = np.asarray(iterations, dtype=float).ravel()
    c = np.asarray(costs, dtype=float).ravel()
    if c.size == 0:
        raise ValueError(f"curve {label!r} has no costs to plot")
    if its.size != c.size:
        raise ValueError(
            f"curve {label!r}: {its.size} iterations but {c.size} costs; they must match"
        )
    return its, c


def _cost_figure(curves: Mapping[str, tuple], title: str = "") -> Figure:
    """A figure of one or more cost curves ``{label: (iterations, costs)}`` on one axis."""
    if not curves:
        raise ValueError("no cost curves to plot; pass at least one {label: (iterations, costs)}")
    checked = {label: _check_curve(label, its, c) for label, (its, c) in curves.items()}
    fig = _new_figure()
    ax = fig.add_subplot()
    for label, (its, c) in checked.items():
        ax.plot(its, c, linewidth=1.6, label=label or None)
    if _use_log_scale(np.concatenate([c for _, c in checked.values()])):
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost")
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)
    if title:
        ax.set_title(title)
    if any(checked):  # an unlabelled single curve needs no legend
        ax.legend(frameon=False)
    return fig


def cost_curve(
    costs: Sequence[float] | np.ndarray,
    iterations: Sequence[int] | np.ndarray,
    path: str | os.PathLike,
    title: str = "",
) -> Path:
    """Cost against iteration as a PNG at ``path``; log y axis when costs span > 2 decades.

    Args:
        costs: recorded costs, length k.
        iterations: the iteration of each cost, length k.
        path: where to write the PNG.
        title: optional axis title.
    """
    return _save(_cost_figure({"": (iterations, costs)}, title), path)


def cost_curves(
    curves: Mapping[str, tuple[Sequence[int] | np.ndarray, Sequence[float] | np.ndarray]],
    path: str | os.PathLike,
    title: str = "",
) -> Path:
    """Several labelled cost curves ``{label: (iterations, costs)}`` on one axis, as a PNG."""
    return _save(_cost_figure(curves, title), path)


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
    """A figure of the predicted class over the plane of X (2, m) with the points coloured by Y."""
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

    fig = _new_figure()
    ax = fig.add_subplot()
    ax.contourf(xx, yy, Z, levels=[-0.5, 0.5, 1.5], colors=REGION_COLORS)
    for cls, color in enumerate(POINT_COLORS):
        pts = X[:, y == cls]
        ax.scatter(pts[0], pts[1], s=18, c=color, edgecolors="black", linewidths=0.4)
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
    ax.set_xlim(xx[0, 0], xx[0, -1])
    ax.set_ylim(yy[0, 0], yy[-1, 0])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
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
    return _save(_boundary_figure(predict, X, Y, title, resolution), path)
