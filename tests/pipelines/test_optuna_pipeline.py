"""hydra/sweeper=optuna, for real: trials under one parent, each gated; failures told as failed."""

import json

import optuna
import pytest
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState
from pipeline_utils import all_runs, run_pipeline

from initreg import search
from initreg.runs import sweep_children

# One worker: each batch of trials runs in the submitting process, without starting worker
# processes (the parallel workers are what test_console, test_train_pipeline and test_faults check).
FAST = ["train.num_iterations=50", "train.log_every=10", "hydra.launcher.n_jobs=1"]
PLANTED = "planted.DoubledW1Net"
SPACE = ["hydra/sweeper=optuna", f"model._target_=choice(initreg.nn.Network,{PLANTED})",
         "reg.lambd=interval(0,1)"]


def parents(client):
    return sorted((r for r in all_runs(client) if r.data.tags.get("sweep") == "true"),
                  key=lambda r: r.info.start_time)


def study(tmp, folder="multirun"):
    return optuna.load_study(study_name="initreg", storage=f"sqlite:///{tmp}/{folder}/optuna.db")


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("optuna")
    run_pipeline(["-m", *SPACE, "hydra.sweeper.n_trials=4", *FAST], tmp)
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp}/mlruns/mlflow.db")
    (parent,) = parents(client)
    return tmp, client, parent, sweep_children(client, parent.info.run_id)


def test_every_trial_is_a_gated_tracked_child_of_one_parent(searched):
    tmp, _, parent, kids = searched
    assert parent.data.tags["sweeper"] == "optuna" and parent.info.status == "FINISHED"
    assert parent.data.tags["optuna_storage"] == f"sqlite:///{tmp}/multirun/optuna.db"
    assert sorted(int(k.data.tags["optuna_trial"]) for k in kids) == [0, 1, 2, 3]
    assert all(k.data.tags["gradcheck"] in ("passed", "failed") for k in kids)
    models = {k.data.params["model._target_"] for k in kids}
    assert models == {"initreg.nn.Network", PLANTED}  # the seeded sampler drew both


def test_gated_trials_are_failed_in_optuna_and_the_others_scored_with_dev_accuracy(searched):
    tmp, _, _, kids = searched
    trials = {t.number: t for t in study(tmp).get_trials()}
    for k in kids:
        t = trials[int(k.data.tags["optuna_trial"])]
        assert t.user_attrs["run_id"] == k.info.run_id
        if k.data.params["model._target_"] == PLANTED:
            assert k.data.tags["gradcheck"] == "failed" and k.info.status == "FAILED"
            assert t.state == TrialState.FAIL and t.value is None
            assert t.user_attrs["reason"] == "gradcheck failed"
            assert k.data.tags["optuna_state"] == "FAIL"
        else:
            assert t.state == TrialState.COMPLETE
            assert t.value == k.data.metrics["dev_accuracy"]
    best = json.loads(searched[2].data.tags["optuna_best_params"])
    assert best["model._target_"] == "initreg.nn.Network"


def test_the_report_section_lists_the_trials_in_order(searched):
    tmp, client, parent, kids = searched
    (section,) = search.sections(client, parent.info.run_id, tmp / "report")
    rows = [x for x in section.markdown.splitlines() if x[:3] in {f"| {i}" for i in range(4)}]
    assert [int(r.split("|")[1]) for r in rows] == [0, 1, 2, 3]
    assert "No grid sweep of this experiment shares the trials' fixed settings" in \
        section.markdown
    assert (tmp / "report" / "optuna_trials.png").exists()


@pytest.mark.slow
def test_the_same_sweep_dir_resumes_the_study_with_new_points(searched):
    tmp, client, _, _ = searched
    run_pipeline(["-m", *SPACE, "hydra.sweeper.n_trials=6", *FAST], tmp)
    trials = study(tmp).get_trials()
    assert [t.number for t in trials] == list(range(6))
    assert trials[4].params != trials[0].params  # the seed is offset: no point drawn again
    resumed = parents(client)[-1]
    kids = sweep_children(client, resumed.info.run_id)
    assert sorted(int(k.data.tags["optuna_trial"]) for k in kids) == [4, 5]
    # a grid with the same settings is compared with the search's best
    run_pipeline(["-m", "reg.lambd=0.0,0.5", *FAST, f"hydra.sweep.dir={tmp}/grid"], tmp)
    grid = sweep_children(client, parents(client)[-1].info.run_id)
    (section,) = search.sections(client, resumed.info.run_id)
    assert "| 5 |" in section.markdown and "| 0 |" in section.markdown  # the whole study
    best = max(g.data.metrics["dev_accuracy"] for g in grid)
    assert f"dev accuracy {best:.4f}." in section.markdown and "Grid's best" in section.markdown


def test_a_trial_that_crashes_is_failed_and_stops_the_sweep(tmp_path, store):
    proc = run_pipeline(["-m", "hydra/sweeper=optuna", "model._target_=choice(planted.CrashingNet)",
                         "reg.lambd=interval(0,1)", "hydra.sweeper.n_trials=3",
                         "hydra.sweeper.n_jobs=1", *FAST], tmp_path, check=False)
    assert proc.returncode == 1
    (trial,) = study(tmp_path).get_trials()
    assert trial.state == TrialState.FAIL and trial.user_attrs["status"] == "raised"
    assert "boom: the planted crash" in trial.user_attrs["reason"]
    (parent,) = parents(store)
    assert parent.info.status == "FAILED"


@pytest.mark.parametrize(("space", "says"), [
    (["reg.keep_prob=interval(1.5,2)"], "narrow the search space"),
    ([], "hydra/sweeper=optuna has nothing to search"),
])
def test_a_bad_search_space_stops_the_search_before_any_trial_runs(tmp_path, store, space,
                                                                   says):
    proc = run_pipeline(["-m", "hydra/sweeper=optuna", *space, *FAST], tmp_path, check=False)
    assert proc.returncode == 2
    errors = [x for x in proc.stderr.splitlines() if x.startswith("error: ")]
    assert errors and says in errors[-1] and "Traceback" not in proc.stderr
    assert [r for r in all_runs(store) if r.data.tags.get("mlflow.parentRunId")] == []
