"""The depth study, read from MLflow: how each init's activations and gradients behave with depth.

    section = depth_section(runs, client, folder)    # a depth_study sweep's children
    html, md = section

Statistics at initialisation are each run's step-0 metrics; a run that never trained (gated, or
diverged at iteration 0) gets them recomputed from its stored ``config.yaml`` through
:func:`initreg.rebuild.rebuild` (initreg's own loaders and model only). Every verdict is derived
from the numbers with the thresholds below, never written by hand.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from initreg import plots
from initreg.metrics import wilson_interval
from initreg.nn import initialize, stats
from initreg.pages import Section, num, png_folder, section
from initreg.rebuild import rebuild
from initreg.runs import correct_count, init_order, job_status, metric, param, run_init_label
from initreg.studies.devset import DevSet, chance_text, dev_set, stored_config

VANISHED_BELOW = 1e-2  # activation std of the last hidden layer / layer 1's, at initialisation
EXPLODED_ABOVE = 1e2
RECOVERED_WITHIN = 0.02  # a deep run "recovered" within this of the study's best dev accuracy


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
    source: str  # "logged" (step-0 metrics), "recomputed" (from config.yaml: never trained)
    # or "not recomputed"
    note: str = ""  # why the statistics could not be recomputed
    diagnosis: str = ""  # the run's diagnosis tag: failed_to_learn when it never learned
    failure_mode: str = ""  # why it never learned (initreg.diagnosis.FAILURE_MODES)

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


def _recompute(client, run, keys: list[str]) -> tuple[dict[str, float] | None, str]:
    """Init statistics of a run that never trained (gated, diverged at 0), from its stored
    config; ``(None, why)`` when they cannot be recomputed."""
    config, why = stored_config(client, run)
    if config is None:
        return None, why
    try:
        model, ds = rebuild(config)
    except (ValueError, TypeError) as err:  # RebuildError, DataError, a class's own checks
        return None, " ".join(str(err).split())
    with np.errstate(all="ignore"):
        _, grads = model.cost_and_grads(ds.X_train, ds.Y_train)
    found = stats.layer_stats(model.params, ds.X_train, grads)
    if not found:
        return None, "its params do not follow W1, b1, ..., WL, bL"
    return {k: found.get(k, math.nan) for k in keys}, ""


def depth_rows(runs, client) -> list[DepthRow]:
    """The depth study's runs, deepest last within each init, with their init statistics."""
    rows = []
    for run in runs:
        depth = param(run, "model.depth")
        if depth is None:
            continue
        keys = ["act_std_l1", f"act_std_l{depth}", "grad_norm_l1", "symmetry_l1"]
        found, source, note = _step0(client, run.info.run_id, keys), "logged", ""
        if found is None:
            found, note = _recompute(client, run, keys)
            source = "recomputed" if found else "not recomputed"
        found = found or dict.fromkeys(keys, math.nan)
        rows.append(DepthRow(
            run_id=run.info.run_id, init=run_init_label(run), depth=int(depth),
            width=int(param(run, "model.width", 0)), status=job_status(run),
            act_first=found["act_std_l1"], act_last=found[f"act_std_l{depth}"],
            grad_first=found["grad_norm_l1"], symmetry=found["symmetry_l1"],
            dev_accuracy=metric(run, "dev_accuracy"), source=source, note=note,
            diagnosis=run.data.tags.get("diagnosis", ""),
            failure_mode=run.data.tags.get("failure_mode", "")))
    order = {k: i for i, k in enumerate(init_order(r.init for r in rows))}
    return sorted(rows, key=lambda r: (order[r.init], r.depth))


def depth_verdict(ratio: float) -> str:
    """``vanished`` below VANISHED_BELOW, ``exploded`` above EXPLODED_ABOVE, else ``stable``."""
    if math.isnan(ratio) or ratio < VANISHED_BELOW:
        return "vanished" if not math.isnan(ratio) else "unknown"
    return "exploded" if ratio > EXPLODED_ABOVE else "stable"


def _outcome(rows: list[DepthRow]) -> str:
    parts = [(f"{num(r.dev_accuracy, '.2f')} at depth {r.depth}"
              + (" (failed to learn)" if r.diagnosis == "failed_to_learn" else ""))
             if r.status == "finished" else f"{r.status} at depth {r.depth}" for r in rows]
    return "Dev accuracy after training: " + ", ".join(parts) + "."


def recovery(deep: DepthRow, best_dev: float, dev: DevSet | None) -> tuple[bool | None, str]:
    """Whether ``deep`` learned all the same, and the numbers that say so: ``(True, why)``,
    ``(False, why)``, or ``(None, why)`` when it cannot be judged.

    It learned when it finished, is not ``failed_to_learn``, its dev accuracy is within
    RECOVERED_WITHIN of ``best_dev`` (the study's best) and the lower end of its Wilson 95%
    interval on the ``dev`` set is above that set's majority-class share (what answering one
    class everywhere scores). Without ``dev`` (its size and labels unknown), or when the
    accuracy is not a count of its n examples, it cannot be judged unless it already failed.
    """
    where = f"at depth {deep.depth}"
    if deep.status != "finished" or not math.isfinite(deep.dev_accuracy):
        return False, f"{where} it did not finish ({deep.status})"
    if deep.diagnosis == "failed_to_learn":
        mode = f": {deep.failure_mode.replace('_', ' ')}" if deep.failure_mode else ""
        return False, f"{where} it failed to learn{mode}"
    if deep.dev_accuracy < best_dev - RECOVERED_WITHIN:
        return False, (f"{where} its dev accuracy {deep.dev_accuracy:.3f} is more than "
                       f"{RECOVERED_WITHIN:g} below the study's best, {best_dev:.3f}")
    k = correct_count(deep.dev_accuracy, dev.n) if dev is not None else None
    if k is None:
        return None, (f"whether it learned {where} is not judged: the dev set's size and "
                      "labels could not be rebuilt from a stored config")
    lo, hi = wilson_interval(k, dev.n)
    span = f"{deep.dev_accuracy:.3f}, 95% interval {lo:.3f}–{hi:.3f}"
    if lo <= dev.majority:
        return False, (f"{where} its dev accuracy ({span}) is not clearly above "
                       f"{chance_text(dev)}")
    return True, (f"{where} its dev accuracy ({span}) is within {RECOVERED_WITHIN:g} of the "
                  f"study's best, {best_dev:.3f}, and above {chance_text(dev)}")


def init_sentence(init: str, rows: list[DepthRow], *, best_dev: float,
                  dev: DevSet | None) -> tuple[str, str]:
    """``(verdict, sentence)`` for one init, from its runs' numbers at the deepest depth;
    ``best_dev``: the study's best dev accuracy, ``dev``: its dev set (:func:`recovery`)."""
    measured = [r for r in rows if math.isfinite(r.act_first)]
    if not measured:
        return "unknown", f"{init}: no statistics were recorded. {_outcome(rows)}"
    deep, shallow = measured[-1], measured[0]
    if deep.act_first == 0:
        verdict = "vanished"
        body = (f"every hidden activation is exactly 0 at initialisation (activation std 0 at "
                f"every depth) and symmetry_l1 = {num(deep.symmetry, '.2g')}: all hidden units "
                "compute the same function and receive the same (zero) update, so symmetry is "
                "never broken and the hidden layers never learn.")
    else:
        verdict = depth_verdict(deep.ratio)
        rule = {"vanished": f"below {VANISHED_BELOW:g}", "exploded": f"above {EXPLODED_ABOVE:g}",
                "stable": f"within [{VANISHED_BELOW:g}, {EXPLODED_ABOVE:g}]"}.get(verdict, "")
        body = (f"at depth {deep.depth} the activation std of the last hidden layer at "
                f"initialisation is {num(deep.ratio, '.2g')} x that of layer 1 ({rule}); "
                f"||dW1|| is {num(deep.grad_first, '.2g')} at depth {deep.depth} against "
                f"{num(shallow.grad_first, '.2g')} at depth {shallow.depth}.")
    tail = ""
    if verdict in ("vanished", "exploded") and deep.status == "finished":
        learned, why = recovery(deep, best_dev, dev)
        if learned:
            tail = (f" Gradient descent recovered all the same: {why}. A {verdict} start slows "
                    "or endangers training, it does not always prevent it.")
        elif learned is False:
            tail = f" It did not recover: {why}."
        else:
            tail = f" {why[0].upper()}{why[1:]}."
    return verdict, f"{init}: {verdict} — {body} {_outcome(rows)}{tail}"


def he_ratio_spread(width: int, depth: int = 20, seeds: int = 200, n_x: int = 2,
                    m: int = 500) -> tuple[float, float]:
    """Min and max over seeds of act_std(layer depth) / act_std(layer 1) for He init, ReLU.

    Each seed draws the weights from ``default_rng(seed)`` and its own standard normal inputs
    ``X: (n_x, m)`` from ``default_rng([seed, 7])``.
    """
    ratios = []
    # products this small (width x width x m) run ten times slower split between BLAS threads
    # on a busy machine (thread hand-offs) than on one
    with threadpool_limits(limits=1, user_api="blas"):
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


def not_recomputed_sentence(rows: list[DepthRow]) -> str:
    """Which runs' statistics at initialisation could not be recomputed, and why ("" if none)."""
    missing = [f"{r.init} at depth {r.depth} (run {r.run_id}): {r.note}" for r in rows
               if r.source == "not recomputed"]
    if not missing:
        return ""
    return (f"The statistics at initialisation could not be recomputed for {len(missing)} "
            f"run(s) that never trained: {'; '.join(missing)}.")


def depth_section(runs, client, folder: Path | None = None) -> Section:
    """The depth study's report section (``html, markdown = section``), from its MLflow runs.

    Statistics at initialisation are the runs' step-0 metrics; a run that never trained (gated,
    or diverged at iteration 0) gets them recomputed from its ``config.yaml``, and the table
    says so (and why not, when they cannot be). The HTML embeds its PNGs; the Markdown links
    PNGs written to ``folder``.
    """
    title = "Depth study: vanishing and exploding activations"
    rows = depth_rows(runs, client)
    if not rows:
        return section(title, ["No depth-study runs (runs with a model.depth param) were found."])
    out = png_folder(folder)
    by_init = {i: [r for r in rows if r.init == i] for i in init_order(r.init for r in rows)}

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
    head = ["init", "depth", "status", "act std l1", "act std last", "ratio", "||dW1||",
            "symmetry_l1", "dev acc", "init stats"]
    table = [[r.init, str(r.depth), r.status, num(r.act_first), num(r.act_last),
              num(r.ratio, ".2g"), num(r.grad_first), num(r.symmetry, ".2g"),
              num(r.dev_accuracy, ".3f"), r.source] for r in rows]
    dev = dev_set(runs, client)
    done = [r.dev_accuracy for r in rows if r.status == "finished"
            and math.isfinite(r.dev_accuracy)]
    best_dev = max(done, default=math.nan)
    rule = (f"Verdicts compare the activation std of the last hidden layer with layer 1's at "
            f"initialisation, at the deepest depth: vanished below {VANISHED_BELOW:g}, "
            f"exploded above {EXPLODED_ABOVE:g}, stable in between. A vanished or exploded "
            f"deep run is said to have recovered only when it finished without failing to "
            f"learn, within {RECOVERED_WITHIN:g} of the study's best dev accuracy "
            f"({num(best_dev, '.3f')}), and with the lower end of its Wilson 95% interval "
            + (f"above {chance_text(dev)}." if dev else "above the dev set's majority-class "
               "share; that share could not be computed (no run's stored config rebuilt its "
               "data, or the runs do not share one dev set), so no recovery is claimed."))
    missing = not_recomputed_sentence(rows)
    after = [finite_width_sentence(), *([missing] if missing else [])]
    sentences = [init_sentence(i, rs, best_dev=best_dev, dev=dev)[1]
                 for i, rs in by_init.items()]
    return section(title, [rule], sentences, after, figs, (head, table))
