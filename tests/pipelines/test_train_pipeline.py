"""The real pipeline, run as a user runs it, into a temporary MLflow store."""

import json

import numpy as np
import pytest
from pipeline_utils import all_runs, run_in_process, run_pipeline

from initreg import data, job_training
from initreg.config import ConfigError

FAST = ["train.num_iterations=300", "train.log_every=100"]
PARAMS = ["init.name", "reg.lambd", "reg.keep_prob", "model.layer_dims", "train.learning_rate",
          "train.num_iterations", "data.name", "seed", "gradcheck.mode"]
METRICS = ["cost", "train_accuracy", "dev_accuracy", "test_accuracy", "train_error",
           "dev_error", "bayes_error", "avoidable_bias", "variance", "gradcheck_difference",
           "train_seconds"]
TAGS = ["gradcheck", "diagnosis", "recommendation", "config_hash"]
ARTIFACTS = {"config.yaml", "cost_curve.png", "decision_boundary.png", "gradcheck.json",
             "model.npz"}


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    proc = run_pipeline(["-m", "init=zeros,he", "reg.lambd=0.0,0.7", "hydra.launcher.n_jobs=2",
                         *FAST], tmp)
    from mlflow.tracking import MlflowClient

    return tmp, proc, MlflowClient(tracking_uri=f"sqlite:///{tmp}/mlruns/mlflow.db")


def test_one_parent_and_four_children(tiny_sweep):
    _, proc, client = tiny_sweep
    runs = all_runs(client)
    parents = [r for r in runs if r.data.tags.get("sweep") == "true"]
    kids = [r for r in runs if r.data.tags.get("mlflow.parentRunId")]
    assert len(parents) == 1 and len(kids) == 4 and len(runs) == 5
    assert parents[0].info.status == "FINISHED"
    assert "init=zeros,he" in parents[0].data.tags["sweep_overrides"]
    assert {k.data.tags["mlflow.parentRunId"] for k in kids} == {parents[0].info.run_id}
    assert client.get_experiment(kids[0].info.experiment_id).name == "football"
    assert "open the UI" in proc.stdout


def test_children_carry_params_metrics_tags_and_artifacts(tiny_sweep):
    _, _, client = tiny_sweep
    kids = [r for r in all_runs(client) if r.data.tags.get("mlflow.parentRunId")]
    combos = {(k.data.params["init.name"], float(k.data.params["reg.lambd"])) for k in kids}
    assert combos == {("zeros", 0.0), ("zeros", 0.7), ("he", 0.0), ("he", 0.7)}
    for k in kids:
        assert k.info.status == "FINISHED"
        assert set(PARAMS) <= set(k.data.params)
        assert not [p for p in k.data.params if p.startswith("tracking.") or p == "resume"]
        assert set(METRICS) <= set(k.data.metrics)
        assert set(TAGS) <= set(k.data.tags) and k.data.tags["gradcheck"] == "passed"
        m = k.data.metrics
        assert m["train_error"] == pytest.approx(1 - m["train_accuracy"])
        assert m["dev_error"] == pytest.approx(1 - m["dev_accuracy"])
        assert m["avoidable_bias"] == pytest.approx(m["train_error"] - m["bayes_error"])
        assert m["variance"] == pytest.approx(m["dev_error"] - m["train_error"])
        history = client.get_metric_history(k.info.run_id, "cost")
        steps = [h.step for h in sorted(history, key=lambda h: h.step)]
        assert steps == sorted(job_training.cost_steps(300, 100))
        assert {0, 100, 200, 299} <= set(steps)
        names = {a.path for a in client.list_artifacts(k.info.run_id)}
        assert ARTIFACTS <= names


def test_model_npz_reloads_without_pickle_and_predicts_like_logged(tiny_sweep, tmp_path):
    _, _, client = tiny_sweep
    kid = next(r for r in all_runs(client) if r.data.params.get("init.name") == "he")
    path = client.download_artifacts(kid.info.run_id, "model.npz", str(tmp_path))
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["W1", "W2", "W3", "b1", "b2", "b3"]
        assert npz["W1"].shape == (20, 2)
    report = json.loads(open(client.download_artifacts(kid.info.run_id, "gradcheck.json",
                                                       str(tmp_path))).read())
    assert report["passed"] and report["mode"] == "directional"


def test_the_gate_stops_a_buggy_model_and_the_sweep_goes_on(tmp_path, store):
    # one worker: the gated job runs first and the next one still runs after it
    run_pipeline(["-m", "model._target_=planted.DoubledW1Net,initreg.nn.Network",
                  "hydra.launcher.n_jobs=1", *FAST], tmp_path)
    kids = [r for r in all_runs(store) if r.data.tags.get("mlflow.parentRunId")]
    by_model = {k.data.params["model._target_"]: k for k in kids}
    bad, good = by_model["planted.DoubledW1Net"], by_model["initreg.nn.Network"]
    assert bad.info.status == "FAILED"
    assert bad.data.tags["gradcheck"] == "failed"
    assert bad.data.tags["failure_reason"] == "gradcheck"
    assert "train_accuracy" not in bad.data.metrics and "cost" not in bad.data.metrics
    report = json.loads(open(store.download_artifacts(bad.info.run_id, "gradcheck.json",
                                                      str(tmp_path))).read())
    assert report["worst"]["param"] == "W1" and not report["passed"]
    assert good.info.status == "FINISHED" and "train_accuracy" in good.data.metrics
    parent = next(r for r in all_runs(store) if r.data.tags.get("sweep") == "true")
    assert parent.info.status == "FINISHED"  # a gated job is a verdict, not a crash


def test_a_single_run_is_a_top_level_run(tmp_path, store):
    run_in_process(["init=xavier", *FAST], tmp_path)
    (run,) = all_runs(store)
    assert "mlflow.parentRunId" not in run.data.tags
    assert run.info.status == "FINISHED" and run.data.params["init.name"] == "xavier"


@pytest.mark.parametrize("override", ["reg.keep_prob=0", "model.layer_dims=[3,4,1]",
                                      "train.learning_rate=-0.1"])
def test_a_bad_value_stops_the_job_in_one_line_and_writes_nothing(tmp_path, store, override):
    # the command line's exit status 2 and its one stderr line: test_reliability, test_bad_input
    with pytest.raises(ConfigError) as err:
        run_in_process([override, *FAST], tmp_path)
    key = override.split("=")[0]
    assert key in str(err.value) and "allowed" in str(err.value) and "\n" not in str(err.value)
    assert all_runs(store) == []


@pytest.mark.slow
@pytest.mark.parametrize(("args", "train_ok", "test_ok"), [
    (["experiment=course_init", "init=he"], 298, 96),
    (["experiment=course_init", "init=random"], 249, 86),
    (["experiment=course_init", "init=zeros"], 150, 50),
    (["experiment=course_reg"], 200, 183),
    (["experiment=course_reg", "reg.lambd=0.7"], 198, 186),
    (["experiment=course_reg", "reg.keep_prob=0.86"], 196, 190),
])
def test_course_table_through_the_pipeline(tmp_path, store, args, train_ok, test_ok):
    run_pipeline(args, tmp_path)
    (run,) = all_runs(store)
    m = run.data.metrics
    ds = data.load_circles() if "course_init" in args[0] else data.load_football()
    assert round(m["train_accuracy"] * ds.Y_train.shape[1]) == train_ok
    # dev and test are the two halves of the published test set
    published = m["dev_accuracy"] * ds.Y_dev.shape[1] + m["test_accuracy"] * ds.Y_test.shape[1]
    assert round(published) == test_ok
