"""The report's figures: accuracy heatmaps, the bias/variance scatter, cost curves."""

import math
from collections.abc import Sequence
from pathlib import Path

from mlflow.tracking import MlflowClient

from initreg import plots, runs, tracking
from initreg.report.sweep import Row, Sweep, best_row, select

FIGURES = {  # file name: caption
    "heatmaps.png": "Dev accuracy over lambd x keep_prob, one panel per init (one colour scale).",
    "bias_variance.png": "Train error against dev error; the shaded regions are the diagnosis "
                         "each run gets (avoidable bias or variance above the tolerance). Runs "
                         "that failed to learn are left out (listed above); runs on one spot "
                         "share one point, labelled with their number.",
    "cost_curves.png": "Cost curves of the best run (by dev accuracy) of each init.",
}


def heatmap_panels(rows: Sequence[Row]) -> tuple[dict, dict, bool]:
    """``(panels, notes, shared)`` for the heatmaps: one panel per init label, its cells the mean
    dev accuracy per (lambd, keep_prob); notes name the status of runs that did not finish;
    shared: some cell holds more than one run."""
    panels, notes, shared = {}, {}, False
    for init in runs.init_order(r.init for r in rows):
        cells: dict[tuple[float, float], list[float]] = {}
        for r in rows:
            if r.init == init:
                cells.setdefault((r.lambd, r.keep_prob), []).append(r.metric("dev_accuracy"))
                if r.status != "finished":
                    notes.setdefault(init, {})[(r.lambd, r.keep_prob)] = r.status
        panels[init] = {k: _mean_finite(v) for k, v in cells.items()}
        shared = shared or any(len(v) > 1 for v in cells.values())
    return panels, notes, shared


def make_figures(client: MlflowClient, sweep: Sweep, folder: Path) -> dict[str, Path]:
    """The report's PNGs in ``folder``: heatmaps, bias/variance scatter, cost curves."""
    out: dict[str, Path] = {}
    rows, chosen = sweep.rows, select(sweep)
    panels, notes, shared = heatmap_panels(rows)
    if panels:
        out["heatmaps.png"] = plots.accuracy_heatmaps(
            panels, folder / "heatmaps.png", notes=notes,
            highlight=(chosen.init, (chosen.lambd, chosen.keep_prob)) if chosen else None,
            title="dev accuracy" + (" (mean over runs per cell)" if shared else ""))
    done = [r for r in rows if r.status == "finished"
            and math.isfinite(r.metric("train_error")) and math.isfinite(r.metric("dev_error"))]
    points = scatter_points(rows)
    if points:
        out["bias_variance.png"] = plots.bias_variance_scatter(
            points, folder / "bias_variance.png", bayes_error=sweep.bayes_error,
            tolerance=sweep.tolerance, highlight=chosen.label if chosen else None,
            title="bias and variance of each run")
    curves = {}
    for init in runs.init_order(r.init for r in done):
        best = best_row([r for r in done if r.init == init])
        history = tracking.retry(client.get_metric_history, best.run_id, "cost")
        if history:
            history = sorted(history, key=lambda m: m.step)
            curves[f"{best.label} (dev {best.metric('dev_accuracy'):.3f})"] = (
                [m.step for m in history], [m.value for m in history])
    if curves:
        out["cost_curves.png"] = plots.cost_curves(curves, folder / "cost_curves.png",
                                                   title="best run of each init")
    return out


def scatter_points(rows: Sequence[Row]) -> list[tuple[str, float, float]]:
    """``(label, train_error, dev_error)`` of the runs the bias/variance figure shows: finished
    with both errors, and not ``failed_to_learn`` (their errors are those of answering one class
    everywhere, which no bias/variance reading applies to; the report lists them apart)."""
    return [(r.label, r.metric("train_error"), r.metric("dev_error")) for r in rows
            if r.status == "finished" and not r.failed_to_learn
            and math.isfinite(r.metric("train_error")) and math.isfinite(r.metric("dev_error"))]


def _mean_finite(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan
