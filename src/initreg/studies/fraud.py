"""Fraud detection, read from MLflow: precision, recall, F1 and PR-AUC beside accuracy.

    section = fraud_section(runs, client, "fraud", folder)   # a sweep on the fraud data

On 2% positives, always answering "legitimate" is 98% accurate with F1 0: the section states
that baseline, counts the runs that do no better, and ranks by dev F1.
"""

import math
from pathlib import Path

import numpy as np

from initreg import data, plots
from initreg.data import Dataset
from initreg.diagnosis import diagnose
from initreg.pages import Section, num, png_folder, section
from initreg.runs import metric, param, run_name


def baseline_accuracy(ds: Dataset, split: str = "dev") -> float:
    """The accuracy of always answering "legitimate" (label 0) on ``split``."""
    _, Y = ds.split(split)
    return float(1.0 - np.mean(Y))


def _diagnosis(run) -> str:
    """The bias/variance verdict on 1 - F1 against ``data.bayes_f1_error``, else the run's tag."""
    ref = param(run, "data.bayes_f1_error")
    if ref is None:
        return run.data.tags.get("diagnosis", "")
    tol = float(param(run, "diagnosis.tolerance", 0.02))
    return diagnose(1 - metric(run, "train_f1"), 1 - metric(run, "dev_f1"), float(ref),
                    tol).verdict


def fraud_section(runs, client, dataset, folder: Path | None = None) -> Section:
    """A fraud sweep's section (``html, markdown = section``): precision, recall, F1, PR-AUC
    beside accuracy.

    ``dataset`` is the loaded :class:`Dataset` (or a data set name for ``initreg.data.load``);
    its dev split gives the all-"legitimate" baseline. The diagnosis is on 1 - F1 against
    ``data.bayes_f1_error`` (1 - F1 of the Bayes rule) when the runs carry it.
    """
    ds = data.load(dataset) if isinstance(dataset, str) else dataset
    base = baseline_accuracy(ds)
    out = png_folder(folder)
    done = [r for r in runs if math.isfinite(metric(r, "dev_f1"))]
    done.sort(key=lambda r: (-metric(r, "dev_f1"), -metric(r, "dev_accuracy")))
    head = ["run", "dev accuracy", "precision", "recall", "F1", "PR-AUC", "train F1",
            "diagnosis (1 - F1)"]
    rows = [[run_name(r), num(metric(r, "dev_accuracy"), ".4f"),
             *[num(metric(r, k), ".3f") for k in ("dev_precision", "dev_recall", "dev_f1",
                                                   "dev_pr_auc", "train_f1")],
             _diagnosis(r).replace("_", " ")] for r in done]
    at_most = sum(metric(r, "dev_accuracy") <= base + 1e-12 for r in done)
    useless = sum(metric(r, "dev_f1") == 0 for r in done)
    text = (f'Baseline: always answering "legitimate" is {base:.4f} accurate on dev (recall 0, '
            f"F1 0). {at_most} of {len(done)} trained runs are no more accurate than that and "
            f"{useless} have F1 = 0 (they never flag a fraud), which accuracy alone hides; the "
            "runs are ranked by dev F1, and the diagnosis is on 1 - F1.")
    figs = None
    if done:
        best = done[0]
        text += (f" Best: {run_name(best)} (F1 {metric(best, 'dev_f1'):.3f}, precision "
                 f"{metric(best, 'dev_precision'):.3f}, recall {metric(best, 'dev_recall'):.3f},"
                 f" PR-AUC {metric(best, 'dev_pr_auc'):.3f}).")
        points = [(run_name(r), metric(r, "dev_accuracy"), metric(r, "dev_f1")) for r in done]
        fig = plots.accuracy_vs_f1(points, base, out / "fraud_accuracy_f1.png",
                                   title="Fraud: accuracy hides a useless detector")
        figs = {"f1": (fig, "Dev accuracy against dev F1 per run; dashed: the accuracy of "
                            'always answering "legitimate".')}
    return section("Fraud detection", [text], figs=figs, table=(head, rows))
