"""Learning curves, read from MLflow: errors against the number of training examples.

    lambd, keep_prob, note = best_regularization(client, "football")   # what to compare with
    section = curve_section(runs, client, folder)      # a learning_curve sweep's children

Each curve is read from its first and last finished points with the diagnosis tolerance; the
verdicts are derived from those numbers, never written by hand.
"""

import math
from dataclasses import dataclass
from pathlib import Path

from initreg import plots
from initreg.pages import Section, num, png_folder, section
from initreg.runs import (
    best_run,
    job_status,
    latest_sweep,
    metric,
    param,
    reg_label,
    run_name,
    sweep_children,
)

DEFAULT_LAMBD = 0.7  # the course's L2 strength: the regularized curve without a better choice


@dataclass(frozen=True)
class CurvePoint:
    """One run of a learning curve: m training examples and its errors."""

    config: str
    fraction: float
    m: float
    train_error: float
    dev_error: float
    status: str


def curve_points(runs) -> dict[str, list[CurvePoint]]:
    """Each config's points (``reg_label``), smallest training set first."""
    curves: dict[str, list[CurvePoint]] = {}
    for run in runs:
        label = reg_label(param(run, "reg.lambd", 0.0), param(run, "reg.keep_prob", 1.0))
        curves.setdefault(label, []).append(CurvePoint(
            label, float(param(run, "data.train_fraction", 1.0)),
            metric(run, "train_examples"), metric(run, "train_error"),
            metric(run, "dev_error"), job_status(run)))
    return {k: sorted(v, key=lambda p: p.fraction) for k, v in sorted(
        curves.items(), key=lambda kv: kv[0] != "no regularization")}


def curve_verdict(points: list[CurvePoint], bayes_error: float, tolerance: float) -> str:
    """What the curve says, from its first and last finished points (tolerance as diagnosis)."""
    done = [p for p in points if math.isfinite(p.dev_error)]
    if len(done) < 2:
        return "fewer than two finished points: no verdict."
    first, last = done[0], done[-1]
    gap0, gap1 = first.dev_error - first.train_error, last.dev_error - last.train_error
    bias = last.train_error - bayes_error
    trend = (f"the dev - train gap goes from {gap0:.3f} at m={first.m:.0f} to {gap1:.3f} at "
             f"m={last.m:.0f}")
    if gap1 > tolerance and gap1 < gap0 - tolerance / 2:
        text = (f"variance that more data would fix: {trend}, closing as m grows but still "
                f"above the tolerance {tolerance:g} at the full training set.")
    elif gap1 > tolerance:
        text = (f"variance that more data of this kind does not close: {trend}; regularize "
                "or simplify the model rather than wait for data.")
    elif gap0 > tolerance:
        text = (f"the variance is gone by the full training set: {trend} (within the "
                f"tolerance {tolerance:g}): more data closed the gap.")
    else:
        text = f"no variance problem at any size: {trend}."
    if bias > tolerance:
        text += (f" The train error stays {bias:.3f} above the Bayes error: avoidable bias, "
                 "which more data will not fix (a bigger model or longer training would).")
    return text


def curve_section(runs, client=None, folder: Path | None = None) -> Section:
    """A learning-curve sweep's section (``html, markdown = section``): errors against m and
    a verdict per curve."""
    curves = curve_points(runs)
    if not curves:
        return section("Learning curve", ["No runs."])
    out = png_folder(folder)
    bayes = next((metric(r, "bayes_error") for r in runs
                  if math.isfinite(metric(r, "bayes_error"))),
                 float(param(runs[0], "data.bayes_error", 0.0)))
    tol = float(param(runs[0], "diagnosis.tolerance", 0.02))
    data_name = param(runs[0], "data.name", "")
    fig = plots.learning_curve(
        {k: ([p.m for p in v], [p.train_error for p in v], [p.dev_error for p in v])
         for k, v in curves.items()}, bayes, out / "learning_curve.png",
        title=f"Learning curve: {data_name}")
    caption = ("Train (dashed) and dev (solid) error against the number of training examples; "
               "dotted: the Bayes error.")
    verdicts = [f"{k}: {curve_verdict(v, bayes, tol)}" for k, v in curves.items()]
    head = ["config", "fraction", "m", "train error", "dev error", "gap", "status"]
    rows = [[p.config, f"{p.fraction:g}", num(p.m, ".0f"), num(p.train_error, ".3f"),
             num(p.dev_error, ".3f"), num(p.dev_error - p.train_error, ".3f"), p.status]
            for v in curves.values() for p in v]
    rule = (f"Verdicts read the gap (dev - train error) at the smallest and the full training "
            f"set, with the diagnosis tolerance {tol:g}; Bayes error {bayes:.3f}.")
    return section("Learning curve", [rule], verdicts, figs={"lc": (fig, caption)},
                   table=(head, rows))


def best_regularization(client, experiment: str = "football") -> tuple[float, float, str]:
    """``(lambd, keep_prob, note)``: the regularization of the latest sweep's best run.

    The latest sweep is the most recent parent run tagged ``sweep=true`` in ``experiment``; its
    best run is :func:`initreg.runs.best_run`'s (the ranking every report uses). Without one,
    or when the best uses no regularization, ``lambd = DEFAULT_LAMBD`` and the note says why.
    """
    fallback = f"using lambd {DEFAULT_LAMBD:g}"
    parent = latest_sweep(client, experiment)
    if parent is None:
        return DEFAULT_LAMBD, 1.0, f"no sweep in experiment {experiment!r}: {fallback}"
    best = best_run(sweep_children(client, parent.info.run_id))
    if best is None:
        return DEFAULT_LAMBD, 1.0, (f"sweep {parent.info.run_id} has no finished runs: "
                                    f"{fallback}")
    lambd, kp = float(param(best, "reg.lambd", 0.0)), float(param(best, "reg.keep_prob", 1.0))
    where = (f"the best run of sweep {parent.info.run_id} ({run_name(best)}, dev accuracy "
             f"{metric(best, 'dev_accuracy'):.3f})")
    if lambd == 0 and kp == 1:
        return DEFAULT_LAMBD, 1.0, f"{where} uses no regularization: {fallback}"
    return lambd, kp, f"{where}: {reg_label(lambd, kp)}"
