"""Tests for initreg.metrics: hand-computed cases, sklearn as an oracle, and the 0/0 convention."""

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from initreg.metrics import (
    accuracy,
    classification_report,
    correct_count,
    distinguishable,
    f1,
    mcnemar_can_separate,
    mcnemar_min_difference,
    pr_auc,
    precision,
    recall,
    wilson_interval,
)


def row(*values) -> np.ndarray:
    return np.array([values], dtype=np.float64)


# TP = 2 (columns 0, 4), FP = 1 (column 3), FN = 1 (column 1), TN = 1 (column 2)
Y = row(1, 1, 0, 0, 1)
Y_HAT = row(1, 0, 0, 1, 1)


def test_hand_case():
    assert correct_count(Y, Y_HAT) == 3
    assert accuracy(Y, Y_HAT) == pytest.approx(3 / 5)
    assert precision(Y, Y_HAT) == pytest.approx(2 / 3)
    assert recall(Y, Y_HAT) == pytest.approx(2 / 3)
    assert f1(Y, Y_HAT) == pytest.approx(2 / 3)


def test_hand_case_where_precision_and_recall_differ():
    y, y_hat = row(1, 0, 0, 0), row(1, 1, 1, 0)  # TP 1, FP 2, FN 0, TN 1
    assert accuracy(y, y_hat) == pytest.approx(0.5)
    assert precision(y, y_hat) == pytest.approx(1 / 3)
    assert recall(y, y_hat) == 1.0
    assert f1(y, y_hat) == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))  # = 0.5


def test_types():
    assert type(correct_count(Y, Y_HAT)) is int
    assert all(type(m(Y, Y_HAT)) is float for m in (accuracy, precision, recall, f1))


def test_zero_denominators_are_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert precision(row(1, 0), row(0, 0)) == 0.0  # nothing predicted positive
        assert recall(row(0, 0), row(1, 0)) == 0.0  # nothing actually positive
        assert f1(row(0, 0), row(0, 0)) == 0.0
        assert pr_auc(row(0, 0), row(0.2, 0.9)) == 0.0


def test_against_sklearn():
    rng = np.random.default_rng(0)
    for _ in range(20):
        m = int(rng.integers(1, 50))
        y = rng.integers(0, 2, size=(1, m)).astype(np.float64)
        y_hat = rng.integers(0, 2, size=(1, m)).astype(np.float64)
        proba = rng.random((1, m))
        kw = {"zero_division": 0.0}
        assert accuracy(y, y_hat) == pytest.approx(skm.accuracy_score(y[0], y_hat[0]))
        assert precision(y, y_hat) == pytest.approx(skm.precision_score(y[0], y_hat[0], **kw))
        assert recall(y, y_hat) == pytest.approx(skm.recall_score(y[0], y_hat[0], **kw))
        assert f1(y, y_hat) == pytest.approx(skm.f1_score(y[0], y_hat[0], **kw))
        if y.any():
            assert pr_auc(y, proba) == pytest.approx(skm.average_precision_score(y[0], proba[0]))


@pytest.mark.parametrize("decimals", [1, 2, 16])  # coarse scores tie often; 16 hardly ever
def test_average_precision_is_sklearns_to_the_bit_with_ties(decimals):
    rng = np.random.default_rng(decimals)
    for _ in range(30):
        m = int(rng.integers(2, 400))
        y = rng.random((1, m)) < rng.uniform(0.02, 0.6)
        if not y.any():
            continue
        proba = np.round(rng.random((1, m)), decimals)
        assert pr_auc(y.astype(float), proba) == skm.average_precision_score(y[0], proba[0])


def test_no_process_imports_scikit_learn_for_metrics_or_course_data():
    code = ("import sys; import initreg.metrics, initreg.data; "
            "initreg.data.load_football(); print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_pr_auc_hand_case():
    # ranked by proba: 1 (P=1, R=1/2), 0, 1 (P=2/3, R=1), 0 -> AP = 1/2 * 1 + 1/2 * 2/3
    assert pr_auc(row(1, 0, 1, 0), row(0.9, 0.8, 0.7, 0.1)) == pytest.approx(5 / 6)
    assert pr_auc(row(1, 0, 1, 0), row(0.9, 0.1, 0.8, 0.2)) == 1.0  # positives ranked first


def test_classification_report_keys_and_values():
    proba = row(0.9, 0.4, 0.2, 0.6, 0.7)
    report = classification_report(Y, Y_HAT, proba, prefix="dev")
    names = ["accuracy", "error", "precision", "recall", "f1", "pr_auc"]
    assert list(report) == [f"dev_{n}" for n in names]
    assert report["dev_accuracy"] == pytest.approx(0.6)
    assert report["dev_error"] == pytest.approx(0.4)
    assert report["dev_pr_auc"] == pytest.approx(pr_auc(Y, proba))
    assert list(classification_report(Y, Y_HAT, proba)) == names
    assert all(type(v) is float for v in report.values())


@pytest.mark.parametrize(
    "y, y_hat, message",
    [
        (np.array([1, 0]), row(1, 0), r"Y must have shape \(1, m\)"),
        (row(1, 0), np.zeros((2, 1)), r"Y_hat must have shape \(1, m\)"),
        (np.zeros((1, 0)), np.zeros((1, 0)), "m > 0"),
        (row(1, 0), row(1, 0, 1), "Y has 2 examples but Y_hat has 3"),
        (row(1, 0), row(0.7, 0), r"Y_hat must hold 0/1 labels, found \[0.7\]"),
        (row(2, 0), row(1, 0), r"Y must hold 0/1 labels, found \[2.0\]"),
    ],
)
def test_bad_inputs(y, y_hat, message):
    for metric in (accuracy, correct_count, precision, recall, f1):
        with pytest.raises(ValueError, match=message):
            metric(y, y_hat)


@pytest.mark.parametrize(
    "proba, message",
    [
        (row(0.1, 0.2, 0.3), r"proba must have shape \(1, 2\)"),
        (row(0.1, 1.2), r"probabilities in \[0, 1\]"),
        (row(0.1, np.nan), r"probabilities in \[0, 1\]"),
    ],
)
def test_pr_auc_bad_proba(proba, message):
    with pytest.raises(ValueError, match=message):
        pr_auc(row(1, 0), proba)


# --- Wilson intervals and comparisons on one evaluation set -----------------------------------

# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Statistics in
# Medicine 17: 857-872, Table II, method 3 (score interval without continuity correction).
NEWCOMBE = [((81, 263), (0.2553, 0.3662)), ((15, 148), (0.0624, 0.1605)),
            ((0, 20), (0.0, 0.1611)), ((1, 29), (0.0061, 0.1718))]


@pytest.mark.parametrize("counts, published", NEWCOMBE)
def test_wilson_matches_newcombes_published_intervals(counts, published):
    lo, hi = wilson_interval(*counts)
    assert (round(lo, 4), round(hi, 4)) == published


@pytest.mark.parametrize("n", [1, 2, 5, 20, 101, 1000])
def test_wilson_matches_scipy(n):
    from scipy.stats import binomtest  # an independent implementation

    for correct in range(n + 1) if n <= 101 else (0, 1, 499, 998, 1000):
        ref = binomtest(correct, n).proportion_ci(0.95, method="wilson")
        assert wilson_interval(correct, n) == pytest.approx((ref.low, ref.high), abs=1e-12)


def test_wilson_ends_and_types():
    assert wilson_interval(0, 101)[0] == 0.0 and wilson_interval(101, 101)[1] == 1.0
    lo, hi = wilson_interval(101, 101)
    assert round(lo, 3) == 0.963  # the docstring's example: not the point (1.0, 1.0)
    assert all(type(v) is float for v in wilson_interval(50, 101))
    assert wilson_interval(np.int64(3), np.int64(5)) == wilson_interval(3, 5)
    narrow, wide = wilson_interval(97, 101, z=1.0), wilson_interval(97, 101)
    assert wide[0] < narrow[0] < 97 / 101 < narrow[1] < wide[1]


@pytest.mark.parametrize(
    "args, message",
    [
        ((0, 0), "n must be >= 1 .* got 0"),
        ((3, -1), "n must be >= 1"),
        ((6, 5), r"correct must be in \[0, n\] = \[0, 5\], got 6"),
        ((-1, 5), "correct must be in"),
        ((2.5, 5), "correct must be a whole number of examples, got 2.5"),
        ((True, 5), "correct must be a whole number of examples, got True"),
        ((1, 5, 0.0), "z must be finite and > 0, got 0.0"),
        ((1, 5, math.nan), "z must be finite and > 0"),
    ],
)
def test_wilson_bad_inputs(args, message):
    with pytest.raises(ValueError, match=message):
        wilson_interval(*args)


def test_football_dev_runs_are_not_told_apart():
    # football's dev set has 101 examples: the sweep's best (97) and its tenth (95) overlap
    assert not distinguishable(97, 95, 101)
    assert not mcnemar_can_separate(97, 95)
    # the first count whose interval clears 97 of 101's
    assert not distinguishable(97, 86, 101) and distinguishable(97, 85, 101)
    assert wilson_interval(85, 101)[1] < wilson_interval(97, 101)[0]
    assert distinguishable(85, 97, 101)  # the order does not matter


def test_distinguishable_is_stricter_than_a_two_proportion_test():
    # the docstring's claim: whenever the intervals part, a pooled two-proportion z-test on
    # independent samples of the same size rejects at 5%, many times over
    from scipy.stats import norm

    for n in (20, 101, 1000):
        for a in range(n + 1):
            # the closest b below a that is distinguishable is the hardest case for the claim
            # (Wilson's ends rise with the count, so every smaller b is distinguishable too)
            b = next((b for b in range(a - 1, -1, -1) if distinguishable(a, b, n)), None)
            if b is not None:
                p = (a + b) / (2 * n)
                z = (a - b) / n / math.sqrt(p * (1 - p) * 2 / n)
                assert 2 * norm.sf(z) < 0.01


def test_mcnemar_min_difference_is_exact():
    from scipy.stats import binomtest

    assert mcnemar_min_difference() == 6 and mcnemar_min_difference(0.01) == 8
    for alpha in (0.05, 0.01, 0.2):
        d = mcnemar_min_difference(alpha)
        # d examples apart with no disagreement the other way: the smallest p there is
        assert binomtest(d, d).pvalue <= alpha < binomtest(d - 1, d - 1).pvalue
        # and any disagreement the other way (c) only raises it
        for diff in range(1, d):
            assert min(binomtest(diff + c, diff + 2 * c).pvalue for c in range(100)) > alpha


def test_mcnemar_can_separate():
    assert not mcnemar_can_separate(97, 97) and not mcnemar_can_separate(97, 92)
    assert mcnemar_can_separate(97, 91) and mcnemar_can_separate(91, 97)
    with pytest.raises(ValueError, match="correct counts must be >= 0, got 3 and -1"):
        mcnemar_can_separate(3, -1)
    with pytest.raises(ValueError, match="alpha must be in"):
        mcnemar_min_difference(0.0)
