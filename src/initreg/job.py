"""One training job, stage by stage: the whole pipeline of a run, read top to bottom.

    validate -> load data -> build model -> open the run -> gradcheck gate -> train -> evaluate
    -> diagnose -> log

    cfg = compose(config_name="config", overrides=[...])     # or the config @hydra.main hands over
    dev_accuracy = run_job(cfg)

``pipelines/train.py`` is the command-line entry point around :func:`run_job`; tests, studies and
benchmarks call the stages here directly, in-process. What ties a job to its sweep (its parent
run, its outcome file, its claim on a config, the watch on the submitter) is in
``initreg.lifecycle``. The stages with a subject of their own sit beside this file:
``job_names`` (the run's name, title and ``config_hash``), ``job_loading`` (data and model from
the config), ``job_training`` (gradient descent, the cost curve and layer statistics logged),
``job_evaluation`` (metrics and diagnosis) and ``job_logging`` (what a finished run leaves in
MLflow).
"""

import json
import logging
import math
import tempfile
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from initreg import config as schema
from initreg import doctor, gradcheck, interrupts, metrics, progress, tracking
from initreg.data import Dataset
from initreg.gradcheck import GradcheckResult
from initreg.interrupts import Terminated
from initreg.job_evaluation import diagnose_run, evaluate
from initreg.job_loading import build_model, load_data
from initreg.job_logging import log_inputs, log_results
from initreg.job_names import experiment_name, job_name
from initreg.job_training import train_model
from initreg.lifecycle import (
    JobOutcome,
    die_with_submitter,
    in_sweep,
    job_parent,
    overrides_text,
    rival_run,
    write_status,
)
from initreg.nn import DivergenceError, stats

log = logging.getLogger("initreg.train")
QUIET = {progress.QUIET: True}  # a line the sweep's own progress line already says


# --- stages -------------------------------------------------------------------------------------

def measure_start(model, ds: Dataset) -> tuple[float, dict | None]:
    """The cost and the per-layer statistics at initialisation, before the gate.

    On the whole training set without dropout: ``act_mean_l{l}``, ``act_std_l{l}``,
    ``grad_norm_l{l}``, ``symmetry_l1`` (None when the params are not ``W1, b1, ..., WL, bL``).
    Measured for every run, so a run that is gated or diverges at once still shows how its
    activations and gradients started (the depth study's exploding case is one).
    """
    with np.errstate(all="ignore"):
        cost, grads = model.cost_and_grads(ds.X_train, ds.Y_train)
        layer = (stats.layer_stats(model.params, ds.X_train, grads)
                 if stats.layer_count(model.params) is not None else None)
    return float(cost), layer


def check_finite_start(model, cost: float) -> None:
    """The divergence guard at iteration 0: a non-finite cost or parameter before any training.

    It runs before the gate because a gradient check of a non-finite function means nothing
    (``init=random init.scale=1e200`` overflows at once): such a run ends ``diverged`` at 0.
    """
    for name, p in model.params.items():
        if not np.isfinite(p).all():
            raise DivergenceError(0, float("nan"), f"parameter {name} is not finite at init")
    if not np.isfinite(cost):
        raise DivergenceError(0, cost, "the cost is not finite at initialisation")


def gradcheck_gate(cfg: DictConfig, model, ds: Dataset) -> GradcheckResult:
    """The model's own gradients against finite differences (``initreg.gradcheck.gate``): a
    training batch, the run's L2 and fixed dropout masks, re-checked on other examples, masks
    and directions while the verdict is ``inconclusive`` (a ReLU kink, float64's precision)."""
    g = cfg.gradcheck
    checked = model.using(cfg.train.engine) if hasattr(model, "using") else model  # what trains
    return gradcheck.gate(checked, ds.X_train, ds.Y_train, batch_size=g.batch_size,
                          mask_seed=g.mask_seed, epsilon=g.epsilon, threshold=g.threshold,
                          mode=g.mode, directions=g.directions, attempts=g.attempts)


# --- the job ------------------------------------------------------------------------------------

def open_run(cfg: DictConfig, resolved: dict, config_hash: str, name: str | None = None):
    """A RUNNING MLflow run for this job (a child when in a sweep), or a skipped ``JobOutcome``.

    Named ``name`` (default :func:`job_name`), with the tags MLflow's UI shows as its Source,
    Version and User (the sweep's, from its parent file) and the params that mean something
    for it (:func:`initreg.tracking.run_params`).

    With ``resume=true`` the run itself is the claim on its config: it is created first, then
    any other FINISHED run of the same ``config_hash``, or a RUNNING one whose process lives
    and that started earlier, wins and this one is deleted, so two sweeps (or a dead sweep's
    last workers and its resumption) never both train one config. A FINISHED run that holds
    the config is the skipped outcome's ``reused_run_id``: the sweep reuses it.
    """
    if not cfg.tracking.enabled:
        return tracking.NoRun()
    parent = job_parent(cfg)
    if in_sweep() and parent is None:
        raise RuntimeError("this sweep has no parent run (its pre-check did not complete); "
                           "the job is not run outside it")
    uri = parent["tracking_uri"] if parent else tracking.resolve_uri(cfg.tracking.uri)
    mlflow = tracking.client(uri, cfg.tracking.timeout_s)
    exp = parent["experiment_id"] if parent else tracking.experiment_id(
        mlflow, experiment_name(cfg), uri)
    held = tracking.finished_runs(mlflow, exp).get(config_hash) if cfg.resume else None
    if held is not None:
        return _skipped(config_hash, held, finished=True)
    source = (parent or {}).get("source_tags") or tracking.source_tags()
    run = tracking.Run.start(mlflow, exp, name or job_name(cfg),
                             parent_id=parent["run_id"] if parent else None,
                             tags={"config_hash": config_hash,
                                   "git_commit": source.get("mlflow.source.git.commit"),
                                   "overrides": overrides_text(), **doctor.process_tags(),
                                   **source},
                             # metric points are written in batches of up to 1000, once the
                             # oldest has waited tracking.flush_seconds (and at the run's end):
                             # the UI shows a long run's progress, and a short run writes once,
                             # not every 50 points (each write is a transaction the other
                             # workers wait for)
                             flush_seconds=cfg.tracking.flush_seconds)
    if cfg.resume:
        rival = rival_run(mlflow, exp, config_hash, run.run_id)
        if rival is not None:
            tracking.retry(mlflow.delete_run, run.run_id)
            return _skipped(config_hash, rival.info.run_id,
                            finished=rival.info.status == "FINISHED")
    run.log_params(tracking.run_params(resolved))
    return run


def _skipped(config_hash: str, holder: str, finished: bool) -> JobOutcome:
    """A job skipped by ``resume`` because run ``holder`` holds its config. A FINISHED holder
    is reused by the sweep (``reused_run_id``); a RUNNING one may still fail, so it is not."""
    why = (f"already has a FINISHED run ({holder}): reused" if finished
           else f"run {holder} holds it")
    log.info("skipped (resume): config %s %s [%s]", config_hash, why, overrides_text())
    return JobOutcome("skipped", reason=f"resume: {why}",
                      reused_run_id=holder if finished else None)


def run_job(cfg: DictConfig) -> JobOutcome:
    """The whole job; its outcome (dev accuracy NaN when gated, diverged or skipped).

    Bad values raise ``ConfigError`` / ``DataError`` before anything is written; a run that
    fails later ends FAILED (or KILLED on Ctrl-C/SIGTERM) with the reason tagged, and re-raises.
    """
    schema.validate(cfg)
    ds = load_data(cfg)
    schema.validate_sizes(cfg, ds.n_features, ds.X_train.shape[1])  # against the data
    model = build_model(cfg)
    resolved = OmegaConf.to_container(cfg, resolve=True)
    chash = tracking.config_hash(resolved)
    name = job_name(cfg)
    progress.set_run(name)  # every line this process logs from here on names the run
    try:
        return _recorded_job(cfg, ds, model, resolved, chash, name)
    finally:
        progress.set_run(None)


def _recorded_job(cfg, ds, model, resolved: dict, chash: str, name: str) -> JobOutcome:
    run = None
    try:
        with interrupts.held():  # Ctrl-C while the run is opened: raised once it is, below
            run = open_run(cfg, resolved, chash, name)
    except (KeyboardInterrupt, Terminated) as err:
        if isinstance(run, tracking.Run):
            _stop_interrupted(run, name, err)
        raise
    except Exception as err:
        write_status(name, JobOutcome("not recorded", reason=f"{type(err).__name__}: {err}"))
        raise
    if isinstance(run, JobOutcome):
        write_status(name, run)
        return run
    write_status(name, JobOutcome("RUNNING", run_id=run.run_id))
    numeric = progress.NumericWarnings()
    with tempfile.TemporaryDirectory(prefix="initreg-") as tmp, \
            die_with_submitter(job_parent(cfg)):
        folder = Path(tmp)
        (folder / "config.yaml").write_text(OmegaConf.to_yaml(resolved))
        try:
            log_inputs(cfg, run, ds)
            with numeric:
                outcome = _gated_run(cfg, run, model, ds, folder)
        except (KeyboardInterrupt, Terminated) as err:
            _stop_interrupted(run, name, err)
            raise
        except Exception as err:
            _end_quietly(run, "FAILED", {"failure_reason": "exception",
                                         "error_type": type(err).__name__,
                                         "error_message": str(err),
                                         tracking.NOTE_TAG: f"**Failed:** {type(err).__name__}: "
                                                            f"{err}"})
            write_status(name, JobOutcome("FAILED", run_id=run.run_id,
                                          reason=f"{type(err).__name__}: {err}"))
            raise
        finally:
            _record_numeric(run, numeric)
    write_status(name, outcome)
    return outcome


def _stop_interrupted(run, name: str, err: BaseException) -> None:
    """End ``run`` KILLED after Ctrl-C/SIGTERM (``err``), another signal held back until it
    has ended: raised between its writes, it would leave the run RUNNING."""
    with interrupts.held():
        _end_quietly(run, "KILLED", {"failure_reason": "interrupted",
                                     "error_type": type(err).__name__,
                                     tracking.NOTE_TAG: "**Interrupted** before it ended."})
        write_status(name, JobOutcome("KILLED", run_id=run.run_id, reason="interrupted"))


def _record_numeric(run, numeric: progress.NumericWarnings) -> None:
    """The run's NumPy floating-point warnings as its tag ``numeric_warnings`` (counted, one
    entry per message), not on the console."""
    if numeric.total:
        log.info("%d numeric warnings, recorded in the run's tag numeric_warnings: %s",
                 numeric.total, numeric.tag()[:200])
        try:
            run.set_tags({"numeric_warnings": numeric.tag()})
        except Exception as err:  # the store failing is reported by the job itself
            log.error("could not record the numeric warnings: %s", err)


def _end_quietly(run, status: str, tags: dict) -> None:
    """End a run that is failing; a store that is itself the failure must not hide it."""
    try:
        run.set_tags(tags)
        run.end(status)
    except Exception as err:  # e.g. TrackingUnavailable: the run stays RUNNING for `doctor`
        log.error("could not end run %s %s: %s", run.run_id, status, err)


def _stop_diverged(run, folder: Path, err: DivergenceError) -> JobOutcome:
    run.set_tags({"failure_reason": "diverged", "diverged_at_iteration": err.iteration,
                  "error_message": str(err),
                  tracking.NOTE_TAG: f"**Diverged**, so not evaluated: {err}."})
    run.log_artifacts(folder)
    run.end("FAILED")
    log.warning("done: %s", err, extra=QUIET)
    return JobOutcome("FAILED", run_id=run.run_id, reason=str(err))


def start_metrics(model, ds: Dataset, start_stats: dict | None, gate: GradcheckResult) -> dict:
    """What a run logs at step 0, once its gate has spoken, in this order: the dev accuracy of
    the initialised network (only when it will train: a gated run has no dev accuracy), the
    per-layer statistics at initialisation, the gate's difference.

    The order is what MLflow's Compare page opens on: its parallel-coordinates plot shows the
    first metric the runs share in the order the store returns them, which for MLflow's SQL
    stores is the order the keys were first logged. ``dev_accuracy`` first puts the sweep's
    objective there (its last value, after training, is the one the runs table shows).
    """
    first = {} if gate.verdict == "failed" else {
        "dev_accuracy": metrics.accuracy(ds.Y_dev, model.predict(ds.X_dev))}
    return {**first, **(start_stats or {}), "gradcheck_difference": gate.difference}


def _gated_run(cfg, run, model, ds, folder: Path) -> JobOutcome:
    cost0, start_stats = measure_start(model, ds)
    try:
        check_finite_start(model, cost0)
    except DivergenceError as err:
        run.add_metrics(start_stats or {}, step=0)
        return _stop_diverged(run, folder, err)
    gate = gradcheck_gate(cfg, model, ds)
    (folder / "gradcheck.json").write_text(json.dumps(gate.to_dict(), indent=2))
    run.set_tags({"gradcheck": gate.verdict, "gradcheck_reason": gate.reason})
    run.add_metrics(start_metrics(model, ds, start_stats, gate), step=0)
    if gate.verdict == "passed":
        log.info(gate.summary())
    else:  # a failed gate is in the sweep's own line; an inconclusive one is news
        log.warning(gate.summary(), extra=QUIET if gate.verdict == "failed" else None)
    if gate.verdict == "failed":
        run.set_tags({"failure_reason": "gradcheck",
                      tracking.NOTE_TAG: f"**Not trained:** the gradient check failed. "
                                         f"{gate.summary()}"})
        run.log_artifacts(folder)
        run.end("FAILED")
        log.warning("done: gate FAILED, not trained", extra=QUIET)
        return JobOutcome("FAILED", run_id=run.run_id, reason="gradcheck failed")
    end = cfg.train.num_iterations  # the step of every number measured after training
    try:
        history = train_model(cfg, model, ds, run, start_stats)
    except BaseException as err:  # not evaluated: the dev accuracy's last value is no number
        try:
            run.add_metric("dev_accuracy", math.nan, end)
        except Exception as store_err:  # a store that fails must not hide Ctrl-C or divergence
            log.error("could not record dev_accuracy NaN: %s", store_err)
        if isinstance(err, DivergenceError):
            return _stop_diverged(run, folder, err)
        raise
    results = evaluate(model, ds)
    diag = diagnose_run(cfg, ds, model, history, results)
    log_results(cfg, run, model, ds, history, results, diag, folder, gate, step=end)
    run.end("FINISHED")
    log.info("done: train %.3f dev %.3f test %.3f  %s  gate %s",
             results["train_accuracy"], results["dev_accuracy"], results["test_accuracy"],
             diag.verdict, gate.verdict + (f" ({gate.reason})" if gate.reason else ""))
    return JobOutcome("FINISHED", results["dev_accuracy"], run.run_id)
