"""The job's verdicts (issue 12), through ``initreg.job.run_job`` in-process on a real store."""

import json
import math
from pathlib import Path

import pytest
from pipeline_utils import all_runs, compose_cfg
from stores import new_store

from initreg import job, metrics, tracking

FAST = ["train.num_iterations=300", "train.log_every=100"]


def _run(tmp_path, overrides):
    _client(tmp_path)
    cfg = compose_cfg([*FAST, *overrides, f"tracking.uri=sqlite:///{tmp_path}/mlruns/mlflow.db"])
    outcome = job.run_job(cfg)
    return outcome, {r.info.run_id: r for r in all_runs(_client(tmp_path))}[outcome.run_id]


def _client(tmp_path):
    return new_store(tmp_path / "mlruns" / "mlflow.db")


def test_an_inconclusive_gate_trains_and_says_why(tmp_path):
    # a narrow deep net with dropout: every batch has a pre-activation at a ReLU kink
    outcome, run = _run(tmp_path, ["model.layer_dims=[2,3,3,3,1]", "reg.keep_prob=0.8"])
    assert outcome.status == "FINISHED"
    assert run.data.tags["gradcheck"] == "inconclusive"
    assert run.data.tags["gradcheck_reason"] == "kink"
    assert "dev_accuracy" in run.data.metrics


def test_a_planted_bug_is_failed_and_never_trained(tmp_path):
    outcome, run = _run(tmp_path, ["model._target_=planted.DoubledW1Net"])
    assert outcome.status == "FAILED" and run.info.status == "FAILED"
    assert run.data.tags["gradcheck"] == "failed"
    assert run.data.tags["gradcheck_reason"] == "mismatch"
    assert "cost" not in run.data.metrics  # never trained


@pytest.mark.parametrize("overrides", [
    ["model._target_=planted.DoubledW1Net"],  # gated
    ["init=random", "init.scale=1e200"],  # diverged at iteration 0
])
def test_runs_that_never_train_still_log_their_step_0_layer_statistics(tmp_path, overrides):
    _, run = _run(tmp_path, overrides)
    client = _client(tmp_path)
    for key in ("act_std_l1", "act_mean_l1", "grad_norm_l1", "act_std_l3", "symmetry_l1"):
        assert [m.step for m in client.get_metric_history(run.info.run_id, key)] == [0], key


def test_a_trained_run_logs_step_0_statistics_once(tmp_path):
    _, run = _run(tmp_path, [])
    steps = [m.step for m in _client(tmp_path).get_metric_history(run.info.run_id, "act_std_l1")]
    assert steps == [0, 100, 200, 299]


def test_zeros_is_diagnosed_failed_to_learn_not_high_bias_high_variance(tmp_path):
    _, run = _run(tmp_path, ["init=zeros"])
    tags = run.data.tags
    assert tags["diagnosis"] == "failed_to_learn"
    assert tags["failure_mode"] == "symmetry_not_broken"
    assert "init" in tags["recommendation"].lower()
    assert "bigger network" not in tags["recommendation"].lower()
    assert "0.502" in tags["diagnosis_evidence"]


def test_he_learns_and_keeps_a_bias_variance_verdict(tmp_path):
    _, run = _run(tmp_path, ["train.num_iterations=3000", "train.log_every=1000"])
    assert run.data.tags["diagnosis"] != "failed_to_learn"
    assert "failure_mode" not in run.data.tags


def test_the_gate_verdict_and_its_evidence_are_in_gradcheck_json(tmp_path):
    _, run = _run(tmp_path, ["model.layer_dims=[2,3,3,3,1]", "reg.keep_prob=0.8"])
    path = _client(tmp_path).download_artifacts(run.info.run_id, "gradcheck.json", str(tmp_path))
    record = json.loads(Path(path).read_text())
    assert record["verdict"] == "inconclusive" and record["reason"] == "kink"
    assert record["attempts"] == 3 and len(record["earlier"]) == 2


def test_the_objective_is_the_first_metric_a_run_logs_and_its_last_value_is_after_training(
        tmp_path):
    """MLflow's Compare page opens on the first metric the store returns, in the order the keys
    were first logged (the browser test shows the page itself): a run logs ``dev_accuracy`` of
    its initialised network first, at step 0, and the trained one's at step num_iterations."""
    outcome, run = _run(tmp_path, [])
    client = _client(tmp_path)
    assert next(iter(client.get_run(run.info.run_id).data.metrics)) == "dev_accuracy"
    history = sorted((m.step, m.value) for m in
                     client.get_metric_history(run.info.run_id, "dev_accuracy"))
    assert [step for step, _ in history] == [0, 300]
    assert history[1][1] == outcome.dev_accuracy == run.data.metrics["dev_accuracy"]
    cfg = compose_cfg(FAST)
    ds, untrained = job.load_data(cfg), job.build_model(cfg)
    assert history[0][1] == metrics.accuracy(ds.Y_dev, untrained.predict(ds.X_dev))
    assert history[0][1] != history[1][1]
    for key in ("train_accuracy", "test_accuracy", "variance", "bayes_error"):
        assert [m.step for m in client.get_metric_history(run.info.run_id, key)] == [300], key


@pytest.mark.parametrize("overrides, dev", [
    (["model._target_=planted.DoubledW1Net"], None),  # gated: never trained, no dev accuracy
    (["train.learning_rate=1000"], "nan"),  # diverged in training: not evaluated
])
def test_a_run_that_is_not_evaluated_has_no_dev_accuracy_to_show(tmp_path, overrides, dev):
    outcome, run = _run(tmp_path, overrides)
    assert outcome.status == "FAILED"
    if dev is None:
        assert "dev_accuracy" not in run.data.metrics
    else:
        assert run.data.tags["failure_reason"] == "diverged"
        assert math.isnan(run.data.metrics["dev_accuracy"])  # the value the runs table shows


class _StoreGoneRun(tracking.NoRun):
    """A run whose store stopped answering: every metric write fails."""

    def add_metric(self, *args, **kwargs):
        raise tracking.TrackingUnavailable("the tracking server did not answer")


def test_a_store_that_fails_while_training_is_interrupted_does_not_hide_the_interrupt(
        tmp_path, monkeypatch):
    cfg = compose_cfg(FAST)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(job, "train_model", interrupted)
    ds, model = job.load_data(cfg), job.build_model(cfg)
    with pytest.raises(KeyboardInterrupt):  # not TrackingUnavailable: the run ends KILLED
        job._gated_run(cfg, _StoreGoneRun(), model, ds, tmp_path)


@pytest.mark.parametrize("seconds", [0, 3600])
def test_a_run_writes_its_metrics_as_often_as_tracking_flush_seconds_says(
        tmp_path, monkeypatch, seconds):
    batches = []
    write = tracking.Run.flush

    def counted(self):
        if self._metrics:
            batches.append(len(self._metrics))
        write(self)

    monkeypatch.setattr(tracking.Run, "flush", counted)
    _run(tmp_path, [f"tracking.flush_seconds={seconds}"])
    if seconds == 0:  # every point as it comes: the UI is never behind
        assert len(batches) > 20 and set(batches) == {1}
    else:  # a run shorter than the wait: its points written together, when it ends
        assert len(batches) == 1 and batches[0] > 20
