"""The course's studies, read from MLflow: depth x init, learning curves, fraud detection.

    html, md = depth_section(runs, client)            # a depth_study sweep's children
    html, md = curve_section(runs, client)            # a learning_curve sweep's children
    html, md = fraud_section(runs, client, dataset)   # a sweep on the fraud data

Every verdict is derived from the numbers with the thresholds stated in this module, never
written by hand. The HTML fragments are self-contained (PNGs as base64 data URIs).
"""

import argparse
import base64
import html
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from hydra.utils import instantiate

from initreg import data, plots, tracking
from initreg.data import Dataset
from initreg.job import read_parent
from initreg.nn import initialize, stats

# --- shared: reading runs, tables, figures, writing a section -----------------------------------

VANISHED_BELOW = 1e-2  # activation std of the last hidden layer / layer 1's, at initialisation
EXPLODED_ABOVE = 1e2
INIT_ORDER = ("zeros", "random x0.01", "random x10", "lecun", "xavier", "he")


def _param(run, key: str, default=None):
    value = run.data.params.get(key)
    if value is None or value == "None":
        return default
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return value


def _metric(run, key: str) -> float:
    return float(run.data.metrics.get(key, math.nan))


def init_label(name: str, scale) -> str:
    """``random x0.01`` / ``random x10`` for the random scheme (its scale matters), else name."""
    return f"random x{float(scale):g}" if name == "random" else str(name)


def _order(labels) -> list[str]:
    known = [k for k in INIT_ORDER if k in labels]
    return known + sorted(set(labels) - set(known))


def _fmt(x: float, spec: str = ".3g") -> str:
    return "–" if x is None or not math.isfinite(x) else format(x, spec)


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    e = html.escape
    th = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return (f'<div class="scroll"><table><thead><tr>{th}</tr></thead><tbody>{body}</tbody>'
            "</table></div>")


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _figures(figures: dict[str, tuple[Path, str]]) -> tuple[str, str]:
    """HTML (PNGs inline as base64) and Markdown (PNGs linked by file name) for the figures."""
    e = html.escape
    h = "".join(f'<figure><img alt="{e(cap)}" src="{_data_uri(p)}"><figcaption>{e(cap)}'
                f"</figcaption></figure>" for p, cap in figures.values())
    md = "\n\n".join(f"![{cap}]({p.name})\n\n*{cap}*" for p, cap in figures.values())
    return h, md


def _folder(folder: Path | None) -> Path:
    if folder is None:
        return Path(tempfile.mkdtemp(prefix="initreg-study-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _status(run) -> str:
    from initreg.summary import job_status

    return job_status(run)


# --- the depth study ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DepthRow:
    """One run of a depth study: its init, depth, outcome and statistics at initialisation."""

    run_id: str
    init: str
    depth: int
    width: int
    status: str
    act_first: float  # act_std_l1 at initialisation
    act_last: float  # act_std_l{depth}: the last hidden layer
    grad_first: float  # ||dW1|| at initialisation
    symmetry: float
    dev_accuracy: float
    source: str  # "logged" (step-0 metrics) or "recomputed" (from config.yaml: never trained)

    @property
    def ratio(self) -> float:
        if self.act_first == 0 and self.act_last == 0:
            return 0.0
        with np.errstate(all="ignore"):
            return float(np.float64(self.act_last) / np.float64(self.act_first))


def _step0(client, run_id: str, keys: list[str]) -> dict[str, float] | None:
    out = {}
    for key in keys:
        points = [m for m in client.get_metric_history(run_id, key) if m.step == 0]
        if not points:
            return None
        out[key] = points[0].value
    return out


def rebuild(config: dict):
    """``(model, dataset)`` at initialisation from a run's resolved ``config.yaml``."""
    ds = data.train_subset(instantiate(config["data"]["loader"]),
                      config["data"].get("train_fraction", 1.0), config["seed"])
    spec = {k: v for k, v in config["model"].items() if k not in ("depth", "width")}
    model = instantiate(spec, init=config["init"]["name"], init_scale=config["init"]["scale"],
                        lambd=config["reg"]["lambd"], keep_prob=config["reg"]["keep_prob"],
                        seed=config["seed"], convention=config["convention"])
    return model, ds


def _recompute(client, run, keys: list[str]) -> dict[str, float] | None:
    """Init statistics of a run that never trained (gated, diverged at 0), from its config."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(run.info.run_id, "config.yaml", tmp)
        except Exception:  # no config.yaml: the run crashed before writing it
            return None
        config = yaml.safe_load(Path(path).read_text())
    model, ds = rebuild(config)
    with np.errstate(all="ignore"):
        _, grads = model.cost_and_grads(ds.X_train, ds.Y_train)
    found = stats.layer_stats(model.params, ds.X_train, grads)
    return {k: found.get(k, math.nan) for k in keys} if found else None


def depth_rows(runs, client) -> list[DepthRow]:
    """The depth study's runs, deepest last within each init, with their init statistics."""
    rows = []
    for run in runs:
        depth = _param(run, "model.depth")
        if depth is None:
            continue
        keys = ["act_std_l1", f"act_std_l{depth}", "grad_norm_l1", "symmetry_l1"]
        found, source = _step0(client, run.info.run_id, keys), "logged"
        if found is None:
            found, source = _recompute(client, run, keys), "recomputed"
        found = found or dict.fromkeys(keys, math.nan)
        rows.append(DepthRow(
            run_id=run.info.run_id,
            init=init_label(_param(run, "init.name"), _param(run, "init.scale", 10.0)),
            depth=int(depth), width=int(_param(run, "model.width", 0)), status=_status(run),
            act_first=found["act_std_l1"], act_last=found[f"act_std_l{depth}"],
            grad_first=found["grad_norm_l1"], symmetry=found["symmetry_l1"],
            dev_accuracy=_metric(run, "dev_accuracy"), source=source))
    order = {k: i for i, k in enumerate(_order({r.init for r in rows}))}
    return sorted(rows, key=lambda r: (order[r.init], r.depth))


def depth_verdict(ratio: float) -> str:
    """``vanished`` below VANISHED_BELOW, ``exploded`` above EXPLODED_ABOVE, else ``stable``."""
    if math.isnan(ratio) or ratio < VANISHED_BELOW:
        return "vanished" if not math.isnan(ratio) else "unknown"
    return "exploded" if ratio > EXPLODED_ABOVE else "stable"


def _outcome(rows: list[DepthRow]) -> str:
    parts = [f"{_fmt(r.dev_accuracy, '.2f')} at depth {r.depth}" if r.status == "finished"
             else f"{r.status} at depth {r.depth}" for r in rows]
    return "Dev accuracy after training: " + ", ".join(parts) + "."


def init_sentence(init: str, rows: list[DepthRow]) -> tuple[str, str]:
    """``(verdict, sentence)`` for one init, from its runs' numbers at the deepest depth."""
    measured = [r for r in rows if math.isfinite(r.act_first)]
    if not measured:
        return "unknown", f"{init}: no statistics were recorded. {_outcome(rows)}"
    deep, shallow = measured[-1], measured[0]
    if deep.act_first == 0:
        verdict = "vanished"
        body = (f"every hidden activation is exactly 0 at initialisation (activation std 0 at "
                f"every depth) and symmetry_l1 = {_fmt(deep.symmetry, '.2g')}: all hidden units "
                "compute the same function and receive the same (zero) update, so symmetry is "
                "never broken and the hidden layers never learn.")
    else:
        verdict = depth_verdict(deep.ratio)
        rule = {"vanished": f"below {VANISHED_BELOW:g}", "exploded": f"above {EXPLODED_ABOVE:g}",
                "stable": f"within [{VANISHED_BELOW:g}, {EXPLODED_ABOVE:g}]"}.get(verdict, "")
        body = (f"at depth {deep.depth} the activation std of the last hidden layer at "
                f"initialisation is {_fmt(deep.ratio, '.2g')} x that of layer 1 ({rule}); "
                f"||dW1|| is {_fmt(deep.grad_first, '.2g')} at depth {deep.depth} against "
                f"{_fmt(shallow.grad_first, '.2g')} at depth {shallow.depth}.")
    tail = ""
    if verdict in ("vanished", "exploded") and deep.status == "finished" and (
            deep.dev_accuracy >= max(r.dev_accuracy for r in rows) - 0.02):
        tail = (f" Gradient descent recovered at depth {deep.depth} all the same: a {verdict} "
                "start slows or endangers training, it does not always prevent it.")
    return verdict, f"{init}: {verdict} — {body} {_outcome(rows)}{tail}"


def he_ratio_spread(width: int, depth: int = 20, seeds: int = 200, n_x: int = 2,
                    m: int = 500) -> tuple[float, float]:
    """Min and max over seeds of act_std(layer depth) / act_std(layer 1) for He init, ReLU.

    Each seed draws the weights from ``default_rng(seed)`` and its own standard normal inputs
    ``X: (n_x, m)`` from ``default_rng([seed, 7])``.
    """
    ratios = []
    for seed in range(seeds):
        params = initialize([n_x, *[width] * depth, 1], "he", np.random.default_rng(seed))
        X = np.random.default_rng([seed, 7]).standard_normal((n_x, m))
        s = stats.activation_stats(params, X)
        ratios.append(s[f"act_std_l{depth}"] / s["act_std_l1"])
    return float(np.min(ratios)), float(np.max(ratios))


def finite_width_sentence(widths=(50, 20), depth: int = 20, seeds: int = 200) -> str:
    """What the He argument (an average over weights) leaves out at a finite width, measured."""
    spans = {w: he_ratio_spread(w, depth, seeds) for w in widths}
    text = "; ".join(f"{lo:.2g} to {hi:.2g} at width {w}" for w, (lo, hi) in spans.items())
    narrow = min(widths)
    lo, hi = spans[narrow]
    outside = lo < 0.1 or hi > 10
    tail = (f"at width {narrow} a single draw can shrink or grow the signal by more than a "
            "factor 10, so finite width matters: He keeps the variance only on average over "
            "weights, and a narrow net's own draw may still vanish or explode."
            if outside else f"even at width {narrow} every draw stayed within a factor 10.")
    return (f"Finite width: over {seeds} seeds of He init at depth {depth} (ReLU, standard "
            f"normal inputs with 2 features), act_std(layer {depth}) / act_std(layer 1) ranged "
            f"{text}; {tail}")


def depth_section(runs, client, folder: Path | None = None) -> tuple[str, str]:
    """The depth study's report section as ``(html, markdown)``, built from its MLflow runs.

    Statistics at initialisation are the runs' step-0 metrics; a run that never trained (gated,
    or diverged at iteration 0) gets them recomputed from its ``config.yaml``, and the table
    says so. The HTML embeds its PNGs; the Markdown links PNGs written to ``folder``.
    """
    rows = depth_rows(runs, client)
    if not rows:
        msg = "No depth-study runs (runs with a model.depth param) were found."
        return f"<section><h2>Depth study</h2><p>{html.escape(msg)}</p></section>", msg
    out = _folder(folder)
    inits = _order({r.init for r in rows})
    by_init = {i: [r for r in rows if r.init == i] for i in inits}

    def series(attr):
        return {i: ([r.depth for r in rs], [getattr(r, attr) for r in rs])
                for i, rs in by_init.items()}

    width = rows[0].width
    figs = {
        "act": (plots.against_depth(series("act_last"), out / "depth_activation_std.png",
                                    "activation std, last hidden layer",
                                    f"At initialisation: activations (width {width})",
                                    missing="std 0 or not finite"),
                "Activation std of the last hidden layer at initialisation against depth, per "
                "init (log scale; zeros init has std 0 and cannot be drawn)."),
        "grad": (plots.against_depth(series("grad_first"), out / "depth_grad_norm.png",
                                     "||dW1|| (Frobenius)",
                                     f"At initialisation: first-layer gradient (width {width})"),
                 "Frobenius norm of the first layer's gradient at initialisation against "
                 "depth, per init (log scale)."),
        "acc": (plots.against_depth(series("dev_accuracy"), out / "depth_dev_accuracy.png",
                                    "dev accuracy", "After training", log=False,
                                    hline=(0.5, "chance"), missing="not trained"),
                "Final dev accuracy against depth per init (gaps: gated or diverged runs)."),
    }
    sentences = [init_sentence(i, rs) for i, rs in by_init.items()]
    width_text = finite_width_sentence()
    head = ["init", "depth", "status", "act std l1", "act std last", "ratio", "||dW1||",
            "symmetry_l1", "dev acc", "init stats"]
    table = [[r.init, str(r.depth), r.status, _fmt(r.act_first), _fmt(r.act_last),
              _fmt(r.ratio, ".2g"), _fmt(r.grad_first), _fmt(r.symmetry, ".2g"),
              _fmt(r.dev_accuracy, ".3f"), r.source] for r in rows]
    rule = (f"Verdicts compare the activation std of the last hidden layer with layer 1's at "
            f"initialisation, at the deepest depth: vanished below {VANISHED_BELOW:g}, "
            f"exploded above {EXPLODED_ABOVE:g}, stable in between.")
    fig_html, fig_md = _figures(figs)
    e = html.escape
    h = (f"<section><h2>Depth study: vanishing and exploding activations</h2><p>{e(rule)}</p>"
         f"<ul>{''.join(f'<li>{e(s)}</li>' for _, s in sentences)}</ul><p>{e(width_text)}</p>"
         f"{fig_html}{_html_table(head, table)}</section>")
    md = "\n\n".join(["## Depth study: vanishing and exploding activations", rule,
                      "\n".join(f"- {s}" for _, s in sentences), width_text, fig_md,
                      _md_table(head, table)])
    return h, md + "\n"


# --- learning curves ----------------------------------------------------------------------------

def reg_label(lambd, keep_prob) -> str:
    """``no regularization``, or the regularization's non-default values."""
    parts = [f"lambd={float(lambd):g}" if float(lambd) else "",
             f"keep_prob={float(keep_prob):g}" if float(keep_prob) < 1 else ""]
    return " ".join(p for p in parts if p) or "no regularization"


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
        label = reg_label(_param(run, "reg.lambd", 0.0), _param(run, "reg.keep_prob", 1.0))
        curves.setdefault(label, []).append(CurvePoint(
            label, float(_param(run, "data.train_fraction", 1.0)),
            _metric(run, "train_examples"), _metric(run, "train_error"),
            _metric(run, "dev_error"), _status(run)))
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


def curve_section(runs, client=None, folder: Path | None = None) -> tuple[str, str]:
    """A learning-curve sweep's section ``(html, markdown)``: errors against m and verdicts."""
    curves = curve_points(runs)
    if not curves:
        return "<section><h2>Learning curve</h2><p>No runs.</p></section>", "No runs.\n"
    out = _folder(folder)
    bayes = next((_metric(r, "bayes_error") for r in runs
                  if math.isfinite(_metric(r, "bayes_error"))),
                 float(_param(runs[0], "data.bayes_error", 0.0)))
    tol = float(_param(runs[0], "diagnosis.tolerance", 0.02))
    data_name = _param(runs[0], "data.name", "")
    fig = plots.learning_curve(
        {k: ([p.m for p in v], [p.train_error for p in v], [p.dev_error for p in v])
         for k, v in curves.items()}, bayes, out / "learning_curve.png",
        title=f"Learning curve: {data_name}")
    caption = ("Train (dashed) and dev (solid) error against the number of training examples; "
               "dotted: the Bayes error.")
    verdicts = [f"{k}: {curve_verdict(v, bayes, tol)}" for k, v in curves.items()]
    head = ["config", "fraction", "m", "train error", "dev error", "gap", "status"]
    rows = [[p.config, f"{p.fraction:g}", _fmt(p.m, ".0f"), _fmt(p.train_error, ".3f"),
             _fmt(p.dev_error, ".3f"), _fmt(p.dev_error - p.train_error, ".3f"), p.status]
            for v in curves.values() for p in v]
    fig_html, fig_md = _figures({"lc": (fig, caption)})
    rule = (f"Verdicts read the gap (dev - train error) at the smallest and the full training "
            f"set, with the diagnosis tolerance {tol:g}; Bayes error {bayes:.3f}.")
    e = html.escape
    h = (f"<section><h2>Learning curve</h2><p>{e(rule)}</p>"
         f"<ul>{''.join(f'<li>{e(v)}</li>' for v in verdicts)}</ul>{fig_html}"
         f"{_html_table(head, rows)}</section>")
    md = "\n\n".join(["## Learning curve", rule, "\n".join(f"- {v}" for v in verdicts), fig_md,
                      _md_table(head, rows)])
    return h, md + "\n"


# --- fraud detection ----------------------------------------------------------------------------

def baseline_accuracy(ds: Dataset, split: str = "dev") -> float:
    """The accuracy of always answering "legitimate" (label 0) on ``split``."""
    _, Y = ds.split(split)
    return float(1.0 - np.mean(Y))


def fraud_section(runs, client, dataset, folder: Path | None = None) -> tuple[str, str]:
    """A fraud sweep's section ``(html, markdown)``: precision, recall, F1, PR-AUC beside accuracy.

    ``dataset`` is the loaded :class:`Dataset` (or a data set name for ``initreg.data.load``);
    its dev split gives the all-"legitimate" baseline. The diagnosis is on 1 - F1 against
    ``data.bayes_f1_error`` (1 - F1 of the Bayes rule) when the runs carry it.
    """
    from initreg import data as data_mod
    from initreg.diagnosis import diagnose

    ds = data_mod.load(dataset) if isinstance(dataset, str) else dataset
    base = baseline_accuracy(ds)
    out = _folder(folder)
    done = [r for r in runs if math.isfinite(_metric(r, "dev_f1"))]
    done.sort(key=lambda r: (-_metric(r, "dev_f1"), -_metric(r, "dev_accuracy")))
    head = ["run", "dev accuracy", "precision", "recall", "F1", "PR-AUC", "train F1",
            "diagnosis (1 - F1)"]
    rows = []
    for r in done:
        ref = _param(r, "data.bayes_f1_error")
        tol = float(_param(r, "diagnosis.tolerance", 0.02))
        diag = (diagnose(1 - _metric(r, "train_f1"), 1 - _metric(r, "dev_f1"), float(ref),
                         tol).verdict if ref is not None else r.data.tags.get("diagnosis", ""))
        rows.append([r.info.run_name, _fmt(_metric(r, "dev_accuracy"), ".4f"),
                     _fmt(_metric(r, "dev_precision"), ".3f"),
                     _fmt(_metric(r, "dev_recall"), ".3f"), _fmt(_metric(r, "dev_f1"), ".3f"),
                     _fmt(_metric(r, "dev_pr_auc"), ".3f"), _fmt(_metric(r, "train_f1"), ".3f"),
                     diag.replace("_", " ")])
    at_most = sum(_metric(r, "dev_accuracy") <= base + 1e-12 for r in done)
    useless = sum(_metric(r, "dev_f1") == 0 for r in done)
    text = (f'Baseline: always answering "legitimate" is {base:.4f} accurate on dev (recall 0, '
            f"F1 0). {at_most} of {len(done)} trained runs are no more accurate than that and "
            f"{useless} have F1 = 0 (they never flag a fraud), which accuracy alone hides; the "
            "runs are ranked by dev F1, and the diagnosis is on 1 - F1.")
    if done:
        best = done[0]
        text += (f" Best: {best.info.run_name} (F1 {_metric(best, 'dev_f1'):.3f}, precision "
                 f"{_metric(best, 'dev_precision'):.3f}, recall {_metric(best, 'dev_recall'):.3f},"
                 f" PR-AUC {_metric(best, 'dev_pr_auc'):.3f}).")
    points = [(r.info.run_name, _metric(r, "dev_accuracy"), _metric(r, "dev_f1")) for r in done]
    fig_html, fig_md = ("", "")
    if points:
        fig = plots.accuracy_vs_f1(points, base, out / "fraud_accuracy_f1.png",
                                   title="Fraud: accuracy hides a useless detector")
        fig_html, fig_md = _figures({"f1": (fig, "Dev accuracy against dev F1 per run; dashed: "
                                                 'the accuracy of always answering "legitimate".')})
    e = html.escape
    h = (f"<section><h2>Fraud detection</h2><p>{e(text)}</p>{fig_html}"
         f"{_html_table(head, rows)}</section>")
    md = "\n\n".join(["## Fraud detection", text, fig_md, _md_table(head, rows)])
    return h, md + "\n"


# --- the study commands: run the sweep, then write and log the section --------------------------

ROOT = Path(__file__).resolve().parents[2]
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title><style>
body{{font-family:system-ui,sans-serif;max-width:1050px;margin:24px auto;padding:0 16px;
color:#222;background:#fafafa}} table{{border-collapse:collapse;font-size:.88em}}
th,td{{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}} th{{background:#eee}}
td:first-child,th:first-child{{text-align:left}} .scroll{{overflow-x:auto}}
figure{{background:#fff;margin:14px 0;padding:12px;box-shadow:0 1px 3px rgba(0,0,0,.08)}}
figure img{{max-width:100%}} figcaption{{color:#555;font-size:.9em}} li{{margin:6px 0}}
</style></head><body><h1>{title}</h1><p>Sweep parent run <code>{run_id}</code>.</p>
{body}</body></html>
"""


def run_sweep(experiment: str, overrides: list[str], sweep_dir: Path, jobs: int) -> int:
    """``pipelines/train.py -m experiment=...`` in a subprocess; its exit status.

    BLAS threads are capped at 1 unless set: the matrices are small, and with parallel jobs
    extra threads only contend (a depth-20 step measured 30x slower with OpenBLAS threads).
    """
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    cmd = [sys.executable, str(ROOT / "pipelines" / "train.py"), "-m",
           f"experiment={experiment}", f"hydra.launcher.n_jobs={jobs}",
           f"hydra.sweep.dir={sweep_dir}", *overrides]
    print("$ " + " ".join(cmd[1:]), flush=True)
    return subprocess.run(cmd, env=env, check=False).returncode


def study_parser(description: str) -> argparse.ArgumentParser:
    """The command line shared by the study commands (``pipelines/study_*.py``)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides for the sweep")
    ap.add_argument("--sweep", default=None, help="report on this parent run; no new sweep")
    ap.add_argument("--jobs", type=int, default=-1, help="parallel jobs (-1: every core)")
    ap.add_argument("--out", type=Path, default=ROOT / "reports", help="reports folder")
    ap.add_argument("--multirun", type=Path, default=ROOT / "multirun",
                    help="where the sweep folder is made")
    return ap


def launch(experiment: str, overrides: list[str], multirun: Path, jobs: int):
    """Run the study's sweep; ``(exit status, parent-run dict or None)``."""
    sweep_dir = multirun / experiment / time.strftime("%Y-%m-%d_%H-%M-%S")
    status = run_sweep(experiment, overrides, sweep_dir, jobs)
    return status, read_parent(sweep_dir)


def latest_parent(client, experiment: str):
    """The most recently started run tagged ``sweep=true`` in ``experiment``, or None."""
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        return None
    found = client.search_runs([exp.experiment_id], filter_string="tags.sweep = 'true'",
                               order_by=["attributes.start_time DESC"], max_results=1)
    return found[0] if found else None


def sweep_children(client, parent_id: str) -> list:
    """The child runs of a sweep's parent run."""
    parent = client.get_run(parent_id)
    return tracking.children(client, parent.info.experiment_id, parent_id)


def best_regularization(client, experiment: str = "football") -> tuple[float, float, str]:
    """``(lambd, keep_prob, note)``: the best reg of the latest sweep in ``experiment``.

    Best = the highest dev accuracy among the FINISHED children of the most recent parent run
    tagged ``sweep=true`` (ties: the smaller variance). Without one, or when the best uses no
    regularization, ``lambd = 0.7`` and the note says why.
    """
    parent = latest_parent(client, experiment)
    if parent is None:
        return 0.7, 1.0, f"no sweep in experiment {experiment!r}: using lambd 0.7"
    kids = [r for r in sweep_children(client, parent.info.run_id)
            if r.info.status == "FINISHED" and "dev_accuracy" in r.data.metrics]
    if not kids:
        return 0.7, 1.0, (f"sweep {parent.info.run_id} has no finished runs: using lambd 0.7")
    best = min(kids, key=lambda r: (-r.data.metrics["dev_accuracy"],
                                    r.data.metrics.get("variance", 0), r.info.run_name))
    lambd, kp = float(_param(best, "reg.lambd", 0.0)), float(_param(best, "reg.keep_prob", 1.0))
    where = (f"the best run of sweep {parent.info.run_id} ({best.info.run_name}, dev accuracy "
             f"{best.data.metrics['dev_accuracy']:.3f})")
    if lambd == 0 and kp == 1:
        return 0.7, 1.0, f"{where} uses no regularization: using lambd 0.7"
    return lambd, kp, f"{where}: {reg_label(lambd, kp)}"


def write_section(client, parent_id: str, folder: Path, name: str, title: str,
                  section: tuple[str, str]) -> tuple[Path, Path]:
    """``folder/<name>.html`` (a whole page) and ``.md``, logged to the parent run (``study/``)."""
    folder.mkdir(parents=True, exist_ok=True)
    html_path, md_path = folder / f"{name}.html", folder / f"{name}.md"
    html_path.write_text(PAGE.format(title=html.escape(title), run_id=parent_id,
                                     body=section[0]))
    md_path.write_text(f"# {title}\n\nSweep parent run `{parent_id}`.\n\n{section[1]}")
    client.log_artifacts(parent_id, str(folder), artifact_path="study")
    return html_path, md_path
