"""PNG figures of runs and reports: cost curves, decision boundaries, per-layer statistics,
accuracy heatmaps, the bias/variance scatter and the studies' figures (depth, learning curve,
fraud).

Figures are built on ``matplotlib.figure.Figure`` with an Agg canvas and never touch pyplot,
so these functions are safe in worker processes and threads. Arrays are features x examples:
``X`` is ``(n_x, m)``, ``Y`` is ``(1, m)``.

Its parts, by figure family: ``canvas`` (size, resolution, colours; the PNG writers:
``save_png`` for a figure made for one use, ``save_kept_png`` for a run's cost curve, decision
boundary and layer statistics, drawn on figures each thread keeps between jobs), ``agg`` (the kept
figures' Agg canvas, whose renderer keeps the texts and glyphs it drew), ``curves``
(cost curves), ``boundary`` (the decision boundary), ``heatmaps`` (a sweep's accuracy grid),
``bias_variance`` (the runs over the diagnosis regions) and ``studies`` (per-layer statistics,
depth, learning curve, fraud). Everything public is importable from ``initreg.plots``.
"""

from initreg.plots.bias_variance import (
    NEAR,
    REGION_SHADES,
    bias_variance_scatter,
    group_label,
    point_groups,
)
from initreg.plots.boundary import decision_boundary
from initreg.plots.canvas import DPI, FIGSIZE, POINT_COLORS, REGION_COLORS, new_figure, save_png
from initreg.plots.curves import cost_curve, cost_curves
from initreg.plots.heatmaps import accuracy_heatmaps, frame_cells
from initreg.plots.studies import accuracy_vs_f1, against_depth, layer_stats, learning_curve

__all__ = [
    "DPI", "FIGSIZE", "NEAR", "POINT_COLORS", "REGION_COLORS", "REGION_SHADES",
    "accuracy_heatmaps", "accuracy_vs_f1", "against_depth", "bias_variance_scatter",
    "cost_curve", "cost_curves", "decision_boundary", "frame_cells", "group_label", "layer_stats",
    "learning_curve", "new_figure", "point_groups", "save_png",
]
