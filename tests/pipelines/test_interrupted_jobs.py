"""Ctrl-C while a job opens its run, or while it ends it KILLED: the run still ends KILLED; a run
stopped after its diagnosis is described by why it stopped."""

import os
import signal

import pytest
from pipeline_utils import all_runs, compose_cfg
from stores import new_store

from initreg import interrupts, job, job_logging, tracking

FAST = ["train.num_iterations=50", "train.log_every=10"]


@pytest.fixture
def ctrl_c():
    """SIGINT handled as pipelines/train.py handles it."""
    old = signal.signal(signal.SIGINT,
                        lambda s, f: interrupts.raise_or_hold(KeyboardInterrupt()))
    yield lambda: os.kill(os.getpid(), signal.SIGINT)
    signal.signal(signal.SIGINT, old)


def _cfg(tmp_path):
    return compose_cfg([*FAST, f"tracking.uri=sqlite:///{tmp_path}/mlruns/mlflow.db"])


def test_ctrl_c_while_the_run_is_opened_ends_it_killed(tmp_path, monkeypatch, ctrl_c):
    store = new_store(tmp_path / "mlruns" / "mlflow.db")
    write = tracking.Run.log_params

    def interrupted(self, params):
        ctrl_c()  # arrives during the params' write, after the run was created
        write(self, params)

    monkeypatch.setattr(tracking.Run, "log_params", interrupted)
    with pytest.raises(KeyboardInterrupt):
        job.run_job(_cfg(tmp_path))
    (run,) = all_runs(store)
    assert run.info.status == "KILLED" and run.data.tags["failure_reason"] == "interrupted"


def test_a_second_ctrl_c_while_the_run_is_ended_killed_does_not_leave_it_running(
        tmp_path, monkeypatch, ctrl_c):
    store = new_store(tmp_path / "mlruns" / "mlflow.db")

    def first(*args, **kwargs):
        raise KeyboardInterrupt  # the first Ctrl-C, in training

    tag = tracking.Run.set_tags

    def second(self, tags):
        if tags.get("failure_reason") == "interrupted":
            ctrl_c()  # the second, while the KILLED ending writes its tags
        tag(self, tags)

    monkeypatch.setattr(job, "train_model", first)
    monkeypatch.setattr(tracking.Run, "set_tags", second)
    with pytest.raises(KeyboardInterrupt):
        job.run_job(_cfg(tmp_path))
    (run,) = all_runs(store)
    assert run.info.status == "KILLED"


@pytest.mark.parametrize(("stop", "status", "note"), [
    (KeyboardInterrupt, "KILLED", "**Interrupted**"),
    (RuntimeError, "FAILED", "**Failed:** RuntimeError"),
])
def test_a_run_stopped_after_its_diagnosis_is_described_by_why_it_stopped(
        tmp_path, monkeypatch, stop, status, note):
    store = new_store(tmp_path / "mlruns" / "mlflow.db")

    def stopped(*args, **kwargs):
        raise stop  # while its figures are drawn: the diagnosis and its note already given

    monkeypatch.setattr(job_logging.plots, "cost_curve", stopped)
    with pytest.raises(stop):
        job.run_job(_cfg(tmp_path))
    (run,) = all_runs(store)
    assert run.info.status == status
    assert run.data.tags[tracking.NOTE_TAG].startswith(note), run.data.tags[tracking.NOTE_TAG]
