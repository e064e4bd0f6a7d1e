"""Faults: Ctrl-C, a killed submitter, concurrent starts, a failing pre-check, a failed run.

Each test starts the real entry point (``pipelines/train.py``) in its own process group and
checks the store afterwards: nothing left RUNNING, nothing duplicated, the right exit status.
"""

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest
from pipeline_utils import ROOT, SUBPROCESS_PATH, TRAIN, all_runs, compose_cfg, run_pipeline

from initreg import callbacks, doctor, job, job_names, lifecycle, tracking

LONG_SWEEP = ["-m", "init=zeros,he", "reg.lambd=0.0,0.7", "hydra.launcher.n_jobs=2",
              "train.num_iterations=10000000", "train.log_every=1000",
              "train.learning_rate=0.05",  # at 0.3 He collapses near 50,000: the guard stops it
              "tracking.flush_seconds=0.2"]  # in the store as training within 0.2 s, not 2


def _uri(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/mlruns/mlflow.db"


def _start(tmp_path, args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SUBPROCESS_PATH,
           "MLFLOW_TRACKING_URI": _uri(tmp_path)}
    flags = [a for a in args if a == "-m"]
    return subprocess.Popen([sys.executable, str(TRAIN), *flags,
                             f"hydra.run.dir={tmp_path}/outputs",
                             f"hydra.sweep.dir={tmp_path}/multirun",
                             *[a for a in args if a != "-m"]],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _wait_for(predicate, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError("timed out")


def _training(client, n=2):
    found = [r for r in all_runs(client) if r.info.status == "RUNNING"
             and r.data.tags.get("mlflow.parentRunId") and "cost" in r.data.metrics]
    return found if len(found) >= n else None


def _group_alive(pgid: int) -> list[str]:
    """Live (not zombie) processes of the process group."""
    out = subprocess.run(["ps", "-o", "pid=,stat=", "-g", str(pgid)], capture_output=True,
                         text=True).stdout.split("\n")
    return [line for line in out if line.strip() and "Z" not in line.split()[1]]


def _statuses(client):
    return sorted((r.data.tags.get("sweep") == "true", r.info.status) for r in all_runs(client))


@pytest.mark.parametrize(("sig", "to_group", "code"), [
    (signal.SIGINT, True, 130),  # Ctrl-C in a terminal: the whole process group
    (signal.SIGTERM, False, 143),  # `kill <pid>` of the submitting process alone
])
def test_stopping_a_sweep_ends_every_run_killed_before_it_exits(tmp_path, store, sig, to_group,
                                                                 code):
    proc = _start(tmp_path, LONG_SWEEP)
    try:
        _wait_for(lambda: _training(store))
        (os.killpg if to_group else os.kill)(proc.pid, sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == code
    runs = all_runs(store)
    assert {r.info.status for r in runs} == {"KILLED"}, _statuses(store)
    assert len([r for r in runs if r.data.tags.get("sweep") == "true"]) == 1
    assert all(r.data.tags["failure_reason"] == "interrupted" for r in runs)
    assert _wait_for(lambda: not _group_alive(proc.pid) or None, timeout=10) is not None


def test_workers_die_with_a_sigkilled_submitter_and_end_their_runs(tmp_path, store):
    proc = _start(tmp_path, LONG_SWEEP)
    try:
        kids = _wait_for(lambda: _training(store))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        # every worker notices within a second, ends its run and the parent, and exits
        _wait_for(lambda: not _group_alive(proc.pid) or None, timeout=30)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
    statuses = {r.info.run_id: r.info.status for r in all_runs(store)}
    assert all(statuses[k.info.run_id] == "KILLED" for k in kids)
    assert set(statuses.values()) == {"KILLED"}, _statuses(store)


def test_resume_skips_a_config_that_a_live_older_run_holds(tmp_path, store):
    """The claim: a RUNNING run of the same config, in a live process, started earlier, wins."""
    cfg = compose_cfg(["train.num_iterations=50", "resume=true", f"tracking.uri={_uri(tmp_path)}"])
    exp = tracking.experiment_id(store, "football", _uri(tmp_path))
    holder = tracking.Run.start(store, exp, "holder", tags={
        "config_hash": job_names.job_hash(cfg), **doctor.process_tags()})  # this (live) process
    outcome = job.run_job(cfg)
    assert outcome.status == "skipped" and holder.run_id in outcome.reason
    assert outcome.reused_run_id is None  # a RUNNING holder may still fail: nothing to reuse
    assert [r.info.run_id for r in all_runs(store)] == [holder.run_id]  # the loser deleted
    # once the holder ends FAILED, the config is free again
    holder.end("FAILED")
    again = job.run_job(cfg)
    assert again.status == "FINISHED" and math.isfinite(again.dev_accuracy)
    # and once a run FINISHED it, a resumed job reuses that run
    reused = job.run_job(cfg)
    assert reused.status == "skipped" and reused.reused_run_id == again.run_id


def test_a_dead_holder_does_not_block_resume(tmp_path, store):
    cfg = compose_cfg(["train.num_iterations=50", "resume=true", f"tracking.uri={_uri(tmp_path)}"])
    exp = tracking.experiment_id(store, "football", _uri(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    tracking.Run.start(store, exp, "orphan", tags={"config_hash": job_names.job_hash(cfg),
                                                   **doctor.process_tags(), "pid": dead})
    assert job.run_job(cfg).status == "FINISHED"


def test_concurrent_first_starts_on_a_fresh_store_all_succeed(tmp_path):
    """Two `doctor` runs, each creating and migrating the same new store, started together
    (without the store's lock, one of them fails: 12 times in 12 tries, also with both cores
    busy; two are enough, each more is another two seconds of interpreter start)."""
    cmd = [sys.executable, str(ROOT / "pipelines" / "doctor.py"), "--uri",
           f"sqlite:///{tmp_path}/fresh/mlflow.db"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outs = [(p.wait(timeout=120), p.stdout.read()) for p in procs]
    assert [code for code, _ in outs] == [0, 0], outs


def test_two_sweeps_started_together_on_a_fresh_store(tmp_path):
    args = ["-m", "init=he", "reg.lambd=0.0,0.7", "hydra.launcher.n_jobs=1",
            "train.num_iterations=50", "train.log_every=25"]
    a = _start(tmp_path, [*args, f"hydra.sweep.dir={tmp_path}/a"])
    b = _start(tmp_path, [*args, f"hydra.sweep.dir={tmp_path}/b"])
    outs = [(p.wait(timeout=240), p.stdout.read()) for p in (a, b)]
    assert [code for code, _ in outs] == [0, 0], outs
    client = tracking.client(tracking.resolve_uri(_uri(tmp_path)))
    runs = all_runs(client)
    assert sorted(r.info.status for r in runs) == ["FINISHED"] * 6


def test_a_folder_in_use_by_a_live_sweep_is_refused(tmp_path):
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        live = {**doctor.process_tags(), "pid": str(sleeper.pid),
                "pid_started": doctor.process_started(sleeper.pid)}
        (tmp_path / lifecycle.PARENT_FILE).write_text(json.dumps({"submitter": live}))
        with pytest.raises(RuntimeError, match="belongs to the sweep that process"):
            callbacks.claim_sweep_dir(tmp_path)
    finally:
        sleeper.kill()
        sleeper.wait()
    callbacks.claim_sweep_dir(tmp_path).close()  # its sweep is gone: the folder is free


@pytest.mark.parametrize("args", [
    ["data=moons", "data.loader.noise=0.2,-1"],  # the loader's own error, not ConfigError
    ["init=he", "hydra.sweep.dir=/proc/initreg-test"],  # a folder that cannot be made
])
def test_a_failing_pre_check_refuses_the_whole_sweep_and_writes_nothing(tmp_path, store, args):
    proc = run_pipeline(["-m", *args, "train.num_iterations=50"], tmp_path, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert errors and "Traceback" not in proc.stderr
    assert all_runs(store) == []


def test_a_single_run_that_ends_failed_exits_non_zero(tmp_path, store):
    proc = run_pipeline(["model._target_=planted.DoubledW1Net", "train.num_iterations=50"],
                        tmp_path, check=False)
    assert proc.returncode == 1
    assert "error: the run ended FAILED: gradcheck failed" in proc.stderr
    (run,) = all_runs(store)
    assert run.info.status == "FAILED"


def test_a_multirun_job_without_its_parent_does_not_run_as_a_top_level_run(
        tmp_path, store, monkeypatch):
    """Defence in depth behind the pre-check: a sweep's job needs its parent run."""
    monkeypatch.setattr(job, "in_sweep", lambda: True)  # as under `-m` ...
    monkeypatch.setattr(job, "job_parent", lambda cfg: None)  # ... with no parent file
    cfg = compose_cfg(["train.num_iterations=50", f"tracking.uri={_uri(tmp_path)}"])
    with pytest.raises(RuntimeError, match="no parent run"):
        job.run_job(cfg)
    assert all_runs(store) == []
