"""PNG figures of runs and reports: cost curves, decision boundaries, per-layer statistics,
accuracy heatmaps, the bias/variance scatter and the studies' figures (depth, learning curve,
fraud).

Figures are built on ``matplotlib.figure.Figure`` with an Agg canvas and never touch pyplot,
so these functions are safe in worker processes and threads. Arrays are features x examples:
``X`` is ``(n_x, m)``, ``Y`` is ``(1, m)``.
"""

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

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


def save_png(fig: Figure, path: str | os.PathLike) -> Path:
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


def _cost_axes(ax, checked: Mapping[str, tuple], log_x: bool) -> None:
    """Draw ``{label: (iterations, costs)}`` on ``ax``; ``log_x``: a symlog iteration axis (the
    first 10 iterations linear), where the early drop of a long run is visible."""
    for label, (its, c) in checked.items():
        ax.plot(its, c, linewidth=1.6, label=label or None)
    if _use_log_scale(np.concatenate([c for _, c in checked.values()])):
        ax.set_yscale("log")
    if log_x:
        ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("iteration (log scale)" if log_x else "iteration")
    ax.set_ylabel("cost")
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)


def _cost_figure(curves: Mapping[str, tuple], title: str = "",
                 scales: Sequence[bool] = (False,)) -> Figure:
    """A figure of one or more cost curves ``{label: (iterations, costs)}``, one panel per entry
    of ``scales`` (False: linear iterations, True: log-scaled iterations)."""
    if not curves:
        raise ValueError("no cost curves to plot; pass at least one {label: (iterations, costs)}")
    checked = {label: _check_curve(label, its, c) for label, (its, c) in curves.items()}
    fig = _new_figure()
    if len(scales) > 1:
        fig.set_size_inches(FIGSIZE[0] * 1.7, FIGSIZE[1])
    axes = fig.subplots(1, len(scales), squeeze=False)[0]
    for ax, log_x in zip(axes, scales, strict=True):
        _cost_axes(ax, checked, log_x)
    if title and len(axes) > 1:
        fig.suptitle(title)
    elif title:
        axes[0].set_title(title)
    if any(checked):  # an unlabelled single curve needs no legend
        axes[0].legend(frameon=False)
    return fig


def cost_curve(
    costs: Sequence[float] | np.ndarray,
    iterations: Sequence[int] | np.ndarray,
    path: str | os.PathLike,
    title: str = "",
) -> Path:
    """Cost against iteration as a PNG at ``path``, twice: against the iteration and against its
    log (where a long run's early drop shows); log y axis when costs span > 2 decades.

    Args:
        costs: recorded costs, length k.
        iterations: the iteration of each cost, length k.
        path: where to write the PNG.
        title: optional title.
    """
    return save_png(_cost_figure({"": (iterations, costs)}, title, scales=(False, True)), path)


def cost_curves(
    curves: Mapping[str, tuple[Sequence[int] | np.ndarray, Sequence[float] | np.ndarray]],
    path: str | os.PathLike,
    title: str = "",
    log_x: bool = False,
) -> Path:
    """Several labelled cost curves ``{label: (iterations, costs)}`` on one axis, as a PNG;
    ``log_x``: log-scaled iterations."""
    return save_png(_cost_figure(curves, title, scales=(log_x,)), path)


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
    return save_png(_boundary_figure(predict, X, Y, title, resolution), path)


# --- sweep report figures ---------------------------------------------------------------------

REGION_SHADES = {  # the four bias/variance verdicts of initreg.diagnosis
    "good_fit": "#d9f2d9",
    "high_bias": "#fde3c8",
    "high_variance": "#dbe6fb",
    "high_bias_high_variance": "#f4d3e6",
}


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
        if highlight is not None and highlight[0] == name:
            r, c = highlight[1]
            ax.add_patch(Rectangle((cols.index(c) - 0.47, rows.index(r) - 0.47), 0.94, 0.94,
                                   fill=False, edgecolor="#d62728", linewidth=2.5))
        ax.set_xticks(range(len(cols)), [f"{c:g}" for c in cols])
        ax.set_yticks(range(len(rows)), [f"{r:g}" for r in rows])
        ax.set_xlabel(col_name)
        ax.set_ylabel(row_name)
        ax.set_title(name)
    fig.colorbar(image, ax=list(axes), label="dev accuracy", shrink=0.9)
    if title:
        fig.suptitle(title)
    return save_png(fig, path)


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


# --- studies: per-layer statistics, depth, learning curves, fraud (initreg.studies) -----------

def _positive(values) -> np.ndarray:
    """Floats with zeros, negatives and non-finite values as NaN (gaps on a log axis)."""
    v = np.asarray(values, dtype=float)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def layer_stats(
    start: tuple[int, Mapping[str, float]],
    end: tuple[int, Mapping[str, float]],
    path: str | os.PathLike,
    title: str = "",
) -> Path:
    """Activation std and ||dW_l|| against layer l, at the start and end of training (log y).

    ``start`` and ``end`` are ``(iteration, stats)`` with the metrics of
    :func:`initreg.nn.stats.layer_stats` (``act_std_l{l}``, ``grad_norm_l{l}``). Zero or
    non-finite values cannot sit on a log axis: they are left out and named in the legend.
    """
    fig = Figure(figsize=(10.0, 4.0), dpi=DPI, layout="tight")
    FigureCanvasAgg(fig)
    panels = (("act_std_l", "activation std of layer l"), ("grad_norm_l", "||dW_l|| (Frobenius)"))
    for k, (prefix, ylabel) in enumerate(panels):
        ax = fig.add_subplot(1, 2, k + 1)
        for (it, stats), style in ((start, "o-"), (end, "s--")):
            ls = sorted(int(key[len(prefix):]) for key in stats if key.startswith(prefix))
            raw = [stats[f"{prefix}{l}"] for l in ls]  # noqa: E741
            y = _positive(raw)
            label = f"iteration {it}"
            if np.isnan(y).any():
                label += f" ({int(np.isnan(y).sum())} of {len(ls)} are 0 or not finite)"
            ax.plot(ls, y, style, linewidth=1.4, markersize=4, label=label)
        ax.set_yscale("log")
        ax.set_xlabel("layer l")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # layers are whole numbers
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.35)
        ax.legend(frameon=False, fontsize="small")
    if title:
        fig.suptitle(title)
    return save_png(fig, path)


def against_depth(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    path: str | os.PathLike,
    ylabel: str,
    title: str = "",
    log: bool = True,
    hline: tuple[float, str] | None = None,
    missing: str = "0, inf or no value",
) -> Path:
    """One line per label ``{label: (depths, values)}`` against depth, as a PNG.

    Values that cannot be drawn (0 or not finite on a log axis, NaN on a linear one) are left
    out and the label says how many, with ``missing`` as the reason; ``hline`` = (y, text)
    draws a dashed reference line. The legend sits right of the axes.
    """
    if not series:
        raise ValueError("no series to plot; pass at least one {label: (depths, values)}")
    fig = Figure(figsize=(8.2, 4.0), dpi=DPI, layout="tight")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ticks: set[float] = set()
    for label, (depths, values) in series.items():
        v = np.asarray(values, dtype=float)
        y = _positive(v) if log else np.where(np.isfinite(v), v, np.nan)
        n_out = int(np.isnan(y).sum())
        text = label if not n_out else f"{label} ({n_out} of {y.size}: {missing})"
        ax.plot(np.asarray(depths, dtype=float), y, "o-", linewidth=1.5, markersize=4,
                label=text)
        ticks.update(float(d) for d in depths)
    if hline is not None:
        ax.axhline(hline[0], color="#555", linestyle="--", linewidth=1.0, label=hline[1])
    if log:
        ax.set_yscale("log")
    ax.set_xticks(sorted(ticks))
    ax.set_xlabel("hidden layers (depth)")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.35)
    ax.legend(frameon=False, fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    if title:
        ax.set_title(title)
    return save_png(fig, path)


def learning_curve(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float], Sequence[float]]],
    bayes_error: float,
    path: str | os.PathLike,
    title: str = "",
) -> Path:
    """Train (dashed) and dev (solid) error against training-set size m, per label, as a PNG.

    ``curves`` maps a label to ``(m, train_error, dev_error)``; the Bayes error is a grey line.
    """
    if not curves:
        raise ValueError("no learning curves to plot; pass {label: (m, train_err, dev_err)}")
    fig = _new_figure()
    ax = fig.add_subplot()
    for k, (label, (m, train_err, dev_err)) in enumerate(curves.items()):
        color = f"C{k}"
        ax.plot(m, dev_err, "o-", color=color, linewidth=1.6, label=f"{label}: dev")
        ax.plot(m, train_err, "s--", color=color, linewidth=1.2, label=f"{label}: train")
    ax.axhline(bayes_error, color="#555", linestyle=":", linewidth=1.2,
               label=f"Bayes error {bayes_error:.3f}")
    ax.set_xlabel("training examples m")
    ax.set_ylabel("error (1 - accuracy)")
    ax.set_ylim(bottom=0)
    ax.grid(True, which="major", alpha=0.35)
    ax.legend(frameon=False, fontsize="small")
    if title:
        ax.set_title(title)
    return save_png(fig, path)


def accuracy_vs_f1(
    points: Sequence[tuple[str, float, float]],
    baseline_accuracy: float,
    path: str | os.PathLike,
    title: str = "",
) -> Path:
    """Dev accuracy (x) against dev F1 (y) per run, with the all-negative baseline's accuracy.

    ``points`` are ``(label, accuracy, f1)``; runs left of the dashed line do worse than always
    answering "legitimate", and a high accuracy with F1 near 0 is a useless detector.
    """
    if not points:
        raise ValueError("no runs to plot; pass at least one (label, accuracy, f1)")
    fig = _new_figure()
    ax = fig.add_subplot()
    acc = np.array([p[1] for p in points], dtype=float)
    f1 = np.array([p[2] for p in points], dtype=float)
    ax.scatter(acc, f1, s=22, color=POINT_COLORS[1], zorder=3)
    best = int(np.nanargmax(np.where(np.isfinite(f1), f1, -1)))
    ax.annotate(points[best][0], (acc[best], f1[best]), textcoords="offset points",
                xytext=(-6, 6), ha="right", fontsize="small")
    ax.axvline(baseline_accuracy, color=POINT_COLORS[0], linestyle="--", linewidth=1.2,
               label=f'always "legitimate": accuracy {baseline_accuracy:.4f}, F1 0')
    ax.set_xlabel("dev accuracy")
    ax.set_ylabel("dev F1 (fraud = positive)")
    ax.set_ylim(-0.03, 1.03)
    ax.grid(True, which="major", alpha=0.35)
    ax.legend(frameon=False, fontsize="small", loc="upper left")
    if title:
        ax.set_title(title)
    return save_png(fig, path)
