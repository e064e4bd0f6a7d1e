"""Cost curves: one run's (against the iteration and its log) and several labelled ones."""

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from initreg.plots.agg import attach_canvas
from initreg.plots.canvas import (
    DPI,
    FIGSIZE,
    kept_figure,
    new_figure,
    plain_log_labels,
    save_kept_png,
    save_png,
)

# subplot parameters of a run's cost curve that fit its usual labels (``fit_margins`` widens
# them for wider ones); the top without a title
RUN_MARGINS = {"left": 0.075, "right": 0.985, "bottom": 0.153, "top": 0.883, "wspace": 0.2}
UNTITLED_TOP = 0.963


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


def _cost_frame(ax, log_x: bool) -> None:
    """A cost curve's axes without its curves; ``log_x``: a symlog iteration axis (the first
    10 iterations linear), where the early drop of a long run is visible."""
    if log_x:
        ax.set_xscale("symlog", linthresh=10)
    plain_log_labels(ax)  # after both axes' scales are set
    ax.set_xlabel("iteration (log scale)" if log_x else "iteration")
    ax.set_ylabel("cost")
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)


def _cost_axes(ax, checked: Mapping[str, tuple], log_x: bool) -> None:
    """Draw ``{label: (iterations, costs)}`` on ``ax`` (see :func:`_cost_frame`)."""
    for label, (its, c) in checked.items():
        ax.plot(its, c, linewidth=1.6, label=label or None)
    if _use_log_scale(np.concatenate([c for _, c in checked.values()])):
        ax.set_yscale("log")
    _cost_frame(ax, log_x)


def _cost_figure(curves: Mapping[str, tuple], title: str = "",
                 scales: Sequence[bool] = (False,)) -> Figure:
    """A figure of one or more cost curves ``{label: (iterations, costs)}``, one panel per entry
    of ``scales`` (False: linear iterations, True: log-scaled iterations)."""
    if not curves:
        raise ValueError("no cost curves to plot; pass at least one {label: (iterations, costs)}")
    checked = {label: _check_curve(label, its, c) for label, (its, c) in curves.items()}
    fig = new_figure()
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


def _run_cost_template() -> Figure:
    """A run's cost figure without its curve: against the iteration and against its log."""
    fig = Figure(figsize=(FIGSIZE[0] * 1.7, FIGSIZE[1]), dpi=DPI)
    attach_canvas(fig)  # redrawn for every job: a renderer that keeps its texts
    for ax, log_x in zip(fig.subplots(1, 2), (False, True), strict=True):
        ax.plot([], [], linewidth=1.6)
        _cost_frame(ax, log_x)
    return fig


def _run_cost_figure(costs, iterations, title: str = "") -> Figure:
    """This thread's kept cost figure (:func:`_run_cost_template`) showing one run's curve."""
    its, c = _check_curve("", iterations, costs)
    fig = kept_figure(_run_cost_template)
    scale = "log" if _use_log_scale(c) else "linear"
    drawn = np.isfinite(c) & np.isfinite(its)
    for ax in fig.axes:
        ax.lines[0].set_data(its, c)
        ax.set_yscale(scale)
        plain_log_labels(ax)
        ax.set_autoscale_on(True)  # set_xlim below turns it off for the figure's next use
        ax.relim()
        ax.autoscale_view()
        if not drawn.any():  # nothing to scale to: fixed limits, not the last run's
            finite = its[np.isfinite(its)]
            ax.set_xlim(*((finite.min(), finite.max() + 1) if finite.size else (0, 1)))
            ax.set_ylim(0, 1)
    fig.suptitle(title)
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
    margins = RUN_MARGINS if title else {**RUN_MARGINS, "top": UNTITLED_TOP}
    return save_kept_png(_run_cost_figure(costs, iterations, title), path, margins)


def cost_curves(
    curves: Mapping[str, tuple[Sequence[int] | np.ndarray, Sequence[float] | np.ndarray]],
    path: str | os.PathLike,
    title: str = "",
    log_x: bool = False,
) -> Path:
    """Several labelled cost curves ``{label: (iterations, costs)}`` on one axis, as a PNG;
    ``log_x``: log-scaled iterations."""
    return save_png(_cost_figure(curves, title, scales=(log_x,)), path)
