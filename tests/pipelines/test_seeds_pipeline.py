"""Seeds as a sweep axis, for real: 2 configurations x 3 seeds, resumed per seed, aggregated."""

import statistics

import pytest
from mlflow.tracking import MlflowClient
from pipeline_utils import all_runs, run_pipeline

from initreg import seeds
from initreg.runs import sweep_children

FAST = ["train.num_iterations=50", "train.log_every=10", "hydra.launcher.n_jobs=2"]


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
