"""Tests for initreg.metrics: hand-computed cases, sklearn as an oracle, and the 0/0 convention."""

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
    f1,
    pr_auc,
    precision,
    recall,
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
