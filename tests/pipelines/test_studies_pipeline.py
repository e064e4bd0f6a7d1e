"""The studies through the real pipeline: per-layer metrics, symmetry, and the study commands."""

import os
import subprocess
import sys

import pytest
from pipeline_utils import ROOT, all_runs, run_in_process, run_pipeline

from initreg import job_training, studies
from initreg.runs import latest_sweep, sweep_children

# One worker: the jobs run in the submitting process, without starting worker processes (the
# parallel workers are what test_console, test_train_pipeline and test_faults check).
QUICK = ["train.num_iterations=120", "train.log_every=40", "hydra.launcher.n_jobs=1"]


def run_study(script: str, args, tmp_path, timeout=900):
    """pipelines/<script> for real, into the temporary store, sweep folder and reports."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlruns/mlflow.db"}
    cmd = [sys.executable, str(ROOT / "pipelines" / script), "--jobs", "1",
           "--out", str(tmp_path / "reports"), "--multirun", str(tmp_path / "multirun"), *args]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def history(client, run, key):
    return [(m.step, m.value) for m in sorted(client.get_metric_history(run.info.run_id, key),
                                              key=lambda m: m.step)]


def test_zeros_never_breaks_symmetry_and_he_does(tmp_path, store):
    run_pipeline(["-m", "init=zeros,he", "data=circles", "model=mlp", "model.depth=3",
                  "model.width=8", *QUICK], tmp_path)
    runs = {r.data.params["init.name"]: r for r in all_runs(store)
            if r.data.tags.get("mlflow.parentRunId")}
    steps = [0, 40, 80, 119]
    for init, run in runs.items():
        sym = history(store, run, "symmetry_l1")
        assert [s for s, _ in sym] == steps
        if init == "zeros":
            assert all(v == 0.0 for _, v in sym)
        else:
            assert all(v > 0.1 for _, v in sym)
        for key in ("act_std_l", "act_mean_l", "grad_norm_l"):
            for layer in range(1, 5):  # 3 hidden layers and the output
                assert [s for s, _ in history(store, run, f"{key}{layer}")] == steps
        # the same batched writes as the cost: every stat point is one of the cost's steps
        # (the cost also has log-spaced points early on: initreg.job_training.cost_steps)
        cost = [s for s, _ in history(store, run, "cost")]
        assert cost == sorted(job_training.cost_steps(120, 40)) and set(steps) <= set(cost)
        files = {f.path for f in store.list_artifacts(run.info.run_id)}
        assert "layer_stats.png" in files
    he0 = dict(history(store, runs["he"], "grad_norm_l1"))[0]
    assert he0 > 0 and dict(history(store, runs["zeros"], "grad_norm_l1"))[0] == 0.0


def test_train_fraction_trains_on_a_subset(tmp_path, store):
    run_in_process(["data.train_fraction=0.2", "train.num_iterations=50"], tmp_path)
    (run,) = all_runs(store)
    assert run.data.metrics["train_examples"] == 42  # round(0.2 x 211), stratified


def test_fraud_selects_the_f1_diagnosis(tmp_path, store):
    run_in_process(["data=fraud", "train.num_iterations=30", "data.loader.n_samples=2000"],
                   tmp_path)
    (run,) = all_runs(store)
    assert run.data.params["diagnosis.metric"] == "f1"
    assert run.data.params["data.bayes_f1_error"] == "0.19"
    assert run.data.params["train.num_iterations"] == "30"


@pytest.mark.slow
def test_study_depth_writes_its_section(tmp_path, store):
    proc = run_study("study_depth.py", ["init=zeros,random_small,random,he",
                                        "model.depth=2,20", "train.num_iterations=60",
                                        "train.log_every=30"], tmp_path)
    parent = latest_sweep(store, "depth_study")
    kids = sweep_children(store, parent.info.run_id)
    assert len(kids) == 8
    folder = tmp_path / "reports" / parent.info.run_id
    md = (folder / "depth_study.md").read_text()
    html = (folder / "depth_study.html").read_text()
    assert "data:image/png;base64," in html and "depth_activation_std.png" in md
    for line in ("- zeros: vanished", "- random x0.01: vanished", "- random x10: exploded",
                 "- he: stable"):
        assert line in md and line[2:] in proc.stdout
    # every run logs its step-0 statistics before the gate, also those gated or diverged
    assert "Finite width" in md and "recomputed" not in md
    logged = {f.path for f in store.list_artifacts(parent.info.run_id, "study")}
    assert {"study/depth_study.html", "study/depth_study.md"} <= logged


@pytest.mark.slow
def test_study_curve_uses_the_best_regularization_of_the_latest_sweep(tmp_path, store):
    run_pipeline(["-m", "reg.lambd=0.0,0.7", "reg.keep_prob=1.0,0.86", *QUICK], tmp_path)
    football = latest_sweep(store, "football")
    kids = sweep_children(store, football.info.run_id)
    best = min(kids, key=lambda r: (-r.data.metrics["dev_accuracy"],
                                    r.data.metrics["variance"], r.info.run_name))
    expected = (float(best.data.params["reg.lambd"]), float(best.data.params["reg.keep_prob"]))
    lambd, kp, note = studies.best_regularization(store)
    if expected == (0.0, 1.0):
        assert (lambd, kp) == (0.7, 1.0) and "uses no regularization" in note
    else:
        assert (lambd, kp) == expected and best.info.run_name in note
    proc = run_study("study_curve.py", ["data.train_fraction=0.2,1.0",
                                        "train.num_iterations=200"], tmp_path)
    assert "regularization:" in proc.stdout
    parent = latest_sweep(store, "learning_curve")
    runs = sweep_children(store, parent.info.run_id)
    assert len(runs) == 4
    folder = tmp_path / "reports" / parent.info.run_id
    md = (folder / "learning_curve.md").read_text()
    assert "- no regularization:" in md and "learning_curve.png" in md
    assert (folder / "learning_curve.png").exists()
    curve = store.get_metric_history(parent.info.run_id, "lc_dev_error/no_regularization")
    assert sorted(m.step for m in curve) == [42, 211]


def test_best_regularization_without_a_sweep_says_so(store):
    lambd, kp, note = studies.best_regularization(store)
    assert (lambd, kp) == (0.7, 1.0) and "no sweep" in note


@pytest.mark.slow
def test_fraud_section_shows_the_baseline(tmp_path, store):
    run_pipeline(["-m", "data=fraud", "init=zeros,he", "model=fraud",
                  "train.num_iterations=300", "hydra.launcher.n_jobs=2"], tmp_path)
    runs = [r for r in all_runs(store) if r.data.tags.get("mlflow.parentRunId")]
    from initreg import data

    ds = data.load_fraud()
    html, md = studies.fraud_section(runs, store, ds, folder=tmp_path / "fraud")
    assert f"{studies.baseline_accuracy(ds):.4f} accurate on dev" in md
    for col in ("precision", "recall", "F1", "PR-AUC", "dev accuracy"):
        assert col in md
    assert "data:image/png;base64," in html
    zeros = next(r for r in runs if r.data.params["init.name"] == "zeros")
    assert zeros.data.metrics["dev_f1"] == 0.0  # the useless detector the baseline exposes
