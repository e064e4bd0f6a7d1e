"""Bias/variance diagnosis from train, dev and Bayes error, with the course's basic recipe."""

import math
from dataclasses import dataclass

VERDICTS = ("high_bias", "high_variance", "high_bias_high_variance", "good_fit")

# The basic recipe: fix bias first (it must fit the training set), then variance.
RECOMMENDATIONS = {
    "high_bias": (
        "Reduce avoidable bias: use a bigger network, train longer or with a better optimizer, "
        "or regularize less."
    ),
    "high_variance": (
        "Reduce variance: get more training data or regularize more, for example with L2 "
        "weight decay or dropout."
    ),
    "high_bias_high_variance": (
        "Reduce bias first (bigger network, train longer, less regularization), then variance "
        "(more data, more regularization such as L2 or dropout)."
    ),
    "good_fit": (
        "Good fit: train error is close to the Bayes error and dev error close to train error, "
        "so keep this model and confirm it on the test set."
    ),
}


@dataclass(frozen=True)
class Diagnosis:
    """Where a model's dev error comes from, and what the course says to try next."""

    avoidable_bias: float  # train_error - bayes_error
    variance: float  # dev_error - train_error
    verdict: str  # one of VERDICTS
    recommendation: str  # one sentence, from RECOMMENDATIONS


def _check_error(name: str, value: float) -> float:
    """value as a float, or ValueError unless it is an error rate in [0, 1]."""
    value = float(value)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be an error rate in [0, 1], got {value}")
    return value


def diagnose(
    train_error: float, dev_error: float, bayes_error: float = 0.0, tolerance: float = 0.02
) -> Diagnosis:
    """Diagnose bias and variance: each is high when it exceeds ``tolerance`` (absolute error)."""
    train_error = _check_error("train_error", train_error)
    dev_error = _check_error("dev_error", dev_error)
    bayes_error = _check_error("bayes_error", bayes_error)
    tolerance = float(tolerance)
    if not (math.isfinite(tolerance) and tolerance >= 0.0):
        raise ValueError(f"tolerance must be finite and >= 0, got {tolerance}")
    avoidable_bias = train_error - bayes_error
    variance = dev_error - train_error
    high_bias, high_variance = avoidable_bias > tolerance, variance > tolerance
    if high_bias and high_variance:
        verdict = "high_bias_high_variance"
    elif high_bias:
        verdict = "high_bias"
    elif high_variance:
        verdict = "high_variance"
    else:
        verdict = "good_fit"
    return Diagnosis(avoidable_bias, variance, verdict, RECOMMENDATIONS[verdict])
