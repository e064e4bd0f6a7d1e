"""A trained job's numbers: its metrics on each split and its bias/variance diagnosis."""

from omegaconf import DictConfig

from initreg import diagnosis, metrics
from initreg.data import Dataset
from initreg.nn import History


def evaluate(model, ds: Dataset) -> dict[str, float]:
    """Accuracy, error, precision, recall, F1 and PR-AUC on each split (``dev_accuracy``, ...)."""
    results: dict[str, float] = {}
    for split in ("train", "dev", "test"):
        X, Y = ds.split(split)
        proba = model.predict_proba(X) if hasattr(model, "predict_proba") else None
        results.update(metrics.classification_report(Y, model.predict(X), proba,
                                                     prefix=split))
    return results


def bayes_error(cfg: DictConfig, ds: Dataset) -> float:
    """``data.bayes_error`` when set, else the data set's own estimate for its parameters (the
    moons' noise changes it: 0.0568 at 0.25, 0.0006 at 0.1)."""
    return ds.bayes_error if cfg.data.bayes_error is None else float(cfg.data.bayes_error)


def diagnose_run(cfg: DictConfig, ds: Dataset, model, history: History,
                 results: dict[str, float]) -> diagnosis.Diagnosis:
    """Bias/variance against the data's Bayes error, on 1 - accuracy or 1 - F1; a run that
    predicts one class everywhere is ``failed_to_learn``, with the cause its numbers show."""
    key = "error" if cfg.diagnosis.metric == "error" else "f1"
    train_err = results["train_error"] if key == "error" else 1 - results["train_f1"]
    dev_err = results["dev_error"] if key == "error" else 1 - results["dev_f1"]
    # the reference must be in the same units: 1 - F1 of the Bayes rule when diagnosing on F1
    bayes = bayes_error(cfg, ds)
    if key == "f1" and cfg.data.bayes_f1_error is not None:
        bayes = cfg.data.bayes_f1_error
    end = history.layer_stats.get("end")
    failure = diagnosis.learning_failure(
        ds.Y_train, model.predict(ds.X_train), layer_stats=end[1] if end else None,
        costs=history.costs, units_l1=model.params["W1"].shape[0] if end else None)
    return diagnosis.diagnose(train_err, dev_err, bayes, cfg.diagnosis.tolerance,
                              failure=failure)
