"""Binary classification metrics on course-shaped arrays: labels and predictions are ``(1, m)``.

Ratios with a zero denominator (no predicted positives, no actual positives) are 0.0, silently:
a rare-class dev split must not flood a sweep's log with warnings.
"""

import numpy as np


def _labels(A: np.ndarray, name: str) -> np.ndarray:
    """``A: (1, m)`` with values in {0, 1} as a flat bool array ``(m,)``; ValueError otherwise."""
    A = np.asarray(A)
    if A.ndim != 2 or A.shape[0] != 1 or A.shape[1] == 0:
        raise ValueError(f"{name} must have shape (1, m) with m > 0, got {A.shape}")
    bad = ~np.isin(A, (0, 1))
    if bad.any():
        raise ValueError(f"{name} must hold 0/1 labels, found {np.unique(A[bad]).tolist()}")
    return A.reshape(-1).astype(bool)


def _pair(Y: np.ndarray, Y_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels and predictions, both ``(1, m)`` of the same m, as flat bool arrays."""
    y, y_hat = _labels(Y, "Y"), _labels(Y_hat, "Y_hat")
    if y.size != y_hat.size:
        raise ValueError(f"Y has {y.size} examples but Y_hat has {y_hat.size}")
    return y, y_hat


def _ratio(num: int, den: int) -> float:
    """num / den, with 0 / 0 defined as 0.0."""
    return num / den if den else 0.0


def correct_count(Y: np.ndarray, Y_hat: np.ndarray) -> int:
    """How many of the m predictions ``Y_hat: (1, m)`` equal the labels ``Y: (1, m)``."""
    y, y_hat = _pair(Y, Y_hat)
    return int(np.sum(y == y_hat))


def accuracy(Y: np.ndarray, Y_hat: np.ndarray) -> float:
    """The fraction of predictions ``Y_hat: (1, m)`` equal to the labels ``Y: (1, m)``."""
    return correct_count(Y, Y_hat) / np.asarray(Y).shape[1]


def precision(Y: np.ndarray, Y_hat: np.ndarray) -> float:
    """TP / (TP + FP): of the predicted positives, the fraction that are positive."""
    y, y_hat = _pair(Y, Y_hat)
    return _ratio(int(np.sum(y & y_hat)), int(np.sum(y_hat)))


def recall(Y: np.ndarray, Y_hat: np.ndarray) -> float:
    """TP / (TP + FN): of the actual positives, the fraction predicted positive."""
    y, y_hat = _pair(Y, Y_hat)
    return _ratio(int(np.sum(y & y_hat)), int(np.sum(y)))


def f1(Y: np.ndarray, Y_hat: np.ndarray) -> float:
    """The harmonic mean of precision and recall, as 2 TP / (2 TP + FP + FN)."""
    y, y_hat = _pair(Y, Y_hat)
    return _ratio(2 * int(np.sum(y & y_hat)), int(np.sum(y)) + int(np.sum(y_hat)))


def pr_auc(Y: np.ndarray, proba: np.ndarray) -> float:
    """The area under the precision-recall curve as average precision; ``proba: (1, m)`` in [0, 1].

    0.0 when Y has no positives (recall is then 0 / 0).
    """
    y = _labels(Y, "Y")
    p = np.asarray(proba, dtype=np.float64)
    if p.shape != (1, y.size):
        raise ValueError(f"proba must have shape (1, {y.size}) like Y, got {p.shape}")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise ValueError("proba must hold finite probabilities in [0, 1]")
    if not y.any():
        return 0.0
    return average_precision(y, p.reshape(-1))


def average_precision(y: np.ndarray, score: np.ndarray) -> float:
    """Average precision of flat bool labels ``y`` (some positive) ranked by flat ``score``.

    ``sum_k (R_k - R_(k-1)) P_k`` over the distinct scores, highest first, where P_k and R_k are
    the precision and recall of predicting positive at score >= the k-th; tied scores form one
    threshold. The same steps and order of sums as scikit-learn's ``average_precision_score``
    (the tests compare them), without importing scikit-learn (over a second per process).
    """
    order = np.argsort(score, kind="mergesort")[::-1]
    s, t = score[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), t.size - 1]  # the last index of each tied run
    tps = np.cumsum(t, dtype=np.float64)[last]
    precision = np.r_[(tps / (1 + last))[::-1], 1.0]  # tps + fps = 1 + last
    recall = np.r_[(tps / tps[-1])[::-1], 0.0]
    return max(0.0, float(-np.sum(np.diff(recall) * precision[:-1])))


def classification_report(
    Y: np.ndarray, Y_hat: np.ndarray, proba: np.ndarray, prefix: str = ""
) -> dict[str, float]:
    """accuracy, error, precision, recall, f1 and pr_auc, keyed ``f"{prefix}_{name}"`` if prefix.

    Y, Y_hat: (1, m) labels and predictions in {0, 1}; proba: (1, m) predicted P(y = 1).
    """
    acc = accuracy(Y, Y_hat)
    values = {
        "accuracy": acc,
        "error": 1.0 - acc,
        "precision": precision(Y, Y_hat),
        "recall": recall(Y, Y_hat),
        "f1": f1(Y, Y_hat),
        "pr_auc": pr_auc(Y, proba),
    }
    return {(f"{prefix}_{k}" if prefix else k): float(v) for k, v in values.items()}
