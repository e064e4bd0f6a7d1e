"""A multi-seed sweep read back from MLflow: its records, report sections and parent metrics."""

import importlib.util
import json
import math
import os
import statistics
from pathlib import Path

import pytest
from scipy import stats
from stores import new_store

from initreg import report, reuse, seeds, summary, tracking
from initreg.aggregate import Config
from initreg.lifecycle import STATUS_FILE
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
    client = new_store(tmp_path / "mlflow.db")
    exp = tracking.experiment_id(client, "football", client.tracking_uri)
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


def test_a_resumed_sweep_says_what_it_skipped_and_reused(three_seeds, tmp_path):
    _, _, kids = three_seeds
    configs, _ = seeds.sections(kids, tmp_path, {"jobs_skipped": "6"}, reused=6)
    assert "6 of its jobs already had a FINISHED run" in configs.markdown
    assert "the 6 runs of earlier sweeps it reused instead are aggregated here" in \
        configs.markdown and "The other" not in configs.markdown
    partly = seeds.sections(kids, tmp_path, {"jobs_skipped": "6"}, reused=4)[0].markdown
    assert "The other 2 are not: their runs were deleted since" in partly
    more = seeds.sections(kids, tmp_path, {"jobs_skipped": "4"}, reused=6)[0].markdown
    assert "2 of those runs finished in another sweep while this one ran." in more
    assert "The other" not in more
    assert "skipped" not in seeds.sections(kids, tmp_path, {"jobs_skipped": "0"})[0].markdown


def _job_record(folder, **record):
    folder.mkdir(parents=True)
    (folder / STATUS_FILE).write_text(json.dumps({"name": "a job", **record}))


@pytest.fixture
def resumed(store, tmp_path):
    """A sweep of seeds 0 and 1 (the earlier one), then a sweep of seeds 0, 1 and 2 resumed
    after it: its children are the seed-2 runs; its seed-0 and seed-1 jobs were skipped and
    name the earlier runs they reuse in their outcome files; one more job was skipped for a
    RUNNING holder (no reuse). The resumed sweep is closed as a real sweep is."""
    client, exp, earlier = store
    old = {(k, seed): log_run(client, exp, earlier.run_id, *k, seed, devs[seed])
           for k, devs in DEV.items() for seed in (0, 1)}
    earlier.end("FINISHED")
    parent = tracking.Run.start(client, exp, "sweep resumed",
                                tags={"sweep": "true", "jobs_skipped": "8"})
    sweep_dir = tmp_path / "multirun"
    for i, (k, devs) in enumerate(DEV.items()):
        log_run(client, exp, parent.run_id, *k, 2, devs[2])
        _job_record(sweep_dir / str(i), status="FINISHED")
    for i, run_id in enumerate(old.values()):
        _job_record(sweep_dir / f"1{i}", status="skipped", reused_run_id=run_id,
                    reason=f"resume: already has a FINISHED run ({run_id}): reused")
    _job_record(sweep_dir / "99", status="skipped", reason="resume: run x holds it")
    text = summary.close_sweep({"run_id": parent.run_id, "experiment_id": exp,
                                "tracking_uri": client.tracking_uri, "jobs_planned": 13,
                                "sweep_dir": str(sweep_dir)})
    return client, parent.run_id, old, text


def test_a_resumed_sweep_aggregates_the_runs_it_reused(resumed, capfd):
    """Its parent's aggregate metrics and selection are over seeds 0, 1 and 2, not seed 2
    alone (where every configuration has one seed, and nothing is aggregated)."""
    client, parent_id, old, text = resumed
    done = client.get_run(parent_id)
    capfd.readouterr()
    assert reuse.recorded_ids(client, parent_id) == list(old.values())
    # read back quietly: no MLflow progress bar on the report's console, and it stays off
    assert "Downloading artifacts" not in "".join(capfd.readouterr())
    assert reuse.PROGRESS_BAR not in os.environ
    earlier = next(iter(old.values()))  # a run of the earlier sweep: it reused nothing
    assert reuse.recorded_ids(client, earlier) == []
    assert "Downloading artifacts" not in "".join(capfd.readouterr())
    assert done.data.tags["jobs_reused"] == "8" and done.data.tags["jobs"] == "4"
    assert done.data.metrics["seeds"] == 3 and done.data.metrics["configurations_complete"] == 4
    he_l2 = DEV[("he", 0.7, 1.0)]
    assert done.data.metrics["selected_dev_accuracy_mean"] == pytest.approx(
        statistics.fmean(he_l2))
    assert done.data.tags["selected_config"] == "he λ0.7 k1"
    assert "4 runs and 8 reused from earlier sweeps" in text
    assert "selected on mean dev accuracy over the seeds: he λ0.7 k1" in text


def test_the_report_of_a_resumed_sweep_has_the_reused_runs_as_rows(resumed, tmp_path):
    client, parent_id, old, _ = resumed
    client.set_tag(old[(("he", 0.0, 1.0), 0)], "mlflow.runName", PAYLOAD)
    sweep = report.load_sweep(client, parent_id)
    assert len(sweep.rows) == 12
    earlier = {r.reused_from for r in sweep.rows if r.run_id in old.values()}
    assert len(earlier) == 1 and earlier != {""}
    assert {r.run_id for r in sweep.rows if r.reused_from} == set(old.values())
    _, md_path = report.write_report(client, sweep, tmp_path / "out", log_to_parent=False)
    md = md_path.read_text()
    html_text = (tmp_path / "out" / "report.html").read_text()
    assert "| he | 0.7 | 1 | 3/3 |" in md  # the seeds table: all three seeds
    assert "8 of these 12 runs are reused from earlier sweeps" in md
    assert f"{next(iter(earlier))[:8]} (reused)" in md and "this sweep" in md
    assert "<img src=x" not in md and "<img src=x" not in html_text
    assert "8 of these 12 runs are reused" in html_text
    assert report.select(sweep).run_id == next(
        r.run_id for r in sweep.rows if (r.init, r.lambd, r.keep_prob) == ("he", 0.7, 1.0)
        and not r.reused_from)  # he λ0.7's best seed is seed 2 (0.96), this sweep's own


def test_a_reused_run_deleted_since_is_left_out_with_a_note(resumed, tmp_path):
    client, parent_id, old, _ = resumed
    gone = old[(("zeros", 0.0, 1.0), 1)]
    client.delete_run(gone)
    sweep = report.load_sweep(client, parent_id)
    assert len(sweep.rows) == 11 and sweep.missing_reused == (gone,)
    _, md_path = report.write_report(client, sweep, tmp_path / "out", log_to_parent=False)
    md = md_path.read_text()
    assert (f"1 run(s) this sweep reused are no longer in the store (deleted) and are left "
            f"out: {gone}.") in md
    assert "| zeros | 0 | 1 | 2/3 |" in md


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
