"""The studies' figures (:mod:`initreg.studies`) and a run's per-layer statistics: against the
layer, against depth, the learning curve, accuracy against F1 on the fraud data."""

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from initreg.plots.agg import attach_canvas
from initreg.plots.canvas import (
    DPI,
    POINT_COLORS,
    kept_figure,
    new_figure,
    plain_log_labels,
    save_kept_png,
    save_png,
)


def _positive(values) -> np.ndarray:
    """Floats with zeros, negatives and non-finite values as NaN (gaps on a log axis)."""
    v = np.asarray(values, dtype=float)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def _grid_and_legend(ax, **legend) -> None:
    """How a study's axes end: a light major grid and a small legend without a frame."""
    ax.grid(True, which="major", alpha=0.35)
    ax.legend(frameon=False, fontsize="small", **legend)


LAYER_PANELS = (("act_std_l", "activation std of layer l"),
                ("grad_norm_l", "||dW_l|| (Frobenius)"))
# subplot parameters of a run's layer statistics that fit their usual labels (``fit_margins``
# widens them for wider ones); the top without a title
LAYER_MARGINS = {"left": 0.083, "right": 0.985, "bottom": 0.145, "top": 0.883, "wspace": 0.25}
UNTITLED_TOP = 0.963


def _layer_template() -> Figure:
    """A run's per-layer statistics without their values: one log-y panel per entry of
    ``LAYER_PANELS``, a line for the start (solid, circles) and the end (dashed, squares)."""
    fig = Figure(figsize=(10.0, 4.0), dpi=DPI)
    attach_canvas(fig)  # redrawn for every job: a renderer that keeps its texts
    for ax, (_, ylabel) in zip(fig.subplots(1, 2), LAYER_PANELS, strict=True):
        for style in ("o-", "s--"):
            ax.plot([], [], style, linewidth=1.4, markersize=4)
        ax.set_yscale("log")
        plain_log_labels(ax)
        ax.set_xlabel("layer l")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # layers are whole numbers
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.35)
    return fig


def _layer_figure(start: tuple[int, Mapping[str, float]], end: tuple[int, Mapping[str, float]],
                  title: str = "") -> Figure:
    """This thread's kept figure of :func:`layer_stats` (:func:`_layer_template`) showing
    ``start`` and ``end``."""
    fig = kept_figure(_layer_template)
    for ax, (prefix, _) in zip(fig.axes, LAYER_PANELS, strict=True):
        layers, drawn = set(), 0
        for line, (it, stats) in zip(ax.lines, (start, end), strict=True):
            ls = sorted(int(key[len(prefix):]) for key in stats if key.startswith(prefix))
            y = _positive([stats[f"{prefix}{l}"] for l in ls])  # noqa: E741
            label = f"iteration {it}"
            if np.isnan(y).any():
                label += f" ({int(np.isnan(y).sum())} of {len(ls)} are 0 or not finite)"
            line.set_data(ls, y)
            line.set_label(label)
            layers.update(ls)
            drawn += int(np.isfinite(y).sum())
        ax.set_autoscale_on(True)  # set_xlim below turns it off for the figure's next use
        ax.relim()
        ax.autoscale_view()
        if layers and not drawn:  # nothing to scale to (zeros init): still the layers' axis,
            ax.set_xlim(min(layers) - 0.5, max(layers) + 0.5)  # and one decade of y, whatever
            ax.set_ylim(1.0, 10.0)  # the figure showed before
        ax.legend(frameon=False, fontsize="small")
    fig.suptitle(title)
    return fig


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
    margins = LAYER_MARGINS if title else {**LAYER_MARGINS, "top": UNTITLED_TOP}
    return save_kept_png(_layer_figure(start, end, title), path, margins)


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
        plain_log_labels(ax)
    ax.set_xticks(sorted(ticks))
    ax.set_xlabel("hidden layers (depth)")
    ax.set_ylabel(ylabel)
    _grid_and_legend(ax, loc="center left", bbox_to_anchor=(1.01, 0.5))
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
    fig = new_figure()
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
    _grid_and_legend(ax)
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
    fig = new_figure()
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
    _grid_and_legend(ax, loc="upper left")
    if title:
        ax.set_title(title)
    return save_png(fig, path)
