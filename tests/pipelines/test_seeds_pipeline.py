"""Seeds as a sweep axis, for real: 2 configurations x 3 seeds, resumed per seed, aggregated."""

import statistics

import pytest
from mlflow.tracking import MlflowClient
from pipeline_utils import all_runs, run_pipeline

from initreg import report, reuse, seeds, summary
from initreg.runs import sweep_children

# One worker: the jobs run in the submitting process, without starting worker processes (the
# parallel workers are what test_console, test_train_pipeline and test_faults check).
FAST = ["train.num_iterations=50", "train.log_every=10", "hydra.launcher.n_jobs=1"]


def parents(client):
    return sorted((r for r in all_runs(client) if r.data.tags.get("sweep") == "true"),
                  key=lambda r: r.info.start_time)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("seeds")
    run_pipeline(["-m", "init=zeros,he", "seed=0,1,2", *FAST], tmp)
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp}/mlruns/mlflow.db")
    (parent,) = parents(client)
    return tmp, client, parent, sweep_children(client, parent.info.run_id)


def test_every_configuration_runs_with_every_seed_under_one_parent(seeded):
    _, _, _, kids = seeded
    pairs = sorted((k.data.params["init.name"], k.data.params["seed"]) for k in kids)
    assert pairs == [(i, str(s)) for i in ("he", "zeros") for s in range(3)]
    assert len({k.data.tags["config_hash"] for k in kids}) == 6  # the seed keeps them apart
    assert {k.data.params["data.loader.split_seed"] for k in kids} == {"0"}  # splits fixed
    assert all(k.data.tags["gradcheck"] == "passed" for k in kids)
    he = [k.data.metrics["train_accuracy"] for k in kids if k.data.params["init.name"] == "he"]
    assert len(set(he)) > 1  # the seed drives the weights


@pytest.mark.slow
def test_resume_skips_the_seeds_already_run_and_runs_the_new_one(seeded):
    tmp, client, _, _ = seeded
    run_pipeline(["-m", "init=zeros,he", "seed=0,1,2,3", "resume=true", *FAST,
                  f"hydra.sweep.dir={tmp}/multirun_resumed"], tmp)
    resumed = parents(client)[-1]
    assert resumed.data.tags["jobs_planned"] == "8" and resumed.data.tags["jobs_skipped"] == "6"
    assert resumed.data.tags["jobs_reused"] == "6"
    kids = sweep_children(client, resumed.info.run_id)
    assert sorted((k.data.params["init.name"], k.data.params["seed"]) for k in kids) == [
        ("he", "3"), ("zeros", "3")]


def test_the_report_sections_aggregate_the_runs_by_seed(seeded):
    tmp, _, _, kids = seeded
    configs, claims = seeds.sections(kids, tmp / "report")
    dev = {i: [k.data.metrics["dev_accuracy"] for k in sorted(
        kids, key=lambda k: k.data.params["seed"]) if k.data.params["init.name"] == i]
        for i in ("he", "zeros")}
    he = statistics.fmean(dev["he"])
    assert "| he | 0 | 1 | 3/3 |" in configs.markdown
    assert f"{he:.3f} ± {statistics.stdev(dev['he']):.3f}" in configs.markdown
    wins = sum(h > z for h, z in zip(dev["he"], dev["zeros"], strict=True))
    better, worse = ("he", "zeros") if he > statistics.fmean(dev["zeros"]) else ("zeros", "he")
    (line,) = claims.lines
    assert line.startswith(f"{better} beats {worse} (no regularization): ")
    if better == "he":
        assert f"better in {wins} of 3 seeds" in line


@pytest.mark.slow  # two real sweeps (~25 s); `.ci/run` runs it. test_seeds_report.py has the
# same reuse in one process, on job records and a real store
def test_a_resumed_sweep_reuses_the_earlier_seeds_and_aggregates_them_all(tmp_path):
    """2 seeds, then the same sweep with 3 and resume=true: the second trains seed 2 only, and
    its parent and report are about all three seeds (the earlier sweep's runs reused)."""
    run_pipeline(["-m", "init=zeros,he", "seed=0,1", *FAST], tmp_path)
    run_pipeline(["-m", "init=zeros,he", "seed=0,1,2", "resume=true", *FAST,
                  f"hydra.sweep.dir={tmp_path}/multirun_resumed"], tmp_path)
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlruns/mlflow.db")
    first, second = parents(client)
    earlier = {k.info.run_id for k in sweep_children(client, first.info.run_id)}
    kids = sweep_children(client, second.info.run_id)
    assert sorted(k.data.params["seed"] for k in kids) == ["2", "2"]
    jobs = summary.job_records(str(tmp_path / "multirun_resumed"))
    assert {j["reused_run_id"] for j in jobs if j["status"] == "skipped"} == earlier
    assert set(reuse.recorded_ids(client, second.info.run_id)) == earlier
    done = client.get_run(second.info.run_id)
    assert done.data.metrics["seeds"] == 3 and done.data.tags["jobs_reused"] == "4"
    sweep = report.load_sweep(client, second.info.run_id)
    assert len(sweep.rows) == 6 and {r.run_id for r in sweep.rows if r.reused_from} == earlier
    configs, _ = seeds.sections(reuse.sweep_runs(client, second.info.run_id).all, tmp_path)
    assert "| he | 0 | 1 | 3/3 |" in configs.markdown
