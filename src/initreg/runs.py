"""A sweep's runs read back from MLflow as plain values: outcome, labels and the one ranking.

    parent = latest_sweep(client, "football")     # the newest run tagged sweep=true, or None
    runs = sweep_children(client, parent.info.run_id)
    best = best_run(runs)                         # None when no run finished
    label = run_init_label(best)                  # "random x0.01": random's scale is its name

One rule ranks runs everywhere (the end-of-sweep summary, the report, the learning-curve study):
finished runs with a finite dev accuracy first, highest dev accuracy first; ties go to the smaller
variance, and a run without a variance comes after every run with one; then the run name. Test
accuracy never enters it.
"""

import math
from collections.abc import Callable, Iterable

import yaml

from initreg import tracking

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
