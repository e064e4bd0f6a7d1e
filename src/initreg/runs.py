"""A sweep's runs read back from MLflow as plain values: outcome, labels, the one ranking, the
gate's verdict in words, and how sure an accuracy is.

    parent = latest_sweep(client, "football")     # the newest run tagged sweep=true, or None
    runs = sweep_children(client, parent.info.run_id)
    best = best_run(runs)                         # None when no run finished
    label = run_init_label(best)                  # "random x0.01": random's scale is its name

One rule ranks runs everywhere (the end-of-sweep summary, the report, the learning-curve study):
finished runs with a finite dev accuracy first, highest dev accuracy first; ties go to the smaller
variance, and a run without a variance comes after every run with one; then the run name. Test
accuracy never enters it.

An accuracy's uncertainty needs the number of examples behind it: the metrics
``dev_examples`` and ``test_examples`` (:func:`split_size`); without them no interval is shown,
and :func:`missing_sizes` says so. On one dev set, :func:`rivals` names the runs it cannot tell
apart from the selected one (an exact McNemar test's minimum difference, else overlapping
Wilson intervals) and :func:`separation_sentence` says it.
"""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import yaml

from initreg import metrics, tracking

INIT_ORDER = ("zeros", "random", "lecun", "xavier", "he")  # random's scales: smallest first


def job_status(run) -> str:
    """``finished``, ``gated``, ``diverged``, ``failed``, ``killed`` or ``running``."""
    reason = run.data.tags.get("failure_reason")
    if run.info.status == "FINISHED":
        return "finished"
    if reason == "gradcheck":
        return "gated"
    if reason == "diverged":
        return "diverged"
    return {"KILLED": "killed", "RUNNING": "running"}.get(run.info.status, "failed")


def run_name(run) -> str:
    """The run's name, else its id."""
    return run.info.run_name or run.info.run_id


def param(run, key: str, default=None):
    """A param as the YAML value it was logged from (``"0.7"`` -> 0.7); ``default`` if absent."""
    value = run.data.params.get(key)
    if value is None or value == "None":
        return default
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return value


def metric(run, key: str) -> float:
    """A metric's last value, NaN if absent."""
    return float(run.data.metrics.get(key, math.nan))


# --- labels -----------------------------------------------------------------------------------

def init_label(name: str, scale) -> str:
    """``random x0.01`` / ``random x10`` for the random scheme (its scale matters), else name."""
    if name != "random":
        return str(name)
    try:
        return f"random x{float(scale):g}"
    except (TypeError, ValueError):
        return f"random x{scale}"


def run_init_label(run) -> str:
    """A run's :func:`init_label`, from its ``init.name`` and ``init.scale`` params."""
    return init_label(run.data.params.get("init.name", "?"), param(run, "init.scale", 10.0))


def init_order(labels: Iterable[str]) -> list[str]:
    """The init labels in INIT_ORDER, random's scales smallest first; other labels last, sorted."""
    def key(label: str) -> tuple:
        name, _, scale = label.partition(" x")
        try:
            size = float(scale) if scale else 0.0
        except ValueError:
            size = math.inf
        known = name in INIT_ORDER and (name == "random") == bool(scale)
        return (INIT_ORDER.index(name), size, label) if known else (len(INIT_ORDER), 0.0, label)

    return sorted(set(labels), key=key)


def reg_label(lambd, keep_prob) -> str:
    """``no regularization``, or the regularization's non-default values."""
    parts = [f"lambd={float(lambd):g}" if float(lambd) else "",
             f"keep_prob={float(keep_prob):g}" if float(keep_prob) < 1 else ""]
    return " ".join(p for p in parts if p) or "no regularization"


# --- the ranking ------------------------------------------------------------------------------

def rank_key(status: str, dev_accuracy: float, variance: float, name: str) -> tuple:
    """The sort key of the ranking (smallest first = best); see the module docstring."""
    ok = status == "finished" and math.isfinite(dev_accuracy)
    return (0 if ok else 1, -dev_accuracy if ok else 0.0,
            variance if math.isfinite(variance) else math.inf, name)


def run_rank(run) -> tuple:
    """:func:`rank_key` of an MLflow run."""
    return rank_key(job_status(run), metric(run, "dev_accuracy"), metric(run, "variance"),
                    run_name(run))


def ranked(items: Iterable, key: Callable[..., tuple] = run_rank) -> list:
    """``items`` best first; ``key`` maps an item to its :func:`rank_key` (MLflow runs by
    default)."""
    return sorted(items, key=key)


def best_run(items: Iterable, key: Callable[..., tuple] = run_rank):
    """The best of ``items`` by the ranking, or None when none finished with a dev accuracy."""
    first = min(items, key=key, default=None)
    return first if first is not None and key(first)[0] == 0 else None


# --- finding a sweep --------------------------------------------------------------------------

def latest_sweep(client, experiment: str | None = None):
    """The most recently started run tagged ``sweep=true`` in ``experiment`` (default: in any
    experiment), or None."""
    if experiment is None:
        ids = [e.experiment_id for e in tracking.retry(client.search_experiments)]
    else:
        exp = tracking.retry(client.get_experiment_by_name, experiment)
        ids = [exp.experiment_id] if exp is not None else []
    found = tracking.search_runs(client, ids, "tags.sweep = 'true'",
                                 order_by=["attributes.start_time DESC"], limit=1)
    return found[0] if found else None


def sweep_children(client, parent_id: str) -> list:
    """The child runs of a sweep's parent run."""
    parent = tracking.retry(client.get_run, parent_id)
    return tracking.children(client, parent.info.experiment_id, parent_id)


# --- the gradient-check gate's verdict --------------------------------------------------------

GATE_REASONS = {  # initreg.gradcheck's reasons, as a reader of a report needs them
    "mismatch": "the analytic and numeric gradients disagree",
    "kink": "the finite differences crossed a ReLU kink, where no gradient exists",
    "precision": "the gaps are float64 rounding",
    "nondeterministic": "the cost or gradient changed between two calls with the same params",
}


def gate_label(verdict: str, reason: str = "") -> str:
    """``passed``, ``inconclusive (kink)``, ``failed (mismatch)``; ``not run`` without a verdict."""
    if not verdict:
        return "not run"
    return f"{verdict} ({reason})" if reason and verdict != "passed" else verdict


def gate_sentence(verdict: str, reason: str = "", explain: bool = True) -> str:
    """What a run's gate verdict means for it, in one clause ("" when it passed or never ran);
    ``explain``: say what the reason means (:data:`GATE_REASONS`)."""
    if verdict not in ("inconclusive", "failed"):
        return ""
    why = GATE_REASONS.get(reason, reason or "no reason recorded")
    head = f"gradient check {verdict} ({reason or '?'}" + (f": {why})" if explain else ")")
    return head + ("; trained all the same" if verdict == "inconclusive" else "; never trained")


# --- how sure an accuracy is: intervals and what one evaluation set can tell apart ------------

def split_size(logged, split: str) -> int | None:
    """The number of examples of ``split`` a run was scored on: the metric ``{split}_examples``
    of its ``logged`` metrics dict (``train_examples`` is logged today), or None when absent."""
    n = logged.get(f"{split}_examples")
    if n is None or not math.isfinite(n) or n < 1 or n != int(n):
        return None
    return int(n)


def correct_count(accuracy: float, n: int | None) -> int | None:
    """How many of ``n`` examples an ``accuracy`` got right, or None when ``n`` is unknown or the
    accuracy is not k / n for a whole k (then n is not the set it was measured on)."""
    if n is None or not math.isfinite(accuracy):
        return None
    k = round(accuracy * n)
    return k if abs(accuracy * n - k) < 1e-6 and 0 <= k <= n else None


def interval(accuracy: float, n: int | None) -> tuple[float, float] | None:
    """The Wilson 95% interval of ``accuracy`` on ``n`` examples, or None when it cannot be
    computed (n unknown, or not the accuracy's denominator)."""
    k = correct_count(accuracy, n)
    return None if k is None else metrics.wilson_interval(k, n)


def accuracy_text(accuracy: float, n: int | None) -> str:
    """``0.950 (0.889–0.978)``: the accuracy and its Wilson 95% interval; only the accuracy when
    the interval cannot be computed; ``—`` when there is no accuracy."""
    if not math.isfinite(accuracy):
        return "—"
    span = interval(accuracy, n)
    return f"{accuracy:.3f}" + (f" ({span[0]:.3f}–{span[1]:.3f})" if span else "")


NO_SIZE = ("no 95% intervals for runs that do not log {names}, the number of examples each "
           "accuracy was measured on")


def missing_sizes(logged, splits=("dev", "test")) -> str:
    """The sentence saying which intervals are missing and why, for runs' ``logged`` metrics
    dicts ("" when every run has them)."""
    missing = [f"{s}_examples" for s in splits if any(split_size(m, s) is None for m in logged)]
    return NO_SIZE.format(names=" and ".join(missing)) if missing else ""


@dataclass(frozen=True)
class Rival:
    """A run the dev set cannot tell apart from the selected one."""

    name: str
    correct: int
    behind: int  # the selected run's correct count minus this run's (>= 0)
    rule: str  # "mcnemar": provably not distinguishable; "wilson": intervals overlap


def rivals(best_correct: int, others, n: int, alpha: float = 0.05) -> list[Rival]:
    """The ``others`` (``(name, correct)`` on the same ``n`` examples) not told apart from the
    best run, nearest first.

    ``mcnemar``: fewer than :func:`initreg.metrics.mcnemar_min_difference` examples apart, so no
    exact McNemar test at ``alpha`` can separate them whatever their per-example predictions.
    ``wilson``: further apart, but the two Wilson 95% intervals overlap, so the conservative
    rule does not call them different either. Runs left out have non-overlapping intervals.
    """
    found = []
    for name, correct in others:
        if not metrics.mcnemar_can_separate(best_correct, correct, alpha):
            found.append(Rival(name, correct, best_correct - correct, "mcnemar"))
        elif not metrics.distinguishable(best_correct, correct, n):
            found.append(Rival(name, correct, best_correct - correct, "wilson"))
    return sorted(found, key=lambda r: (r.behind, r.name))


def _apart(r: Rival) -> str:
    if r.behind == 0:
        return f"{r.name} (as many correct)"
    more = "fewer" if r.behind > 0 else "more"
    return f"{r.name} ({abs(r.behind)} example{'s' if abs(r.behind) != 1 else ''} {more})"


def separation_sentence(n: int, found: list[Rival], compared: int, show: int = 5,
                        alpha: float = 0.05, above: int = 0) -> str:
    """What ``n`` dev examples can say about the selected run against the ``compared`` other
    finished runs, ``found`` being :func:`rivals`'s answer; at most ``show`` names per rule.
    ``above``: how many of the others score clearly higher (Wilson intervals apart), which
    happens only when the selection is not on single runs (over seeds: on the mean)."""
    if compared == 0:
        return f"On dev ({n} examples) there is no other finished run to compare with."
    higher = (f" {above} other finished run(s) score clearly higher on dev: their 95% Wilson "
              "intervals lie above its own." if above else "")
    if not found and not above:
        return (f"On dev ({n} examples) the selected run is clearly ahead of the {compared} "
                "other finished run(s): their 95% Wilson intervals do not overlap its own.")
    if not found:
        return (f"On dev ({n} examples) the selected run is told apart from each of the "
                f"{compared} other finished run(s): their 95% Wilson intervals do not overlap its "
                "own." + higher)
    d = metrics.mcnemar_min_difference(alpha)
    parts = []
    for rule, why in (
            ("mcnemar", f"fewer than {d} dev examples apart, which no exact McNemar test at "
                        f"{alpha:g} can separate whatever the runs' per-example predictions"),
            ("wilson", f"{d} or more dev examples apart, but their 95% Wilson intervals overlap "
                       "the selected run's, so they are not shown different either")):
        named = [r for r in found if r.rule == rule]
        if named:
            more = f" and {len(named) - show} more" if len(named) > show else ""
            parts.append(f"{', '.join(map(_apart, named[:show]))}{more}: {why}")
    return (f"On dev ({n} examples) the selected run is not distinguishable from "
            f"{len(found)} of the {compared} other finished run(s): " + "; ".join(parts) + "."
            + higher)


def dev_separation(best: dict, others) -> str:
    """:func:`separation_sentence` for the selected run's ``best`` metrics dict against the
    ``others`` (``(name, metrics dict)`` of the other finished runs), from their logged
    ``dev_accuracy`` and ``dev_examples``; runs scored on another number of dev examples are
    not compared, and without ``dev_examples`` the sentence says why nothing is computed."""
    n = split_size(best, "dev")
    k = correct_count(best.get("dev_accuracy", math.nan), n)
    if k is None:
        return ("How far apart the runs are on dev is not computed: the selected run does not "
                "log dev_examples, the number of dev examples its accuracy was measured on.")
    others = list(others)
    same = [(name, correct_count(m.get("dev_accuracy", math.nan), n)) for name, m in others
            if split_size(m, "dev") == n]
    same = [(name, c) for name, c in same if c is not None]
    above = sum(c > k and metrics.mcnemar_can_separate(k, c) and metrics.distinguishable(k, c, n)
                for _, c in same)  # the runs rivals() leaves out that are above, not below
    text = separation_sentence(n, rivals(k, same, n), len(same), above=above)
    if len(same) < len(others):
        text += (f" {len(others) - len(same)} other finished run(s) are not compared: they "
                 f"do not log {n} dev examples.")
    return text
