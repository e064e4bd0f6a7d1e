"""Reliability guarantees: bad input, faults, signals, orphans, resume and parallel writers."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import scipy.io
from pipeline_utils import (
    CONF,
    ROOT,
    SUBPROCESS_PATH,
    TRAIN,
    all_runs,
    compose_cfg,
    run_in_process,
    run_pipeline,
)
from stores import new_store

from initreg import job, job_training
from initreg.config import ConfigError
from initreg.data import DataError
from initreg.overrides import check_overrides

FAST = ["train.num_iterations=300", "train.log_every=100"]


def _uri(tmp_path):
    return f"sqlite:///{tmp_path}/mlruns/mlflow.db"


@pytest.fixture
def seeded_store(tmp_path):
    """A store that already holds one FINISHED run, so 'unchanged' means something."""
    client = new_store(tmp_path / "mlruns" / "mlflow.db")
    exp = client.create_experiment("football")
    run = client.create_run(exp)
    client.log_metric(run.info.run_id, "dev_accuracy", 0.5)
    client.set_terminated(run.info.run_id)
    return client


def _snapshot(client):
    return sorted((r.info.run_id, r.info.status, len(r.data.metrics)) for r in all_runs(client))


BAD_INPUT = [
    ("reg.keep_prob=0", "reg.keep_prob=0.0 is not allowed; allowed: a number in (0, 1]"),
    ("reg.keep_prob=-0.5", "reg.keep_prob=-0.5 is not allowed"),
    ("reg.keep_prob=1.5", "reg.keep_prob=1.5 is not allowed"),
    ("reg.keep_prob=abc", "reg.keep_prob='abc' is not allowed; allowed: a number"),
    ("reg.lambd=-0.1", "reg.lambd=-0.1 is not allowed; allowed: a number >= 0"),
    ("train.learning_rate=0", "train.learning_rate=0.0 is not allowed; allowed: a number > 0"),
    ("train.learning_rate=-1", "train.learning_rate=-1.0 is not allowed"),
    ("train.num_iterations=0", "train.num_iterations=0 is not allowed; allowed: an integer >= 1"),
    ("train.num_iterations=1.5", "train.num_iterations=1.5 is not allowed; allowed: an integer"),
    ("model.layer_dims=[]", "model.layer_dims=[] is not allowed"),
    ("model.layer_dims=[2,0,1]", "model.layer_dims=[2, 0, 1] is not allowed"),
    ("model.layer_dims=[3,4,1]", "equal to the data's feature count (2 for football)"),
    ("init=glorot", "init='glorot' is not allowed; allowed: he, lecun, random"),
    ("init.name=glorot", "init.name='glorot' is not allowed; allowed: zeros, random, he"),
    ("data=mnist", "data='mnist' is not allowed; allowed: circles, football, fraud, moons"),
    ("gradcheck.mode=fast", "gradcheck.mode='fast' is not allowed; allowed: full, directional"),
    ("gradcheck.epsilon=0", "gradcheck.epsilon=0.0 is not allowed; allowed: a number > 0"),
    ("gradcheck.epsilon=-1e-7", "gradcheck.epsilon=-1e-07 is not allowed"),
    ("data.train_fraction=0", "data.train_fraction=0.0 is not allowed; allowed: a number in"),
    ("tracking.flush_seconds=-1",
     "tracking.flush_seconds=-1.0 is not allowed; allowed: a number of seconds in [0, 3600]"),
]


def _refusal(override, tmp_path) -> str:
    """What the entry point says about ``override``: the pre-check, then the job's own checks."""
    try:
        check_overrides([override], CONF)
    except (ConfigError, DataError) as err:
        return str(err)
    cfg = compose_cfg([*FAST, override, f"tracking.uri={_uri(tmp_path)}"])
    with pytest.raises((ConfigError, DataError)) as err:
        job.run_job(cfg)
    return str(err.value)


@pytest.mark.parametrize(("override", "message"), BAD_INPUT)
def test_bad_input_is_refused_in_one_line_and_the_store_is_unchanged(
        tmp_path, seeded_store, override, message):
    before = _snapshot(seeded_store)
    text = _refusal(override, tmp_path)
    assert message in text and "\n" not in text
    assert _snapshot(seeded_store) == before


@pytest.mark.parametrize(("override", "message"), [BAD_INPUT[0], BAD_INPUT[3], BAD_INPUT[11]])
def test_the_command_line_prints_one_error_line_and_exits_2(
        tmp_path, seeded_store, override, message):
    before = _snapshot(seeded_store)
    proc = run_pipeline([*FAST, override], tmp_path, check=False)
    assert proc.returncode == 2, proc.stderr[-2000:]
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert _snapshot(seeded_store) == before


def _write_mat(path, **overrides):
    good = scipy.io.loadmat(ROOT / "data" / "course" / "data.mat")
    arrays = {k: good[k] for k in ("X", "y", "Xval", "yval")}
    arrays.update(overrides)
    scipy.io.savemat(path, arrays)


BAD_FILES = [
    ("missing", lambda p: None, "no such file"),
    ("truncated", lambda p: p.write_bytes((ROOT / "data/course/data.mat").read_bytes()[:3000]),
     "not a readable MATLAB .mat file"),
    ("text", lambda p: p.write_text("this is not a mat file\n" * 20),
     "not a readable MATLAB .mat file"),
    ("nan", lambda p: _write_mat(p, X=np.full((211, 2), np.nan)), "non-finite"),
    ("labels", lambda p: _write_mat(p, y=np.full((211, 1), 2, dtype=np.uint8)), "labels"),
]


@pytest.mark.parametrize(("case", "write", "problem"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_a_bad_data_file_is_named_with_its_problem(tmp_path, seeded_store, case, write, problem):
    path = tmp_path / f"{case}.mat"
    write(path)
    before = _snapshot(seeded_store)
    text = _refusal(f"data.loader.path={path}", tmp_path)
    assert str(path) in text and problem in text and "\n" not in text
    assert _snapshot(seeded_store) == before


def test_a_bad_data_file_on_the_command_line(tmp_path, seeded_store):
    path = tmp_path / "text.mat"
    path.write_text("not a mat file")
    proc = run_pipeline([*FAST, f"data.loader.path={path}"], tmp_path, check=False)
    assert proc.returncode == 2
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and str(path) in errors[0], proc.stderr


def test_a_sweep_with_one_bad_job_runs_nothing(tmp_path, seeded_store):
    before = _snapshot(seeded_store)
    proc = run_pipeline(["-m", "reg.keep_prob=1.0,0", *FAST], tmp_path, check=False)
    assert proc.returncode == 2
    assert "[reg.keep_prob=0" in proc.stderr and "nothing was run" in proc.stderr
    assert _snapshot(seeded_store) == before


def test_divergence_stops_the_run_and_the_sweep_goes_on(tmp_path, store):
    # one worker: the diverging job runs first and the next one still runs after it
    proc = run_pipeline(["-m", "train.learning_rate=100,0.3", "hydra.launcher.n_jobs=1",
                         "train.num_iterations=3000", "train.log_every=500"], tmp_path)
    kids = {float(r.data.params["train.learning_rate"]): r for r in all_runs(store)
            if r.data.tags.get("mlflow.parentRunId")}
    bad, good = kids[100.0], kids[0.3]
    assert bad.info.status == "FAILED" and bad.data.tags["failure_reason"] == "diverged"
    at = int(bad.data.tags["diverged_at_iteration"])
    assert 0 < at < 2999  # stopped at once, not at the end
    assert "train_accuracy" not in bad.data.metrics
    assert good.info.status == "FINISHED"
    assert "diverged" in proc.stdout  # the summary lists it


def test_non_finite_init_is_reported_by_the_guard_at_iteration_0(tmp_path, store):
    outcome = run_in_process(["init=random", "init.scale=1e200", *FAST], tmp_path)
    assert outcome.failed  # the command line exits 1 then (test_faults)
    (run,) = all_runs(store)
    assert run.info.status == "FAILED"
    assert run.data.tags["failure_reason"] == "diverged"
    assert run.data.tags["diverged_at_iteration"] == "0"
    assert "gradcheck" not in run.data.tags  # the gate never ran on a non-finite function


def test_an_exception_ends_the_run_failed_and_the_sweep_exits_non_zero(tmp_path, store):
    # one worker: the crashing job runs first and the next one still runs after it
    proc = run_pipeline(["-m", "model._target_=planted.CrashingNet,initreg.nn.Network",
                         "hydra.launcher.n_jobs=1", *FAST], tmp_path, check=False)
    assert proc.returncode != 0
    runs = all_runs(store)
    kids = {r.data.params["model._target_"]: r for r in runs
            if r.data.tags.get("mlflow.parentRunId")}
    crashed = kids["planted.CrashingNet"]
    assert crashed.info.status == "FAILED"
    assert crashed.data.tags["error_type"] == "RuntimeError"
    assert "boom" in crashed.data.tags["error_message"]
    assert kids["initreg.nn.Network"].info.status == "FINISHED"
    (parent,) = [r for r in runs if r.data.tags.get("sweep") == "true"]
    assert parent.info.status == "FAILED"
    assert "boom" in proc.stdout + proc.stderr
    assert not [r for r in runs if r.info.status == "RUNNING"]


def _interruptible():
    """Ctrl-C's default action in the child, as in a terminal's foreground job, whatever the
    test process inherited: a script's background job ignores SIGINT, and a single run
    honours an inherited ignore (pipelines/train.py installs its handler only over the
    default one)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(tmp_path, args):
    """The pipeline in the background, its console into ``console.log``: a pipe nobody reads
    fills up with a long single run's iteration lines and blocks the run mid-write."""
    env = {**os.environ, "PYTHONPATH": SUBPROCESS_PATH,
           "MLFLOW_TRACKING_URI": _uri(tmp_path)}
    with (tmp_path / "console.log").open("ab") as console:
        return subprocess.Popen([sys.executable, str(TRAIN), *args,
                                 f"hydra.run.dir={tmp_path}/outputs",
                                 f"hydra.sweep.dir={tmp_path}/multirun"],
                                cwd=tmp_path, env=env, stdout=console,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=_interruptible)


def _wait_for(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = predicate()
        except Exception:  # the store may not exist yet
            result = None
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError("timed out")


def _training(client):
    return [r for r in all_runs(client)
            if r.info.status == "RUNNING" and "cost" in r.data.metrics]


# A run that trains until it is stopped: at learning rate 0.3 the default net collapses near
# iteration 50,000 and the guard ends it FAILED first under a slow machine; at 0.05 it trains on.
LONG = ["train.num_iterations=10000000", "train.log_every=1000", "train.learning_rate=0.05",
        "tracking.flush_seconds=0.2"]  # in the store as training within 0.2 s, not 2


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_end_the_run_killed(tmp_path, store, sig):
    proc = _start(tmp_path, LONG)
    try:
        _wait_for(lambda: _training(store))
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    (run,) = all_runs(store)
    assert run.info.status == "KILLED"
    assert run.data.tags["failure_reason"] == "interrupted"
    assert proc.returncode != 0


def test_doctor_marks_a_sigkilled_run_killed(tmp_path, store):
    proc = _start(tmp_path, LONG)
    try:
        _wait_for(lambda: _training(store))
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    (run,) = all_runs(store)
    assert run.info.status == "RUNNING"  # what SIGKILL leaves behind
    out = subprocess.run([sys.executable, str(ROOT / "pipelines" / "doctor.py"),
                          "--uri", _uri(tmp_path)], capture_output=True, text=True, check=True)
    assert f"marked KILLED {run.info.run_name}" in out.stdout
    assert store.get_run(run.info.run_id).info.status == "KILLED"


SWEEP = ["-m", "init=zeros,he", "reg.lambd=0.0,0.1,0.7", "hydra.launcher.n_jobs=1",
         "train.num_iterations=3000", "train.log_every=1000"]


def _finished_per_config(client):
    counts = {}
    for r in all_runs(client):
        if r.data.tags.get("mlflow.parentRunId") and r.info.status == "FINISHED":
            key = (r.data.params["init.name"], r.data.params["reg.lambd"])
            counts[key] = counts.get(key, 0) + 1
    return counts


def test_resume_after_a_hard_kill_finishes_every_config_exactly_once(tmp_path, store):
    proc = _start(tmp_path, [*SWEEP, "resume=true"])
    try:
        _wait_for(lambda: sum(_finished_per_config(store).values()) >= 2, timeout=120)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done_before = sum(_finished_per_config(store).values())
    assert 2 <= done_before < 6
    again = run_pipeline([*SWEEP, "resume=true"], tmp_path)
    assert f"resume: {done_before} of 6 jobs already have a FINISHED run" in again.stdout + \
        again.stderr
    assert _finished_per_config(store) == {(i, lam): 1 for i in ("zeros", "he")
                                           for lam in ("0.0", "0.1", "0.7")}
    assert not [r for r in all_runs(store) if r.info.status == "RUNNING"]
    # resume=false forces new runs (one worker, as SWEEP: no worker processes to start)
    run_pipeline(["-m", "init=he", "reg.lambd=0.0", "hydra.launcher.n_jobs=1",
                  "train.num_iterations=3000", "train.log_every=1000", "resume=false"], tmp_path)
    assert _finished_per_config(store)[("he", "0.0")] == 2


@pytest.mark.slow
def test_forty_jobs_over_four_workers_lose_nothing(tmp_path, store):
    proc = run_pipeline(["-m", "init=zeros,random,he,lecun,xavier",
                         "reg.lambd=0.0,0.1,0.3,0.7", "reg.keep_prob=1.0,0.86",
                         "hydra.launcher.n_jobs=4", "train.num_iterations=1000",
                         "train.log_every=100"], tmp_path, timeout=1800)
    assert "database is locked" not in proc.stdout + proc.stderr
    kids = [r for r in all_runs(store) if r.data.tags.get("mlflow.parentRunId")]
    assert len(kids) == 40
    for k in kids:
        assert k.info.status in ("FINISHED", "FAILED")
        assert len(k.data.params) >= 25  # those that change what the run computes
        history = store.get_metric_history(k.info.run_id, "cost")
        if k.info.status == "FINISHED":
            assert sorted(h.step for h in history) == sorted(job_training.cost_steps(1000, 100))
            names = {a.path for a in store.list_artifacts(k.info.run_id)}
            assert {"config.yaml", "cost_curve.png", "gradcheck.json", "model.npz"} <= names


def test_no_pickle_in_shipped_code():
    offenders = []
    for folder in ("src", "pipelines"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            for bad in ("import pickle", "from pickle", "allow_pickle=True", "cloudpickle"):
                if bad in text:
                    offenders.append(f"{path.relative_to(ROOT)}: {bad}")
    assert offenders == []
