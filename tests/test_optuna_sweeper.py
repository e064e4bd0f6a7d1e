"""The Optuna sweeper's parts: its search space, and every job outcome told to Optuna.

A job that gives no dev accuracy (NaN: gated, diverged, skipped) or raises must be a failed trial
(``TrialState.FAIL``, no value), never a score; a resumed study runs only what is left of its
budget and runs again the trials a stopped sweep left running.
"""

import json
import math

import optuna
import pytest
from hydra.core.utils import JobReturn, JobStatus
from omegaconf import OmegaConf
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from hydra_plugins.initreg_optuna._sweeper import (
    Outcome,
    outcome,
    resume,
    search_space,
    tell,
    trial_overrides,
)
from initreg.lifecycle import STATUS_FILE

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_the_search_space_in_hydra_sweep_syntax():
    space, fixed = search_space([
        "reg.lambd=interval(0,2)", "reg.keep_prob=tag(log,interval(0.5,1))",
        "init=choice(zeros,random,he)", "model.width=range(10,50,10)", "seed=0,1",
        "train.num_iterations=50"])
    assert space["reg.lambd"] == FloatDistribution(0.0, 2.0)
    assert space["reg.keep_prob"] == FloatDistribution(0.5, 1.0, log=True)
    assert space["init"] == CategoricalDistribution(["zeros", "random", "he"])
    assert space["model.width"] == IntDistribution(10, 40, step=10)  # range's end is excluded
    assert space["seed"] == CategoricalDistribution(["0", "1"])
    assert fixed == ["train.num_iterations=50"]


def test_a_trials_overrides_are_values_hydra_parses_back():
    overrides = trial_overrides({"reg.lambd": 0.1 + 0.2, "init": "he", "resume": True},
                                ["train.num_iterations=50"])
    assert overrides == ["reg.lambd=0.30000000000000004", "init=he", "resume=true",
                         "train.num_iterations=50"]
    space, fixed = search_space(overrides)
    assert space == {} and fixed == overrides


def job_return(tmp_path, value=None, error=None, record=None) -> JobReturn:
    """A JobReturn as Hydra's launchers hand it to the sweeper, with the job's status file."""
    folder = tmp_path / "job"
    folder.mkdir(exist_ok=True)
    if record is not None:
        (folder / STATUS_FILE).write_text(json.dumps(record))
    ret = JobReturn(status=JobStatus.FAILED if error else JobStatus.COMPLETED,
                    hydra_cfg=OmegaConf.create({"hydra": {"runtime": {
                        "output_dir": str(folder)}}}))
    ret.return_value = error if error else value
    return ret


def test_a_finished_job_is_its_dev_accuracy(tmp_path):
    res = outcome(job_return(tmp_path, 0.93, record={"status": "FINISHED", "run_id": "r1"}))
    # fields, not ==: Hydra's plugin scan may execute this module again (a second Outcome class)
    assert (res.value, res.status, res.reason, res.run_id, res.error) == (
        0.93, "FINISHED", "", "r1", None)
    assert res.state == "COMPLETE"


@pytest.mark.parametrize(("record", "reason"), [
    ({"status": "FAILED", "run_id": "r2", "reason": "gradcheck failed"}, "gradcheck failed"),
    ({"status": "FAILED", "run_id": "r3", "reason": "cost diverged at iteration 40"},
     "cost diverged at iteration 40"),
    ({"status": "skipped", "reason": "resume: already has a FINISHED run"},
     "resume: already has a FINISHED run"),
])
def test_nan_from_a_gated_diverged_or_skipped_job_is_a_failure(tmp_path, record, reason):
    res = outcome(job_return(tmp_path, math.nan, record=record))
    assert res.value is None and res.state == "FAIL"
    assert res.reason == reason and res.status == record["status"]
    assert res.run_id == record.get("run_id")


def test_a_job_that_raised_is_a_failure_carrying_its_exception(tmp_path):
    err = RuntimeError("boom: the planted crash")
    res = outcome(job_return(tmp_path, error=err, record={"status": "FAILED", "run_id": "r4"}))
    assert res.value is None and res.error is err and res.status == "raised"
    assert res.reason == "RuntimeError: boom: the planted crash" and res.run_id == "r4"


def test_a_return_that_is_not_a_number_is_a_failure(tmp_path):
    res = outcome(job_return(tmp_path, "oops"))
    assert res.value is None and "not a number" in res.reason


def test_failures_are_told_as_failed_trials_never_as_scores():
    study = optuna.create_study(direction="maximize")
    space = {"x": FloatDistribution(0, 1)}
    results = [Outcome(0.8, "FINISHED", run_id="a"), Outcome(None, "FAILED", "gradcheck failed"),
               Outcome(None, "raised", "RuntimeError: boom", error=RuntimeError("boom")),
               Outcome(0.9, "FINISHED")]
    for result in results:
        tell(study, study.ask(space), result)
    trials = study.get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.FAIL,
                                         TrialState.COMPLETE]
    assert [t.value for t in trials] == [0.8, None, None, 0.9]
    assert trials[1].user_attrs == {"status": "FAILED", "reason": "gradcheck failed"}
    assert trials[0].user_attrs["run_id"] == "a"
    assert study.best_trial.number == 3


def test_a_resumed_study_runs_what_is_left_and_reruns_interrupted_trials(tmp_path):
    storage = f"sqlite:///{tmp_path}/optuna.db"
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    space = {"x": FloatDistribution(0, 1)}
    tell(study, study.ask(space), Outcome(0.5, "FINISHED"))
    tell(study, study.ask(space), Outcome(None, "FAILED", "gradcheck failed"))
    cut = study.ask(space)  # its sweep was killed while it ran
    x = cut.params["x"]
    refused = study.ask(space)  # a bad value stopped its batch: no status, not counted
    study.tell(refused, state=TrialState.FAIL)

    again = optuna.load_study(study_name="s", storage=storage)
    assert resume(again, 5) == 3
    assert again.get_trials()[cut.number].state == TrialState.FAIL
    retry = again.ask(space)
    assert retry.params["x"] == x and retry.user_attrs["retry_of"] == cut.number
    assert resume(again, 1) == 0
