"""Learning curves, read from MLflow: errors against the number of training examples.

    lambd, keep_prob, note = best_regularization(client, "football")   # what to compare with
    section = curve_section(runs, client, folder)      # a learning_curve sweep's children

Each curve is read at every finished point with the diagnosis tolerance: a trend is claimed only
when every step agrees with it, and the end points' dev errors come with their Wilson 95%
intervals. The verdicts are derived from those numbers, never written by hand.
"""

import math
from dataclasses import dataclass
from pathlib import Path

from initreg import plots
from initreg.pages import Section, num, png_folder, section
from initreg.runs import (
    best_run,
    interval,
    job_status,
    latest_sweep,
    metric,
    param,
    reg_label,
    run_name,
    split_size,
    sweep_children,
)
from initreg.studies.devset import dev_set

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


def rises(points: list[CurvePoint], tolerance: float) -> list[str]:
    """Where the curve is not monotone: each step between consecutive points at which the dev
    error or the dev - train gap rises by more than ``tolerance``, as a phrase."""
    found = []
    for a, b in zip(points, points[1:], strict=False):
        for name, get in (("dev error", lambda p: p.dev_error),
                          ("gap", lambda p: p.dev_error - p.train_error)):
            if get(b) - get(a) > tolerance:
                found.append(f"the {name} rises from {get(a):.3f} at m={a.m:.0f} to "
                             f"{get(b):.3f} at m={b.m:.0f}")
    return found


def _error_interval(error: float, n: int) -> tuple[float, float] | None:
    """The Wilson 95% interval of a dev error on ``n`` examples (None: not a count of n)."""
    span = interval(1.0 - error, n)
    return None if span is None else (1.0 - span[1], 1.0 - span[0])


def uncertainty_sentence(first: CurvePoint, last: CurvePoint, dev_n: int | None) -> str:
    """How far the dev errors at the two ends can be trusted, on ``dev_n`` dev examples."""
    if dev_n is None:
        return ("The number of dev examples is not known (no dev_examples logged, no stored "
                "config rebuilt), so the uncertainty of these dev errors is not stated.")
    a, b = _error_interval(first.dev_error, dev_n), _error_interval(last.dev_error, dev_n)
    if a is None or b is None:
        return (f"The dev errors are not counts of {dev_n} dev examples, so their uncertainty "
                "is not stated.")
    ends = (f"the dev error is {first.dev_error:.3f} (95% interval {a[0]:.3f}–{a[1]:.3f}) at "
            f"m={first.m:.0f} and {last.dev_error:.3f} ({b[0]:.3f}–{b[1]:.3f}) at m={last.m:.0f}")
    if a[0] <= b[1] and b[0] <= a[1]:
        return (f"Each point is one run scored on {dev_n} dev examples: {ends}; the two "
                "intervals overlap, so these runs cannot tell the two ends apart.")
    return f"Each point is one run scored on {dev_n} dev examples: {ends}; the intervals do " \
           "not overlap."


def curve_verdict(points: list[CurvePoint], bayes_error: float, tolerance: float,
                  dev_n: int | None = None) -> str:
    """What the curve says, read at every finished point with the diagnosis ``tolerance``.

    A trend ("more data fixes / closed the gap") is claimed only when the gap narrows from the
    first to the last point by more than half the tolerance and neither the dev error nor the
    gap rises by more than the tolerance at any step (:func:`rises`); "no variance problem"
    needs the gap within the tolerance at every size. The uncertainty of the end points' dev
    errors on ``dev_n`` dev examples is stated (:func:`uncertainty_sentence`).
    """
    done = [p for p in points if math.isfinite(p.dev_error) and math.isfinite(p.train_error)]
    if len(done) < 2:
        return "fewer than two finished points: no verdict."
    first, last = done[0], done[-1]
    gaps = [p.dev_error - p.train_error for p in done]
    gap0, gap1 = gaps[0], gaps[-1]
    trend = (f"the dev - train gap goes from {gap0:.3f} at m={first.m:.0f} to {gap1:.3f} at "
             f"m={last.m:.0f}")
    bumps = rises(done, tolerance)
    closing = gap1 < gap0 - tolerance / 2
    if max(gaps) <= tolerance:
        text = (f"no variance problem at any of the {len(done)} sizes: the gap stays within the "
                f"tolerance {tolerance:g} ({trend}).")
    elif closing and bumps:
        text = (f"no trend is claimed: {trend}, but the curve is not monotone: "
                f"{'; '.join(bumps)} (more than the tolerance {tolerance:g}).")
        if gap1 > tolerance:
            text += " At the full training set the gap is still above the tolerance."
    elif closing and gap1 > tolerance:
        text = (f"variance that more data would fix: {trend}, narrowing at every step (within "
                f"the tolerance {tolerance:g}) but still above the tolerance at the full "
                "training set.")
    elif closing:
        text = (f"the variance is gone by the full training set: {trend}, narrowing at every "
                f"step (within the tolerance {tolerance:g}): more data closed the gap.")
    elif gap1 > tolerance:
        text = (f"variance that more data of this kind does not close: {trend}; regularize "
                "or simplify the model rather than wait for data.")
        if bumps:
            text += f" The curve is not monotone either: {'; '.join(bumps)}."
    else:
        text = (f"the gap is within the tolerance {tolerance:g} at the full training set but "
                f"not at every size, and it changed by less than half the tolerance: {trend}; "
                "no trend is claimed.")
    bias = last.train_error - bayes_error
    if bias > tolerance:
        text += (f" At the full training set the train error is {bias:.3f} above the Bayes "
                 "error: avoidable bias, which more data will not fix (a bigger model or longer "
                 "training would).")
    return f"{text} {uncertainty_sentence(first, last, dev_n)}"


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
    dev_n = dev_size(runs, client)
    verdicts = [f"{k}: {curve_verdict(v, bayes, tol, dev_n)}" for k, v in curves.items()]
    head = ["config", "fraction", "m", "train error", "dev error", "gap", "status"]
    rows = [[p.config, f"{p.fraction:g}", num(p.m, ".0f"), num(p.train_error, ".3f"),
             num(p.dev_error, ".3f"), num(p.dev_error - p.train_error, ".3f"), p.status]
            for v in curves.values() for p in v]
    rule = (f"Verdicts read the gap (dev - train error) at every training-set size with the "
            f"diagnosis tolerance {tol:g}: a trend is claimed only when the gap narrows from "
            f"the smallest to the full set by more than {tol / 2:g} and neither the gap nor the "
            f"dev error rises by more than {tol:g} at any step; Bayes error {bayes:.3f}. Each "
            "point is one run (one seed).")
    return section("Learning curve", [rule], verdicts, figs={"lc": (fig, caption)},
                   table=(head, rows))


def dev_size(runs, client=None) -> int | None:
    """The number of dev examples the runs share: their ``dev_examples`` metric, else the dev
    set rebuilt from a stored config (:func:`initreg.studies.devset.dev_set`); None if unknown."""
    sizes = {split_size(r.data.metrics, "dev") for r in runs}
    if len(sizes) == 1 and None not in sizes:
        return sizes.pop()
    dev = dev_set(runs, client)
    return dev.n if dev is not None else None


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
