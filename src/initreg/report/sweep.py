"""A sweep read back from MLflow: its parent run, its children and the runs it reused (a resumed
sweep's, :mod:`initreg.reuse`) as rows, and the selected run."""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from initreg import reuse, runs, seeds
from initreg.runs import job_status
from initreg.seeds import Selection

SWEEP_AXES = ("init.name", "reg.lambd", "reg.keep_prob")
NOT_COMPARED = ("tracking.", "hydra.")  # params that vary between sweeps without meaning


class ReportError(ValueError):
    """No sweep to report on, or a run id that is not a sweep."""


@dataclass(frozen=True)
class Row:
    """One child run of a sweep, flattened for the table."""

    run_id: str
    name: str
    init: str  # the init label: "he", "random x10"
    lambd: float
    keep_prob: float
    status: str  # finished, gated, diverged, failed, killed, running
    gate: str  # passed, failed, inconclusive, or "" when the gate never ran
    diagnosis: str
    reason: str  # why a run did not finish ("" for finished runs)
    metrics: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # other params that vary across the sweep
    gate_reason: str = ""  # why the gate did not pass: mismatch, kink, precision, nondeterministic
    failure_mode: str = ""  # why a failed_to_learn run never learned (diagnosis.FAILURE_MODES)
    evidence: str = ""  # the measurements behind failure_mode
    reused_from: str = ""  # a reused run's own sweep (its parent run id); "" for a child

    def metric(self, key: str) -> float:
        return float(self.metrics.get(key, math.nan))

    def accuracy(self, split: str) -> str:
        """The split's accuracy and its Wilson 95% interval (:func:`initreg.runs.accuracy_text`)."""
        return runs.accuracy_text(self.metric(f"{split}_accuracy"),
                                  runs.split_size(self.metrics, split))

    @property
    def failed_to_learn(self) -> bool:
        return self.status == "finished" and self.diagnosis == "failed_to_learn"

    @property
    def label(self) -> str:
        return f"{self.init} λ{self.lambd:g} k{self.keep_prob:g}"


@dataclass(frozen=True)
class Sweep:
    """A sweep's parent run and its children."""

    run_id: str
    experiment: str
    name: str
    tags: dict
    rows: list[Row]
    varying: list[str]  # param keys besides init/lambd/keep_prob that differ between children
    bayes_error: float
    tolerance: float
    experiment_id: str = ""
    selection: Selection = Selection(None)  # the selected run (initreg.seeds.selection)
    missing_reused: tuple[str, ...] = ()  # reused run ids no longer in the store (deleted)
    found: reuse.SweepRuns | None = None  # the MLflow runs read: children and reused runs


def latest_sweep(client: MlflowClient) -> str:
    """The id of the most recently started run tagged ``sweep=true`` in any experiment."""
    found = runs.latest_sweep(client)
    if found is None:
        raise ReportError(f"no sweep in the store {client.tracking_uri}: run `make sweep` first, "
                          "or set MLFLOW_TRACKING_URI")
    return found.info.run_id


def failure_reason(run) -> str:
    """One line saying why a run did not finish, from its tags and metrics."""
    tags, status = run.data.tags, job_status(run)
    if status == "finished":
        return ""
    if status == "gated":
        diff = run.data.metrics.get("gradcheck_difference", math.nan)
        limit = run.data.params.get("gradcheck.threshold", "?")
        reason = tags.get("gradcheck_reason", "")
        why = f" ({reason}: {runs.GATE_REASONS.get(reason, reason)})" if reason else ""
        return (f"gradient check failed{why}: difference {diff:.3g} > threshold {limit}; never "
                "trained")
    if status == "diverged":
        return tags.get("error_message", "diverged")
    if status == "killed":
        return "interrupted (" + tags.get("error_type", "killed") + ")"
    if status == "running":
        return "still RUNNING: in progress, or its process died without closing it"
    kind = tags.get("error_type") or tags.get("failure_reason") or "failed"
    return f"{kind}: {tags.get('error_message', 'no message recorded')}"


def _row(run, varying: Sequence[str], reused: bool = False) -> Row:
    p, tags = run.data.params, run.data.tags
    earlier = (tags.get(MLFLOW_PARENT_RUN_ID) or "no sweep") if reused else ""
    return Row(run_id=run.info.run_id, name=runs.run_name(run), init=runs.run_init_label(run),
               lambd=float(p.get("reg.lambd", "nan")),
               keep_prob=float(p.get("reg.keep_prob", "nan")), status=job_status(run),
               gate=tags.get("gradcheck", ""), diagnosis=tags.get("diagnosis", ""),
               reason=failure_reason(run), metrics=dict(run.data.metrics),
               extra={k: p.get(k, "") for k in varying},
               gate_reason=tags.get("gradcheck_reason", ""),
               failure_mode=tags.get("failure_mode", ""),
               evidence=tags.get("diagnosis_evidence", ""), reused_from=earlier)


def load_sweep(client: MlflowClient, sweep_id: str | None = None) -> Sweep:
    """The sweep ``sweep_id`` (default: the latest) with every child run, and every run it
    reused from an earlier sweep (``Row.reused_from``), as a Row."""
    sweep_id = sweep_id or latest_sweep(client)
    try:
        parent = client.get_run(sweep_id)
    except Exception as err:  # MlflowException (RESOURCE_DOES_NOT_EXIST) or a malformed id
        raise ReportError(f"no run {sweep_id!r} in the store {client.tracking_uri}") from err
    if parent.data.tags.get("sweep") != "true":
        raise ReportError(f"run {sweep_id!r} is not a sweep (no tag sweep=true); pass the id "
                          "of a sweep's parent run")
    exp = parent.info.experiment_id
    found = reuse.sweep_runs(client, sweep_id, exp)
    kids = found.all
    keys = {k for r in kids for k in r.data.params}
    varying = sorted(k for k in keys if k not in SWEEP_AXES and not k.startswith(NOT_COMPARED)
                     and len({r.data.params[k] for r in kids if k in r.data.params}) > 1)
    rows = [_row(r, varying, r.info.run_id in found.reused_ids) for r in kids]
    bayes = [r.metric("bayes_error") for r in rows if math.isfinite(r.metric("bayes_error"))]
    tolerances = {r.data.params.get("diagnosis.tolerance") for r in kids} - {None}
    return Sweep(run_id=sweep_id, experiment=client.get_experiment(exp).name,
                 name=parent.info.run_name or sweep_id, tags=dict(parent.data.tags),
                 rows=runs.ranked(rows, key=_rank), varying=varying,
                 bayes_error=max(bayes) if bayes else 0.0,
                 tolerance=float(min(tolerances)) if tolerances else 0.02, experiment_id=exp,
                 selection=seeds.selection(kids), missing_reused=tuple(found.missing),
                 found=found)


def _rank(row: Row) -> tuple:
    """:func:`initreg.runs.rank_key` of a row: the ranking every report uses."""
    return runs.rank_key(row.status, row.metric("dev_accuracy"), row.metric("variance"), row.name)


def best_row(rows: Sequence[Row]) -> Row | None:
    """The best finished run of ``rows`` by :func:`initreg.runs.best_run`'s ranking; test
    accuracy unused."""
    return runs.best_run(rows, key=_rank)


def select(sweep: Sweep) -> Row | None:
    """The row of the sweep's selected run, :func:`initreg.seeds.selection`'s (the rule the
    parent run's tags and the registered model follow): the best run, or with seeds the best
    seed of the configuration with the best mean dev accuracy; None when nothing is selected."""
    run = sweep.selection.run
    if run is None:
        return None
    return next(r for r in sweep.rows if r.run_id == run.info.run_id)
