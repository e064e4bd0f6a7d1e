"""One ranking, one init label and one paginated search, read back from a real MLflow store."""

import math
from types import SimpleNamespace

import pytest
from stores import new_store

from initreg import report, runs, summary, tracking
from initreg.studies import best_regularization


def logged(client, exp, parent_id, name, lambd, metrics, status="FINISHED", tags=None):
    run = tracking.Run.start(client, exp, name, parent_id=parent_id, tags=tags)
    run.log_params({"init.name": "he", "init.scale": 10.0, "reg.lambd": lambd,
                    "reg.keep_prob": 1.0})
    run.add_metrics(metrics)
    run.end(status)
    return run.run_id


@pytest.fixture(scope="module")
def tied_sweep(tmp_path_factory):
    """A football sweep whose best dev accuracy is shared by three runs: one without a variance,
    two with the same variance; a failed run has a higher dev accuracy."""
    client = new_store(tmp_path_factory.mktemp("tied") / "mlflow.db")
    uri = client.tracking_uri
    exp = tracking.experiment_id(client, "football", uri)
    parent = tracking.Run.start(client, exp, "sweep", tags={"sweep": "true"})
    scores = {"train_accuracy": 0.95, "test_accuracy": 0.9}
    logged(client, exp, parent.run_id, "a no variance", 0.1, {**scores, "dev_accuracy": 0.93})
    logged(client, exp, parent.run_id, "c variance", 0.3,
           {**scores, "dev_accuracy": 0.93, "variance": 0.02})
    logged(client, exp, parent.run_id, "b variance", 0.7,
           {**scores, "dev_accuracy": 0.93, "variance": 0.02})
    logged(client, exp, parent.run_id, "d worse", 0.2,
           {**scores, "dev_accuracy": 0.90, "variance": 0.0})
    logged(client, exp, parent.run_id, "e failed", 0.5,
           {**scores, "dev_accuracy": 0.99, "variance": 0.0}, status="FAILED",
           tags={"failure_reason": "exception"})
    return client, parent.run_id


def test_rank_key_orders_by_dev_then_variance_missing_last_then_name():
    rows = [("x unfinished", "failed", 0.99, 0.0), ("a", "finished", 0.9, math.nan),
            ("b", "finished", 0.9, 0.1), ("c", "finished", 0.9, 0.1),
            ("d", "finished", 0.95, 0.3), ("e no dev", "finished", math.nan, 0.0)]
    order = sorted(rows, key=lambda r: runs.rank_key(r[1], r[2], r[3], r[0]))
    assert [r[0] for r in order] == ["d", "b", "c", "a", "e no dev", "x unfinished"]


def test_summary_report_and_studies_rank_alike(tied_sweep):
    client, parent_id = tied_sweep
    kids = runs.sweep_children(client, parent_id)
    assert runs.run_name(runs.best_run(kids)) == "b variance"
    expected = ["b variance", "c variance", "a no variance", "d worse"]
    # the end-of-sweep summary: its table, best first
    lines = summary.summary_lines(kids, best=10)
    assert [line.split("  ")[0].strip() for line in lines[1:5]] == expected
    # the report: its rows and its selection
    sweep = report.load_sweep(client, parent_id)
    assert [r.name for r in sweep.rows][:4] == expected
    assert report.select(sweep).name == "b variance"
    # the learning-curve study: the regularization of the same best run
    lambd, keep_prob, note = best_regularization(client, "football")
    assert (lambd, keep_prob) == (0.7, 1.0) and "(b variance, dev accuracy 0.930)" in note


def test_no_finished_run_means_no_best(tied_sweep):
    client, parent_id = tied_sweep
    failed = [r for r in runs.sweep_children(client, parent_id)
              if runs.job_status(r) == "failed"]
    assert runs.best_run(failed) is None and runs.best_run([]) is None


@pytest.mark.parametrize(("name", "scale", "label"), [
    ("random", 0.01, "random x0.01"), ("random", 10.0, "random x10"),
    ("random", "big", "random xbig"),
    ("he", 10.0, "he"), ("zeros", 0.01, "zeros")])
def test_init_label_names_the_scale_of_random_only(name, scale, label):
    assert runs.init_label(name, scale) == label


def test_init_order():
    labels = ["he", "custom", "random x10", "xavier", "random x0.01", "zeros", "lecun"]
    assert runs.init_order(labels) == ["zeros", "random x0.01", "random x10", "lecun", "xavier",
                                       "he", "custom"]


def test_search_runs_follows_every_page_and_stops_at_the_limit(tmp_path, monkeypatch):
    client = new_store(tmp_path / "mlflow.db")
    uri = client.tracking_uri
    exp = tracking.experiment_id(client, "pages", uri)
    parent = tracking.Run.start(client, exp, "parent", tags={"sweep": "true"})
    ids = {tracking.Run.start(client, exp, f"kid {i}", parent_id=parent.run_id).run_id
           for i in range(5)}
    monkeypatch.setattr(tracking.search, "SEARCH_PAGE", 2)  # 5 children: pages of 2, 2 and 1
    assert {r.info.run_id for r in tracking.children(client, exp, parent.run_id)} == ids
    assert len(tracking.search_runs(client, [exp], limit=3)) == 3
    everything = tracking.search_runs(client, [exp])
    (newest,) = tracking.search_runs(client, [exp], order_by=["attributes.start_time DESC"],
                                     limit=1)
    assert newest.info.start_time == max(r.info.start_time for r in everything)
    assert tracking.search_runs(client, []) == []
    assert runs.latest_sweep(client).info.run_id == parent.run_id
    assert runs.latest_sweep(client, "pages").info.run_id == parent.run_id
    assert runs.latest_sweep(client, "no such experiment") is None


# --- the gate's verdict in words ----------------------------------------------------------------

def test_gate_labels_and_sentences_keep_inconclusive_apart_from_failed():
    assert runs.gate_label("passed", None) == "passed" and runs.gate_label("", "") == "not run"
    assert runs.gate_label("inconclusive", "kink") == "inconclusive (kink)"
    assert runs.gate_label("failed", "mismatch") == "failed (mismatch)"
    assert runs.gate_sentence("passed") == "" and runs.gate_sentence("") == ""
    assert runs.gate_sentence("inconclusive", "precision", explain=False) == (
        "gradient check inconclusive (precision); trained all the same")
    assert runs.gate_sentence("failed", "mismatch") == (
        "gradient check failed (mismatch: the analytic and numeric gradients disagree); never "
        "trained")


# --- intervals and what one dev set can tell apart ----------------------------------------------

def test_correct_counts_need_the_number_of_examples_the_accuracy_was_measured_on():
    assert runs.split_size({"dev_examples": 101.0}, "dev") == 101
    assert runs.split_size({}, "dev") is None
    assert runs.split_size({"dev_examples": 0}, "dev") is None
    assert runs.correct_count(96 / 101, 101) == 96
    assert runs.correct_count(0.95, 101) is None  # not k / 101: another set
    assert runs.correct_count(0.95, None) is None and runs.correct_count(math.nan, 20) is None
    # 101 of 101: Wilson's interval does not shrink to a point (hand-checked in test_metrics)
    assert runs.accuracy_text(1.0, 101) == "1.000 (0.963–1.000)"
    assert runs.accuracy_text(0.95, None) == "0.950" and runs.accuracy_text(math.nan, 9) == "—"


def test_rivals_split_the_runs_by_the_rule_that_cannot_separate_them():
    # 101 dev examples, the best has 96 right: 5 apart is below McNemar's minimum (6)
    others = [("tie", 96), ("five", 91), ("six", 90), ("far", 60)]
    found = runs.rivals(96, others, 101)
    assert [(r.name, r.behind, r.rule) for r in found] == [
        ("tie", 0, "mcnemar"), ("five", 5, "mcnemar"), ("six", 6, "wilson")]
    # 96/101 = (0.889, 0.978) and 90/101 = (0.814, 0.937) overlap; 60/101 is far below
    text = runs.separation_sentence(101, found, compared=4)
    assert text.startswith("On dev (101 examples) the selected run is not distinguishable from "
                           "3 of the 4 other finished run(s): tie (as many correct), five (5 "
                           "examples fewer): fewer than 6 dev examples apart")
    assert "six (6 examples fewer): 6 or more dev examples apart, but their 95% Wilson " in text
    assert "far" not in text
    assert "clearly ahead of the 1 other" in runs.separation_sentence(
        101, runs.rivals(96, [("far", 60)], 101), compared=1)


def test_dev_separation_compares_only_runs_on_the_same_dev_set_and_says_what_it_cannot_do():
    best = {"dev_accuracy": 96 / 101, "dev_examples": 101}
    others = [("near", {"dev_accuracy": 94 / 101, "dev_examples": 101}),
              ("other set", {"dev_accuracy": 0.9, "dev_examples": 50})]
    text = runs.dev_separation(best, others)
    assert "from 1 of the 1 other finished run(s): near (2 examples fewer)" in text
    assert text.endswith("1 other finished run(s) are not compared: they do not log 101 dev "
                         "examples.")
    assert runs.dev_separation({"dev_accuracy": 0.9}, others).startswith(
        "How far apart the runs are on dev is not computed: the selected run does not log "
        "dev_examples")
    assert runs.missing_sizes([best, {"dev_examples": 5}]) == (
        "no 95% intervals for runs that do not log test_examples, the number of examples each "
        "accuracy was measured on")
    assert runs.missing_sizes([best, {}]).startswith(
        "no 95% intervals for runs that do not log dev_examples and test_examples, ")
    assert runs.missing_sizes([{"dev_examples": 5, "test_examples": 5}]) == ""


def test_the_summary_says_when_it_cannot_show_intervals(tied_sweep):
    client, parent_id = tied_sweep
    lines = summary.summary_lines(runs.sweep_children(client, parent_id))
    assert lines[0].split()[:5] == ["run", "train", "dev", "(95%", "interval)"]
    assert "How far apart the runs are on dev is not computed" in "\n".join(lines)
    assert ("No 95% intervals for runs that do not log dev_examples and test_examples, the "
            "number of examples each accuracy was measured on.") in lines


def _fake_run(name, status="FINISHED", **tags):
    info = SimpleNamespace(run_name=name, status=status, run_id=name)
    return SimpleNamespace(info=info, data=SimpleNamespace(tags=tags, metrics={}))


def test_runs_that_failed_to_learn_take_one_summary_line_per_failure_mode():
    zeros = [_fake_run(f"zeros l{i} kp1", diagnosis="failed_to_learn",
                       failure_mode="symmetry_not_broken") for i in range(12)]
    dead = [_fake_run("random x10", diagnosis="failed_to_learn", failure_mode="dead_units")]
    fine = [_fake_run("he l0 kp1", diagnosis="low_bias_low_variance"),
            _fake_run("he gated", status="FAILED", failure_reason="gradcheck",
                      diagnosis="failed_to_learn")]
    lines = summary.failed_to_learn_lines([*zeros, *fine, *dead], width=120)
    assert [x.strip() for x in lines] == [
        "failed_to_learn: 1 run(s), dead_units: random x10",
        "failed_to_learn: 12 run(s), symmetry_not_broken: zeros l0 kp1, zeros l1 kp1 and 10 "
        "more (make report lists them)"]
    assert all(len(x) <= 120 for x in lines)
    assert summary.failed_to_learn_lines(fine) == []
    # a name longer than the width is still shown: the line names at least one run
    long = [_fake_run("x" * 200, diagnosis="failed_to_learn", failure_mode="m")] * 2
    assert "x" * 200 + " and 1 more" in summary.failed_to_learn_lines(long)[0]


def test_a_selected_run_below_others_is_not_called_ahead_of_them():
    # over seeds the selected run is its configuration's best seed, not the best single run:
    # 60/101 = (0.497, 0.684) lies below 96/101 = (0.889, 0.978) and above 20/101
    best = {"dev_accuracy": 60 / 101, "dev_examples": 101}
    far = [("far above", {"dev_accuracy": 96 / 101, "dev_examples": 101}),
           ("far below", {"dev_accuracy": 20 / 101, "dev_examples": 101})]
    text = runs.dev_separation(best, far)
    assert "clearly ahead" not in text
    assert text == ("On dev (101 examples) the selected run is told apart from each of the 2 "
                    "other finished run(s): their 95% Wilson intervals do not overlap its own. "
                    "1 other finished run(s) score clearly higher on dev: their 95% Wilson "
                    "intervals lie above its own.")
    near = [("one more", {"dev_accuracy": 61 / 101, "dev_examples": 101}), far[0]]
    assert runs.dev_separation(best, near).startswith(
        "On dev (101 examples) the selected run is not distinguishable from 1 of the 2 other "
        "finished run(s): one more (1 example more): fewer than 6")
    assert runs.dev_separation(best, near).endswith(" 1 other finished run(s) score clearly "
                                                    "higher on dev: their 95% Wilson intervals "
                                                    "lie above its own.")


@pytest.mark.parametrize("flush_seconds, written_at_once", [(0.0, True), (60.0, False)])
def test_buffered_metrics_are_written_once_the_oldest_has_waited_flush_seconds(
        tmp_path, flush_seconds, written_at_once):
    client = new_store(tmp_path / "mlflow.db")
    uri = client.tracking_uri
    exp = tracking.experiment_id(client, "flush", uri)
    run = tracking.Run.start(client, exp, "r", flush_seconds=flush_seconds)
    run.add_metric("cost", 0.5, step=0)
    run.add_metric("cost", 0.4, step=20)
    history = client.get_metric_history(run.run_id, "cost")
    assert [m.step for m in history] == ([0, 20] if written_at_once else [])
    run.end()
    assert [m.step for m in client.get_metric_history(run.run_id, "cost")] == [0, 20]


def test_buffered_tags_are_written_with_the_metrics_in_batches_within_mlflows_limits(
        tmp_path, monkeypatch):
    client = new_store(tmp_path / "mlflow.db")
    exp = tracking.experiment_id(client, "tags", client.tracking_uri)
    run = tracking.Run.start(client, exp, "r", flush_seconds=None)
    batches = []
    log_batch = client.log_batch

    def counted(run_id, metrics=(), params=(), tags=()):
        batches.append((len(metrics), len(tags)))
        return log_batch(run_id, metrics=metrics, params=params, tags=tags)

    monkeypatch.setattr(client, "log_batch", counted)
    run.add_tags({"diagnosis": "high variance", "skipped": None})
    run.add_tags({"diagnosis": "low bias"})  # the last value of a tag is the one written
    assert "diagnosis" not in client.get_run(run.run_id).data.tags  # buffered
    run.add_tags({f"t{i}": i for i in range(150)})
    for step in range(1950):
        run.add_metric("cost", 1.0 / (step + 1), step)
    run.end()
    # at the 1,000th point a batch of 1,000 entries (100 tags at most), then the rest; at the end
    assert batches == [(900, 100), (100, 51), (950, 0)]
    data = client.get_run(run.run_id).data
    assert data.tags["diagnosis"] == "low bias" and "skipped" not in data.tags
    assert all(data.tags[f"t{i}"] == str(i) for i in range(150))
    assert len(client.get_metric_history(run.run_id, "cost")) == 1950
