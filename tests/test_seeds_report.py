"""A multi-seed sweep read back from MLflow: its records, report sections and parent metrics."""

import importlib.util
import math
import statistics
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from scipy import stats

from initreg import report, seeds, summary, tracking
from initreg.aggregate import Config
from initreg.pages import md_escape
from initreg.runs import best_run, sweep_children

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("initreg_report_cli_seeds",
                                               ROOT / "pipelines" / "report.py")
REPORT_CLI = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REPORT_CLI)

# dev accuracy of seeds 0, 1, 2 per (init, lambd, keep_prob)
DEV = {("he", 0.0, 1.0): [0.90, 0.92, 0.94], ("he", 0.7, 1.0): [0.93, 0.91, 0.96],
       ("zeros", 0.7, 1.0): [0.50, 0.50, 0.50], ("zeros", 0.0, 1.0): [0.50, 0.50, 0.50]}
PAYLOAD = "<img src=x onerror=alert(1)>"


def log_run(client, exp, parent_id, init, lambd, keep, seed, dev, status="FINISHED",
            tags=None, extra=None):
    run = tracking.Run.start(client, exp, f"init={init} lambd={lambd:g} keep_prob={keep:g}",
                             parent_id=parent_id, tags={"gradcheck": "passed", **(tags or {})})
    run.log_params({"init.name": init, "init.scale": 10.0, "reg.lambd": lambd,
                    "reg.keep_prob": keep, "seed": seed, "data.loader.split_seed": 0,
                    "tracking.uri": f"sqlite:///somewhere/{seed}", **(extra or {})})
    if status == "FINISHED":
        run.add_metrics({"dev_accuracy": dev, "train_accuracy": dev + 0.03,
                         "test_accuracy": dev - 0.01, "avoidable_bias": 0.02,
                         "variance": 0.03})
    run.end(status)
    return run.run_id


@pytest.fixture
def store(tmp_path):
    uri = tracking.resolve_uri(f"sqlite:///{tmp_path}/mlflow.db")
    client = MlflowClient(tracking_uri=uri)
    exp = tracking.experiment_id(client, "football", uri)
    parent = tracking.Run.start(client, exp, "sweep", tags={"sweep": "true"})
    return client, exp, parent


@pytest.fixture
def three_seeds(store):
    client, exp, parent = store
    for (init, lambd, keep), devs in DEV.items():
        for seed, dev in enumerate(devs):
            log_run(client, exp, parent.run_id, init, lambd, keep, seed, dev)
    # a configuration gated in one seed and diverged in another
    log_run(client, exp, parent.run_id, "he", 0.7, 0.86, 0, 0.99)
    log_run(client, exp, parent.run_id, "he", 0.7, 0.86, 1, math.nan, "FAILED",
            {"gradcheck": "failed", "failure_reason": "gradcheck"})
    log_run(client, exp, parent.run_id, "he", 0.7, 0.86, 2, math.nan, "FAILED",
            {"failure_reason": "diverged"})
    return client, parent, sweep_children(client, parent.run_id)


def test_records_are_configurations_by_seed(three_seeds):
    _, _, kids = three_seeds
    recs = seeds.records(kids)
    assert len(recs) == 15 and {r.replicate for r in recs} == {(0,), (1,), (2,)}
    assert seeds.replicate_keys(kids) == ["seed"]  # split_seed is fixed, tracking.* ignored
    assert {r.config for r in recs} == {Config(*k) for k in DEV} | {Config("he", 0.7, 0.86)}
    statuses = sorted(r.status for r in recs if r.config == Config("he", 0.7, 0.86))
    assert statuses == ["diverged", "finished", "gated"]


def test_the_sections_show_the_aggregates_and_the_claims(three_seeds, tmp_path):
    _, _, kids = three_seeds
    configs, claims = seeds.sections(kids, tmp_path / "out")
    md = configs.markdown
    he_l2 = DEV[("he", 0.7, 1.0)]
    assert (f"Selected on mean dev accuracy: he λ0.7 k1: dev {statistics.fmean(he_l2):.3f} ± "
            f"{statistics.stdev(he_l2):.3f}") in md
    assert "| he | 0.7 | 0.86 | 1/3 |" in md and "1 diverged, 1 gated" in md
    assert "| he | 0 | 1 | 3/3 | 0.950 ± 0.020 | 0.920 ± 0.020 | 0.910 ± 0.020 |" in md
    assert (tmp_path / "out" / "seeds_heatmaps.png").stat().st_size > 10_000
    assert "data:image/png;base64," in configs.html
    p = stats.ttest_rel(he_l2, DEV[("he", 0.0, 1.0)]).pvalue
    row = next(x for x in claims.markdown.splitlines()
               if x.startswith("| lambd=0.7 beats no regularization"))
    assert row.endswith(f"| 2 / 3 | 0 | +0.013 ± 0.021 | {p:.3g} | holds on average only |")
    assert "he beats zeros (lambd=0.7): holds across seeds (better in 3 of 3 seeds" in \
        claims.html
    # he > zeros at lambd 0.7; lambd 0.7 and lambd 0.7 keep_prob 0.86 against none at he
    assert len(claims.lines) == 3
    assert ("lambd=0.7 keep_prob=0.86 beats no regularization (init he): holds across seeds "
            "(better in 1 of 1 seeds, tied in 0; mean difference in dev accuracy +0.090; "
            "2 seeds left out, where only one of the two finished)") in claims.lines[2]


def test_a_resumed_sweep_says_what_it_left_out(three_seeds, tmp_path):
    _, _, kids = three_seeds
    configs, _ = seeds.sections(kids, tmp_path, {"jobs_skipped": "6"})
    assert "6 of its jobs were skipped" in configs.markdown
    assert "skipped" not in seeds.sections(kids, tmp_path, {"jobs_skipped": "0"})[0].markdown


@pytest.mark.parametrize("seed_of", [lambda i: 0, lambda i: i],
                         ids=["one seed", "another seed per configuration"])
def test_without_a_configuration_over_several_seeds_there_is_nothing_to_aggregate(
        store, tmp_path, seed_of):
    client, exp, parent = store
    for i, (init, lambd, keep) in enumerate(DEV):
        log_run(client, exp, parent.run_id, init, lambd, keep, seed_of(i), 0.9)
    kids = sweep_children(client, parent.run_id)
    assert seeds.sections(kids, tmp_path) == [] and seeds.log_aggregate(parent, kids) == {}


def test_the_parent_logs_the_aggregate_metrics(three_seeds):
    client, parent, kids = three_seeds
    logged = seeds.log_aggregate(parent, kids)
    parent.end("FINISHED")
    run = client.get_run(parent.run_id)
    he_l2 = DEV[("he", 0.7, 1.0)]
    assert run.data.metrics["selected_dev_accuracy_mean"] == pytest.approx(
        statistics.fmean(he_l2))
    assert run.data.metrics["selected_dev_accuracy_std"] == pytest.approx(
        statistics.stdev(he_l2))
    assert run.data.metrics["seeds"] == 3 and run.data.metrics["configurations"] == 5
    assert run.data.metrics["configurations_complete"] == 4
    assert run.data.tags["selected_config"] == "he λ0.7 k1"
    assert set(logged) <= set(run.data.metrics)


def test_text_from_the_runs_is_escaped(store, tmp_path):
    client, exp, parent = store
    for seed in (0, 1):
        for model in (PAYLOAD, "plain"):
            log_run(client, exp, parent.run_id, "he", 0.0, 1.0, seed, 0.9 - 0.1 * seed,
                    extra={"model._target_": model})
    sections = seeds.sections(sweep_children(client, parent.run_id), tmp_path)
    for s in sections:
        for text in (s.html, s.markdown):
            assert "<img src=x" not in text
    assert "model.\\_target\\_=&lt;img src=x onerror=alert(1)&gt;" in sections[0].markdown


def test_the_report_the_parent_and_the_champion_select_the_configuration_on_the_mean(
        three_seeds, tmp_path, capsys):
    """The best single run (he lambd=0.7 keep_prob=0.86, seed 0: dev 0.99) belongs to a
    configuration that did not finish in every seed; the selected configuration (he lambd=0.7,
    mean 0.933) is the seeds section's, and its best seed (seed 2: dev 0.96) is the selected run
    everywhere: the report's headline, the parent's tags and note, the champion."""
    client, parent, kids = three_seeds
    he_l2 = DEV[("he", 0.7, 1.0)]
    best_seed = next(k for k in kids if k.data.params["reg.lambd"] == "0.7"
                     and k.data.params["reg.keep_prob"] == "1.0"
                     and k.data.params["init.name"] == "he" and k.data.params["seed"] == "2")
    chosen = seeds.selection(kids)
    assert chosen.run.info.run_id == best_seed.info.run_id
    assert chosen.config.config == Config("he", 0.7, 1.0) and chosen.seed == (("seed", 2),)

    sweep = report.load_sweep(client, parent.run_id)
    assert report.select(sweep).run_id == best_seed.info.run_id
    title, detail = report.headline(sweep)
    assert title == (f"Selected: init=he, lambd=0.7, keep_prob=1 (mean dev accuracy "
                     f"{statistics.fmean(he_l2):.3f} ± {statistics.stdev(he_l2):.3f} over 3 "
                     "seeds): its best seed's test accuracy 0.950")
    assert "seed=2" in detail and best_seed.info.run_id in detail
    _, md_path = report.write_report(client, sweep, tmp_path / "out", log_to_parent=False)
    assert f"## {md_escape(title)}" in md_path.read_text()

    # the end of the sweep: the parent's tags, metrics and description name the same run
    uri = client.tracking_uri
    summary.close_sweep({"run_id": parent.run_id, "experiment_id": parent.experiment_id,
                         "tracking_uri": uri, "jobs_planned": 15})
    done = client.get_run(parent.run_id)
    assert done.data.tags["selected_run_id"] == best_seed.info.run_id
    assert done.data.metrics["selected_dev_accuracy"] == pytest.approx(0.96)
    assert done.data.metrics["selected_test_accuracy"] == pytest.approx(0.95)
    note = done.data.tags["mlflow.note.content"]
    assert f"runs/{best_seed.info.run_id}" in note and "over 3 seeds" in note

    # make report: its headline and the run it registers (this one logged no model)
    capsys.readouterr()
    assert REPORT_CLI.main(["--uri", uri, "--out", str(tmp_path / "cli"),
                            "--sweep", parent.run_id]) == 0
    out = capsys.readouterr().out
    assert title in out
    assert f"not registered: run {best_seed.info.run_id} logged no MLflow model" in out


def test_without_a_configuration_that_finished_in_every_seed_nothing_is_selected(store):
    client, exp, parent = store
    for seed in (0, 1):
        log_run(client, exp, parent.run_id, "he", 0.0, 1.0, seed, 0.9)
    log_run(client, exp, parent.run_id, "he", 0.7, 1.0, 0, 0.95)
    log_run(client, exp, parent.run_id, "he", 0.7, 1.0, 1, math.nan, "FAILED",
            {"failure_reason": "diverged"})
    kids = sweep_children(client, parent.run_id)
    assert seeds.selection(kids).run.data.metrics["dev_accuracy"] == 0.9  # he, complete
    log_run(client, exp, parent.run_id, "he", 0.0, 1.0, 2, math.nan, "FAILED",
            {"failure_reason": "diverged"})
    log_run(client, exp, parent.run_id, "he", 0.7, 1.0, 2, 0.95)
    kids = sweep_children(client, parent.run_id)
    assert seeds.selection(kids).run is None
    sweep = report.load_sweep(client, parent.run_id)
    assert report.select(sweep) is None
    assert report.headline(sweep)[0] == ("No configuration finished in every seed: nothing is "
                                         "selected.")


def test_with_one_seed_per_configuration_the_selection_is_the_best_run(store):
    client, exp, parent = store
    for i, (init, lambd, keep) in enumerate(DEV):
        log_run(client, exp, parent.run_id, init, lambd, keep, i, 0.8 + 0.01 * i)
    kids = sweep_children(client, parent.run_id)
    chosen = seeds.selection(kids)
    assert chosen.run.info.run_id == best_run(kids).info.run_id and chosen.config is None
    sweep = report.load_sweep(client, parent.run_id)
    assert report.select(sweep).run_id == best_run(kids).info.run_id
    assert report.headline(sweep)[0].startswith("Selected: init=zeros, lambd=0, keep_prob=1: "
                                                "test accuracy 0.820")
