"""What a job leaves in MLflow besides its cost curve: its data set as inputs and, once it
finished, its metrics, diagnosis tags, description, figures, weights and model."""

from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from initreg import plots, tracking
from initreg.data import Dataset
from initreg.gradcheck import GradcheckResult
from initreg.job_evaluation import bayes_error
from initreg.job_names import run_title
from initreg.nn import History, Network


def log_inputs(cfg: DictConfig, run, ds: Dataset) -> None:
    """The data set's splits as the run's dataset inputs (MLflow's Dataset column), their
    source the loader and its arguments."""
    if run.run_id is None:  # tracking off
        return
    source = {**OmegaConf.to_container(cfg.data.loader, resolve=True),
              "train_fraction": cfg.data.train_fraction}
    run.log_inputs(tracking.dataset_inputs(ds, cfg.data.name, source))


def run_note(cfg, ds: Dataset, results, diag, gate: GradcheckResult | None = None) -> str:
    """The run's description in the MLflow UI (Markdown): the diagnosis with its numbers, the
    recommendation in full, the gate's verdict."""
    on_f1 = cfg.diagnosis.metric == "f1"
    what = "1 - F1" if on_f1 else "error"
    train_err = 1 - results["train_f1"] if on_f1 else results["train_error"]
    dev_err = 1 - results["dev_f1"] if on_f1 else results["dev_error"]
    lines = [f"**Diagnosis: {diag.verdict}.** Avoidable bias {diag.avoidable_bias:+.3f} "
             f"(train {what} {train_err:.3f} against the Bayes {what} "
             f"{train_err - diag.avoidable_bias:.3f}), variance {diag.variance:+.3f} (dev {what} "
             f"{dev_err:.3f}); accuracy train {results['train_accuracy']:.3f}, dev "
             f"{results['dev_accuracy']:.3f}, test {results['test_accuracy']:.3f}.",
             f"**Recommendation:** {diag.recommendation}"]
    if diag.evidence:
        lines.append(f"**Evidence:** {diag.evidence}")
    if gate is not None:
        lines.append(f"**Gradient check:** {gate.summary()}")
    return "\n\n".join(lines)


def log_results(cfg, run, model, ds: Dataset, history: History, results, diag, folder: Path,
                gate: GradcheckResult | None = None, step: int = 0):
    """Metrics (at ``step``: the job's, after its last iteration), tags (the description among
    them) and artifacts of a finished run; initreg's own ``Network`` also as the run's MLflow
    model (``runs:/<run id>/model``)."""
    run.add_metrics({**results, "bayes_error": bayes_error(cfg, ds),
                     "train_examples": ds.X_train.shape[1], "dev_examples": ds.X_dev.shape[1],
                     "test_examples": ds.X_test.shape[1],
                     "avoidable_bias": diag.avoidable_bias, "variance": diag.variance,
                     "train_seconds": history.seconds}, step=step)
    run.add_tags({"diagnosis": diag.verdict, "recommendation": diag.recommendation,
                  "failure_mode": diag.failure_mode, "diagnosis_evidence": diag.evidence or None,
                  tracking.NOTE_TAG: run_note(cfg, ds, results, diag, gate)})
    np.savez(folder / "model.npz", **{k: np.asarray(v) for k, v in model.params.items()})
    # the model before the figures: saving it, MLflow checks its requirements against every
    # installed package's file list, and the figures then reuse the memory that frees (a job's
    # peak ~2 MiB lower; benchmarks/job_memory.py)
    if type(model) is Network:  # a subclass or a model of your own may predict otherwise
        run.log_model(folder / "model.npz", ds.X_dev.T[:5],  # rows: MLflow's orientation
                      params=tracking.run_params(OmegaConf.to_container(cfg, resolve=True)))
    plots.cost_curve(history.costs, history.iterations, folder / "cost_curve.png",
                     title=run_title(cfg))
    if ds.n_features == 2:
        plots.decision_boundary(model.predict, ds.X_train, ds.Y_train,
                                folder / "decision_boundary.png", title=run_title(cfg))
    if "start" in history.layer_stats:
        plots.layer_stats(history.layer_stats["start"], history.layer_stats["end"],
                          folder / "layer_stats.png", title=run_title(cfg))
    run.log_artifacts(folder)
