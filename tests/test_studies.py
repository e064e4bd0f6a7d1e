"""Study verdicts, derived from numbers: thresholds, sentences, subsets, the fraud baseline."""

import math

import numpy as np
import pytest

from initreg import data
from initreg.config import mlp_dims
from initreg.metrics import wilson_interval
from initreg.runs import init_label, reg_label
from initreg.studies import (
    EXPLODED_ABOVE,
    VANISHED_BELOW,
    CurvePoint,
    DepthRow,
    DevSet,
    baseline_accuracy,
    curve_verdict,
    depth_verdict,
    init_sentence,
    recovery,
)


def row(init, depth, act_first, act_last, dev=0.9, status="finished", grad=0.1, sym=0.5,
        diagnosis="good_fit", mode=""):
    return DepthRow("id", init, depth, 50, status, act_first, act_last, grad, sym, dev, "logged",
                    diagnosis=diagnosis, failure_mode=mode)


CIRCLES_DEV = DevSet(n=50, majority=0.5)  # circles: 50 dev examples, 25 of each class


def sentence(init, rows, best_dev=0.98, dev=CIRCLES_DEV):
    return init_sentence(init, rows, best_dev=best_dev, dev=dev)


@pytest.mark.parametrize(("ratio", "verdict"), [
    (VANISHED_BELOW / 2, "vanished"), (VANISHED_BELOW * 2, "stable"), (1.0, "stable"),
    (EXPLODED_ABOVE / 2, "stable"), (EXPLODED_ABOVE * 2, "exploded"), (math.inf, "exploded"),
    (0.0, "vanished"), (math.nan, "unknown"),
])
def test_depth_verdict_thresholds(ratio, verdict):
    assert depth_verdict(ratio) == verdict


def test_sentences_are_derived_from_the_deepest_run():
    rows = [row("he", 2, 1.0, 0.9), row("he", 20, 1.0, 0.5)]
    verdict, text = sentence("he", rows)
    assert verdict == "stable" and "0.5 x that of layer 1" in text and "depth 20" in text
    verdict, text = sentence("x", [row("x", 2, 1.0, 0.5), row("x", 20, 1.0, 1e-4)])
    assert verdict == "vanished" and "0.0001 x" in text
    verdict, text = sentence("y", [row("y", 2, 1.0, 50.0),
                                        row("y", 20, 1.0, 1e30, dev=math.nan, status="diverged")])
    assert verdict == "exploded" and "diverged at depth 20" in text and "recovered" not in text


def test_zeros_sentence_names_the_symmetry():
    verdict, text = sentence("zeros", [row("zeros", d, 0.0, 0.0, 0.5, sym=0.0)
                                       for d in (2, 20)])
    assert verdict == "vanished" and "symmetry_l1 = 0" in text and "never broken" in text


def test_zeros_at_chance_is_not_said_to_have_recovered():
    # the depth study as measured: zeros at 0.50 at every depth, tagged failed_to_learn; the
    # old rule compared depth 20 with zeros' own best (0.50) and said "recovered"
    zeros = [row("zeros", d, 0.0, 0.0, 0.5, sym=0.0, diagnosis="failed_to_learn",
                 mode="symmetry_not_broken") for d in (2, 5, 10, 20)]
    _, text = sentence("zeros", zeros)
    assert "recovered all the same" not in text and "0.50 at depth 20 (failed to learn)" in text
    assert "It did not recover: at depth 20 it failed to learn: symmetry not broken." in text
    # the same numbers untagged (an older run): at chance, so still not recovered
    untagged = [row("zeros", d, 0.0, 0.0, 0.5, sym=0.0) for d in (2, 20)]
    for best in (0.5, 0.98):
        assert "recovered all the same" not in sentence("zeros", untagged, best_dev=best)[1]


def test_a_deep_run_far_below_the_best_did_not_recover():
    # Xavier at depth 20 as measured: dev 0.620 while the study's best is 0.98
    _, text = sentence("xavier", [row("xavier", 2, 1.0, 0.5, 0.97),
                                  row("xavier", 20, 1.0, 8e-4, 0.62)])
    assert "recovered all the same" not in text
    assert ("It did not recover: at depth 20 its dev accuracy 0.620 is more than 0.02 below the "
            "study's best, 0.980.") in text


def test_a_recovered_vanished_start_is_said_with_its_numbers():
    _, text = sentence("lecun", [row("lecun", 2, 1.0, 0.5, 0.96),
                                 row("lecun", 20, 1.0, 1e-3, 0.96)])
    lo, hi = wilson_interval(48, 50)
    assert (f"Gradient descent recovered all the same: at depth 20 its dev accuracy (0.960, "
            f"95% interval {lo:.3f}–{hi:.3f}) is within 0.02 of the study's best, 0.980, and "
            "above 0.500 (the majority-class share of 50 dev examples).") in text


def test_recovery_needs_the_dev_set_and_an_accuracy_clearly_above_chance():
    deep = row("lecun", 20, 1.0, 1e-3, 0.56)
    # 28 of 50 is 0.56, within 0.02 of a best of 0.57, but its interval (0.42, 0.69) holds 0.5
    learned, why = recovery(deep, 0.57, CIRCLES_DEV)
    assert learned is False and "is not clearly above 0.500" in why
    learned, why = recovery(deep, 0.57, None)
    assert learned is None and "not judged" in why
    _, text = sentence("lecun", [deep], best_dev=0.57, dev=None)
    assert "Whether it learned at depth 20 is not judged" in text and "recovered" not in text
    assert recovery(row("x", 20, 1.0, 1e-3, 0.96), 0.96, DevSet(50, 0.96))[0] is False


def points(train, dev, ms=(20, 40, 80, 200)):
    return [CurvePoint("c", m / 200, m, t, d, "finished") for m, t, d in zip(ms, train, dev,
                                                                               strict=True)]


def test_curve_verdicts():
    closing = curve_verdict(points([0.0, 0.02, 0.04, 0.05], [0.3, 0.2, 0.15, 0.1]), 0.05, 0.02)
    assert closing.startswith("variance that more data would fix")
    flat = curve_verdict(points([0.0, 0.0, 0.0, 0.0], [0.2, 0.2, 0.21, 0.2]), 0.05, 0.02)
    assert flat.startswith("variance that more data of this kind does not close")
    closed = curve_verdict(points([0.0, 0.03, 0.05, 0.06], [0.3, 0.1, 0.07, 0.07]), 0.05, 0.02)
    assert closed.startswith("the variance is gone")
    biased = curve_verdict(points([0.2, 0.2, 0.2, 0.2], [0.21, 0.2, 0.21, 0.2]), 0.05, 0.02)
    assert "no variance problem" in biased and "avoidable bias" in biased
    assert "no verdict" in curve_verdict(points([0.1], [0.2], ms=(20,)), 0.05, 0.02)


def test_a_gap_closed_at_the_ends_but_not_in_between_claims_no_trend():
    # the football curve as measured: one seed, 101 dev examples; the dev error falls to 0.040,
    # rises to 0.069, and is back at 0.040 at the full set
    ms, dev = (21, 42, 84, 147, 211), [10 / 101, 6 / 101, 4 / 101, 7 / 101, 4 / 101]
    text = curve_verdict(points([0.0, 0.0, 0.012, 0.02, 0.03], dev, ms=ms), 0.06, 0.02,
                         dev_n=101)
    assert "more data closed the gap" not in text and "would fix" not in text
    assert text.startswith("no trend is claimed: the dev - train gap goes from 0.099 at m=21 "
                           "to 0.010 at m=211, but the curve is not monotone: the dev error "
                           "rises from 0.040 at m=84 to 0.069 at m=147")
    first, last = wilson_interval(91, 101), wilson_interval(97, 101)  # accuracies
    assert (f"Each point is one run scored on 101 dev examples: the dev error is 0.099 (95% "
            f"interval {1 - first[1]:.3f}–{1 - first[0]:.3f}) at m=21 and 0.040 "
            f"({1 - last[1]:.3f}–{1 - last[0]:.3f}) at m=211; the two intervals overlap, so "
            "these runs cannot tell the two ends apart.") in text


def test_no_variance_problem_needs_every_size_and_the_uncertainty_needs_the_dev_size():
    text = curve_verdict(points([0.0, 0.0, 0.0], [0.01, 0.06, 0.01], ms=(20, 80, 200)), 0.0,
                         0.02)
    assert "no variance problem" not in text and "no trend is claimed" in text
    assert text.endswith("The number of dev examples is not known (no dev_examples logged, no "
                         "stored config rebuilt), so the uncertainty of these dev errors is not "
                         "stated.")
    monotone = curve_verdict(points([0.0, 0.02, 0.04, 0.05], [0.3, 0.2, 0.15, 0.1]), 0.05,
                             0.02, dev_n=200)
    assert "narrowing at every step" in monotone and "the intervals do not overlap" in monotone


def test_train_subset_is_stratified_nested_and_seeded():
    ds = data.load_football()
    frac = {f: data.train_subset(ds, f, seed=0) for f in (0.1, 0.4, 1.0)}
    assert frac[1.0] is ds
    m = ds.Y_train.shape[1]
    assert frac[0.1].X_train.shape[1] == pytest.approx(0.1 * m, abs=2)
    assert frac[0.1].Y_train.mean() == pytest.approx(ds.Y_train.mean(), abs=0.05)
    small = {tuple(c) for c in frac[0.1].X_train.T}
    assert small <= {tuple(c) for c in frac[0.4].X_train.T}  # nested
    again = data.train_subset(ds, 0.1, seed=0)
    np.testing.assert_array_equal(again.X_train, frac[0.1].X_train)
    other = data.train_subset(ds, 0.1, seed=1)
    assert not np.array_equal(other.X_train, frac[0.1].X_train)
    np.testing.assert_array_equal(frac[0.1].X_dev, ds.X_dev)


def test_train_subset_rounds_like_stratified_split_and_keeps_one_per_class():
    ds = data.load_football()  # 105 examples of class 0: 10.5 rounds half up to 11
    sub = data.train_subset(ds, 0.1, seed=0)
    assert int((sub.Y_train == 0).sum()) == 11
    tiny = data.train_subset(ds, 0.001, seed=0)
    assert sorted(np.unique(tiny.Y_train)) == [0, 1] and tiny.Y_train.shape[1] == 2


@pytest.mark.parametrize("bad", [0, -0.1, 1.5, True])
def test_train_subset_refuses_bad_fractions(bad):
    with pytest.raises(ValueError, match=r"train_fraction=.* allowed: a number in \(0, 1\]"):
        data.train_subset(data.load_football(), bad, seed=0)


def test_labels():
    assert init_label("random", 0.01) == "random x0.01" and init_label("he", 10.0) == "he"
    assert reg_label(0.0, 1.0) == "no regularization"
    assert reg_label(0.7, 1.0) == "lambd=0.7" and reg_label(0, 0.86) == "keep_prob=0.86"


def test_mlp_dims():
    assert mlp_dims(2, 50, 3) == [2, 50, 50, 50, 1]
    assert mlp_dims(12, 5, 0) == [12, 1]
    assert mlp_dims(2, 5, -1)[1] < 1  # refused by validate, in one line


def test_fraud_baseline_is_the_share_of_legitimate_transactions():
    ds = data.load_fraud()
    assert baseline_accuracy(ds) == pytest.approx(1 - ds.Y_dev.sum() / ds.Y_dev.size)
    assert 0.97 < baseline_accuracy(ds) < 0.99


def test_the_fraud_section_escapes_run_names(tmp_path):
    from stores import new_store

    from initreg import tracking
    from initreg.runs import sweep_children
    from initreg.studies import fraud_section

    payload = "<img src=x onerror=alert(1)>"
    client = new_store(tmp_path / "mlflow.db")
    exp = tracking.experiment_id(client, "fraud", client.tracking_uri)
    parent = tracking.Run.start(client, exp, "sweep", tags={"sweep": "true"})
    for name, f1 in ((f"best {payload}", 0.7), ("useless", 0.0)):
        run = tracking.Run.start(client, exp, name, parent_id=parent.run_id)
        run.log_params({"data.name": "fraud", "data.bayes_f1_error": 0.19})
        run.add_metrics({"dev_accuracy": 0.98, "dev_precision": f1, "dev_recall": f1,
                         "dev_f1": f1, "dev_pr_auc": f1, "train_f1": f1})
        run.end()
    ds = data.load_fraud(n_samples=2000)
    section = fraud_section(sweep_children(client, parent.run_id), client, ds,
                            folder=tmp_path / "out")
    html, md = section
    for text in (html, md):
        assert "<img src=x" not in text and "best &lt;img src=x onerror=alert(1)&gt;" in text
    assert "1 have F1 = 0" in md and "| useless |" in md
