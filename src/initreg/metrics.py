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


# --- how sure an accuracy is: intervals and comparisons on one evaluation set ------------------

Z_95 = 1.959963984540054  # the standard normal's 97.5% quantile: two-sided 95% intervals


def _count(name: str, value) -> int:
    """``value`` as an int, or ValueError unless it is a whole number (bool refused)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be a whole number of examples, got {value!r}")
    return int(value)


def wilson_interval(correct: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval ``(lo, hi)`` for an accuracy of ``correct`` out of ``n``.

    ``(p + z^2 / 2n -+ z sqrt(p (1 - p) / n + z^2 / 4n^2)) / (1 + z^2 / n)`` with p = correct / n
    (Wilson 1927; Newcombe 1998's method 3): the proportions a two-sided score test at level
    ``z`` does not reject. Unlike p -+ z sqrt(p (1 - p) / n) it stays in [0, 1] and does not
    shrink to a point at 0 / n or n / n: 101 of 101 correct gives (0.963, 1.0), not (1.0, 1.0).
    The default z gives 95% intervals. ValueError unless 0 <= correct <= n and n >= 1.
    """
    correct, n = _count("correct", correct), _count("n", n)
    if n < 1:
        raise ValueError(f"n must be >= 1 (no examples, no interval), got {n}")
    if not 0 <= correct <= n:
        raise ValueError(f"correct must be in [0, n] = [0, {n}], got {correct}")
    z = float(z)
    if not (np.isfinite(z) and z > 0):
        raise ValueError(f"z must be finite and > 0, got {z}")
    p, z2 = correct / n, z * z
    center = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # at 0 / n and n / n the end is exactly 0 or 1; the formula gives it up to rounding
    lo = 0.0 if correct == 0 else float(center - half)
    hi = 1.0 if correct == n else float(center + half)
    return lo, hi


def distinguishable(best_correct: int, other_correct: int, n: int, z: float = Z_95) -> bool:
    """Whether the Wilson intervals of two accuracies on the same ``n`` examples do not overlap.

    A conservative rule, so True is the claim it can back: "clearly different". Two 95%
    intervals that just fail to overlap mean a difference far beyond what a test at 5% needs
    (about 2.8 standard errors of the difference for independent samples of equal spread,
    against 1.96), and two runs scored on the same examples usually err together, which makes
    the real difference's spread smaller still. False only says "not shown different by this
    rule", not "equal"; :func:`mcnemar_can_separate` gives the claim "not distinguishable".
    """
    lo_a, hi_a = wilson_interval(best_correct, n, z)
    lo_b, hi_b = wilson_interval(other_correct, n, z)
    return lo_a > hi_b or lo_b > hi_a


def mcnemar_min_difference(alpha: float = 0.05) -> int:
    """The fewest examples by which two runs' correct counts on the same set must differ before
    an exact two-sided McNemar test could call them different at level ``alpha`` (6 at 0.05).

    The test looks only at the examples where the runs disagree: b right only for one run, c
    only for the other. With b - c = d its p-value is ``2 P(Binomial(b + c, 1/2) <= c)``,
    smallest when c = 0, where it is 2 / 2^d: so no split of the disagreements can give
    p <= alpha unless 2 / 2^d <= alpha.
    """
    alpha = float(alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    d = 1
    while 2.0 / 2.0**d > alpha:
        d += 1
    return d


def mcnemar_can_separate(best_correct: int, other_correct: int, alpha: float = 0.05) -> bool:
    """False when two runs scored on the same examples are *not distinguishable*, provably.

    False: their correct counts differ by fewer than ``mcnemar_min_difference(alpha)`` examples,
    so an exact two-sided McNemar test at ``alpha`` cannot separate them whatever their
    per-example predictions are. True: it might, depending on those predictions (which the
    counts alone do not say; :func:`distinguishable` is the conservative rule for "different").
    On football's dev set (101 examples) 6 examples are 0.059 of accuracy.
    """
    best, other = _count("best_correct", best_correct), _count("other_correct", other_correct)
    if best < 0 or other < 0:
        raise ValueError(f"correct counts must be >= 0, got {best} and {other}")
    return abs(best - other) >= mcnemar_min_difference(alpha)
