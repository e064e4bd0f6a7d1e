"""A real sweep as a user runs it: what its console shows, and what MLflow's UI will show of it
(names, Source, Dataset, Models, descriptions; the parent's params and selection)."""

import json
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from pipeline_utils import ROOT, all_runs, compose_cfg, run_pipeline

from initreg import callbacks, job_training, tracking
from initreg.mlflow_model import network_from_weights

JOBS = 6  # init x lambd; random x 1e100 overflows, so its gate fails and it warns
SWEEP = ["-m", "init=he,zeros,random", "init.scale=1e100", "reg.lambd=0.0,0.7",
         "train.num_iterations=300", "train.log_every=100", "hydra.launcher.n_jobs=2"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console")
    proc = run_pipeline(SWEEP, tmp, extra_env={"CI": "true"})  # plain lines, as in CI
    client = tracking.client(tracking.resolve_uri(f"sqlite:///{tmp}/mlruns/mlflow.db"))
    runs = all_runs(client)
    parent = next(r for r in runs if r.data.tags.get("sweep") == "true")
    kids = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    return tmp, proc, client, parent, kids


def test_the_console_has_one_line_per_job_start_and_end_and_a_short_summary(sweep):
    _, proc, _, _, kids = sweep
    assert proc.stderr.strip() == ""  # no warning, no traceback
    lines = proc.stdout.splitlines()
    names = {k.info.run_name for k in kids}
    starts = [line for line in lines if line.startswith("[start ")]
    ends = [line for line in lines if line.startswith("[done ")]
    assert len(starts) == JOBS and len(ends) == JOBS
    for line in starts + ends:  # k/N and the run's name
        assert re.match(rf"\[(start|done) [1-{JOBS}]/{JOBS}\] ", line), line
        assert line.split("] ", 1)[1].split("  ")[0] in names, line
    assert all(re.search(r"\(elapsed \S+, (~\S+ left|all done|left: estimating)\)", e)
               for e in ends)
    # before them: the store's creation, the sweep's header, Hydra's launch; while the jobs
    # run, nothing else (no iteration lines, no numeric warnings, no Hydra line per job); then
    # the summary, which says how to open the report and the UI
    first = lines.index(starts[0])
    summary = next(i for i, line in enumerate(lines) if line.startswith("sweep "))
    assert first <= 5, "\n".join(lines[:first])
    assert lines[first:summary] == [line for line in lines if line in starts + ends]
    assert not [line for line in lines if re.search(r"#\d+ : |iteration \d|Warning", line)]
    assert lines[-2].startswith("the report: make report")
    assert lines[-1].startswith("open the UI: make ui, then http://127.0.0.1:5000/#/experiments/")
    assert lines[-1].endswith("?workflowType=machine_learning")


def test_each_jobs_log_file_keeps_its_iteration_lines_under_its_runs_name(sweep):
    tmp, _, _, _, kids = sweep
    logs = {p.parent.name: p.read_text() for p in (tmp / "multirun").glob("*/train.log")}
    assert len(logs) == JOBS
    trained = [text for text in logs.values() if "iteration 0/300" in text]
    assert len(trained) == 4  # the random runs never trained
    for text in logs.values():
        name = re.search(r"^\[[^]]*\]\[([^]]*)\]", text, re.M).group(1)
        assert name in {k.info.run_name for k in kids}
        assert all(f"][{name}][" in line for line in text.splitlines())


def test_runs_are_named_by_the_sweeps_varying_keys(sweep):
    _, _, _, parent, kids = sweep
    assert sorted(k.info.run_name for k in kids) == \
        ["he l0", "he l0.7", "random l0", "random l0.7", "zeros l0", "zeros l0.7"]
    assert parent.data.tags["sweep_keys"] == "init reg.lambd"


def test_every_run_has_the_tags_the_ui_shows_as_source_version_user_and_description(sweep):
    _, _, _, parent, kids = sweep
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or None
    for r in [parent, *kids]:
        tags = r.data.tags
        assert tags["mlflow.source.name"].endswith("pipelines/train.py")
        assert tags["mlflow.source.type"] == "LOCAL" and tags["mlflow.user"]
        assert tags.get("mlflow.source.git.commit") == commit
        assert tags["mlflow.note.content"]
    for k in kids:
        note, tags = k.data.tags["mlflow.note.content"], k.data.tags
        if k.info.status == "FINISHED":
            assert note.startswith(f"**Diagnosis: {tags['diagnosis']}.**")
            assert f"**Recommendation:** {tags['recommendation']}" in note  # in full
            assert "**Gradient check:** gradcheck passed" in note
            assert f"dev {k.data.metrics['dev_accuracy']:.3f}" in note
        else:
            assert note.startswith("**Not trained:** the gradient check failed.")


def test_params_are_those_that_mean_something(sweep):
    _, _, _, _, kids = sweep
    for k in kids:
        assert not [p for p in k.data.params if p.startswith("tracking.") or p == "resume"]
        assert "None" not in k.data.params.values()
        assert k.data.params["reg.lambd"] in ("0.0", "0.7")


def test_the_data_set_is_each_runs_input_with_its_three_splits(sweep):
    _, _, client, parent, kids = sweep
    from initreg.data import load_football

    ds = load_football()
    for r in [parent, *kids]:
        inputs = client.get_run(r.info.run_id).inputs.dataset_inputs
        contexts = {i.tags[0].value: i.dataset for i in inputs}
        assert sorted(contexts) == ["dev", "test", "train"]
        assert {d.name for d in contexts.values()} == {"football"}
        assert json.loads(contexts["train"].profile)["features_shape"] == \
            [ds.X_train.shape[1], 2]


def test_numeric_warnings_of_a_diverging_run_are_in_the_run_not_on_the_console(sweep):
    _, _, _, _, kids = sweep
    for k in kids:
        if k.info.run_name.startswith("random"):
            assert "overflow encountered" in k.data.tags["numeric_warnings"]
            assert k.data.tags["failure_reason"] == "gradcheck"
        else:
            assert "numeric_warnings" not in k.data.tags


def test_the_parent_has_the_fixed_params_the_selection_and_a_description(sweep):
    _, _, client, parent, kids = sweep
    params = parent.data.params
    assert params["train.num_iterations"] == "300" and params["data.name"] == "football"
    assert "reg.lambd" not in params and "init.name" not in params  # they vary
    finished = [k for k in kids if k.info.status == "FINISHED"]
    best = max(finished, key=lambda k: (k.data.metrics["dev_accuracy"],
                                        -k.data.metrics["variance"]))
    assert parent.data.tags["selected_run_id"] == best.info.run_id
    assert parent.data.metrics["selected_dev_accuracy"] == best.data.metrics["dev_accuracy"]
    assert parent.data.metrics["selected_test_accuracy"] == best.data.metrics["test_accuracy"]
    note = parent.data.tags["mlflow.note.content"]
    assert f"make report SWEEP={parent.info.run_id}" in note
    assert f"#/experiments/{parent.info.experiment_id}/runs/{best.info.run_id}" in note
    # the sweep's output is its selected model: the Models column of the parent shows it
    outputs = client.get_run(parent.info.run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == \
        [tracking.logged_model(client, parent.info.experiment_id, best.info.run_id).model_id]


FRESH = textwrap.dedent("""
    import sys, json, mlflow, numpy as np
    mlflow.set_tracking_uri(sys.argv[1])
    model = mlflow.pyfunc.load_model(f"runs:/{sys.argv[2]}/model")
    print(json.dumps(model.predict(np.load(sys.argv[3])).tolist()))
""")


def test_a_sweeps_model_predicts_in_a_fresh_process(sweep, tmp_path):
    tmp, _, client, parent, kids = sweep
    best = next(k for k in kids if k.info.run_id == parent.data.tags["selected_run_id"])
    npz = client.download_artifacts(best.info.run_id, "model.npz", str(tmp_path))
    with np.load(npz, allow_pickle=False) as f:
        net = network_from_weights({k: f[k] for k in f.files})
    X = np.random.default_rng(0).normal(size=(50, 2))
    np.save(tmp_path / "X.npy", X)
    uri = f"sqlite:///{tmp}/mlruns/mlflow.db"
    proc = subprocess.run([sys.executable, "-c", FRESH, uri, best.info.run_id,
                           str(tmp_path / "X.npy")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.splitlines()[-1]) == net.predict(X.T).ravel().tolist()
    # every run that trained logged one; a gated run has nothing to predict with
    for k in kids:
        model = tracking.logged_model(client, k.info.experiment_id, k.info.run_id)
        assert (model is not None) == (k.info.status == "FINISHED")


# --- what the sweep's runs hold (the job of each: params, metrics, tags, artifacts) -----------

PARAMS = ["init.name", "reg.lambd", "reg.keep_prob", "model.layer_dims", "train.learning_rate",
          "train.num_iterations", "data.name", "seed", "gradcheck.mode"]
METRICS = ["cost", "train_accuracy", "dev_accuracy", "test_accuracy", "train_error",
           "dev_error", "bayes_error", "avoidable_bias", "variance", "gradcheck_difference",
           "train_seconds"]
TAGS = ["gradcheck", "diagnosis", "recommendation", "config_hash"]
ARTIFACTS = {"config.yaml", "cost_curve.png", "decision_boundary.png", "gradcheck.json",
             "model.npz"}


def _trained(kids):
    """The runs of the sweep that trained: he and zeros (random x 1e100 is gated)."""
    return [k for k in kids if k.data.params["init.name"] in ("he", "zeros")]


def test_one_parent_and_one_child_per_job(sweep):
    _, proc, client, parent, kids = sweep
    runs = all_runs(client)
    parents = [r for r in runs if r.data.tags.get("sweep") == "true"]
    assert [p.info.run_id for p in parents] == [parent.info.run_id]
    assert len(kids) == JOBS and len(runs) == JOBS + 1
    assert parent.info.status == "FINISHED"  # gated jobs are verdicts, not crashes
    assert "init=he,zeros,random" in parent.data.tags["sweep_overrides"]
    assert {k.data.tags["mlflow.parentRunId"] for k in kids} == {parent.info.run_id}
    assert client.get_experiment(kids[0].info.experiment_id).name == "football"
    assert "open the UI" in proc.stdout


def test_children_carry_params_metrics_tags_and_artifacts(sweep):
    _, _, client, _, kids = sweep
    trained = _trained(kids)
    combos = {(k.data.params["init.name"], float(k.data.params["reg.lambd"])) for k in trained}
    assert combos == {("zeros", 0.0), ("zeros", 0.7), ("he", 0.0), ("he", 0.7)}
    for k in trained:
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


def test_model_npz_reloads_without_pickle_and_predicts_like_logged(sweep, tmp_path):
    _, _, client, _, kids = sweep
    kid = next(r for r in kids if r.data.params.get("init.name") == "he")
    path = client.download_artifacts(kid.info.run_id, "model.npz", str(tmp_path))
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["W1", "W2", "W3", "b1", "b2", "b3"]
        assert npz["W1"].shape == (20, 2)
    report = json.loads(open(client.download_artifacts(kid.info.run_id, "gradcheck.json",
                                                       str(tmp_path))).read())
    assert report["passed"] and report["mode"] == "directional"


def test_a_sweep_whose_jobs_all_use_the_numpy_engine_builds_no_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    callbacks.prepare_kernel([([], compose_cfg(["train.engine=numpy"]))] * 2)
    assert not (tmp_path / "initreg").exists()


@pytest.mark.slow  # a real build of the kernel (~6 s of CPU): in .ci/run, not in make test
def test_on_a_new_machine_the_sweep_builds_the_kernel_once_before_any_job_starts(tmp_path):
    proc = run_pipeline(["-m", "init=he,zeros", "train.num_iterations=300",
                         "hydra.launcher.n_jobs=2"], tmp_path,
                        extra_env={"CI": "true", "NUMBA_CACHE_DIR": f"{tmp_path}/cache"})
    lines = proc.stdout.splitlines()
    built = [i for i, line in enumerate(lines) if "compiling the training kernel" in line]
    assert len(built) == 1 and built[0] < lines.index(next(
        line for line in lines if line.startswith("[start ")))
    assert len(list((tmp_path / "cache" / "initreg").glob("kernel-*/_initreg_kernel*"))) == 1
    logs = list((tmp_path / "multirun").rglob("train.log"))
    assert len(logs) == 2
    assert not [log for log in logs if "compiling" in log.read_text()]  # no job built it
