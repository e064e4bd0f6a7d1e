"""The real pipeline, run as a user runs it, into a temporary MLflow store."""

import json

import pytest
from pipeline_utils import all_runs, run_in_process, run_pipeline

from initreg import data
from initreg.config import ConfigError

FAST = ["train.num_iterations=300", "train.log_every=100"]


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
