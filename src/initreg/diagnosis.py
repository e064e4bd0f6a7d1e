"""Bias/variance diagnosis from train, dev and Bayes error, with the course's basic recipe; and
the runs to which it does not apply: those that never learned (:func:`learning_failure`)."""

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from initreg import metrics

VERDICTS = ("high_bias", "high_variance", "high_bias_high_variance", "good_fit", "failed_to_learn")

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
}  # failed_to_learn: the recommendation of its failure mode, FAILURE_RECOMMENDATIONS

# Why a run predicts one class for every training example, in the order the rules are tried.
FAILURE_MODES = ("symmetry_not_broken", "dead_units", "collapsed", "constant_predictor")

FAILURE_RECOMMENDATIONS = {
    "symmetry_not_broken": (
        "Change the init to a random one such as He: when every weight starts at the same "
        "value, the hidden units of a layer compute the same function and get the same "
        "update, so they never differ."
    ),
    "dead_units": (
        "Lower the learning rate, or after a large init such as random x10 use He: a ReLU "
        "layer that outputs 0 on every training example passes no gradient of the "
        "cross-entropy back to the layers below it."
    ),
    "collapsed": (
        "Regularize less (a smaller lambd) or, in a deep network, use an init that keeps the "
        "activations' scale such as He: the output has stopped depending on the input."
    ),
    "constant_predictor": (
        "Read the cost curve before changing anything: train longer if it is still falling, "
        "lower the learning rate or change the init if it stalled, since the logged statistics "
        "do not show why every prediction is one class."
    ),
}

# An output whose predicted probability varies by at most this (standard deviation over the
# training examples) no longer depends on the input. Measured on football: 0 to 5e-8 in runs
# collapsed by L2 (lambd 20, 100) or by a small init in a deep net (random x0.01, 4 hidden
# layers); 2e-4 on the plateau of a He run at iteration 100 that learns later; above 0.07 in
# every run that learned.
FLAT_OUTPUT = 1e-6

# A last cost below (1 - this) x the best constant predictor's cross-entropy means the
# probabilities depend on the input: far above the rounding (1e-16) of a constant output's cost.
_BEATS_CONSTANT = 1e-6


@dataclass(frozen=True)
class Failure:
    """Why a run never learned: ``mode`` (one of FAILURE_MODES) and the measurements behind it."""

    mode: str
    evidence: str  # sentences stating the measured numbers


@dataclass(frozen=True)
class Diagnosis:
    """Where a model's dev error comes from, and what the course says to try next."""

    avoidable_bias: float  # train_error - bayes_error
    variance: float  # dev_error - train_error
    verdict: str  # one of VERDICTS
    recommendation: str  # one sentence: RECOMMENDATIONS[verdict], or the failure mode's
    failure_mode: str | None = None  # one of FAILURE_MODES when verdict is failed_to_learn
    evidence: str = ""  # the measurements behind a failed_to_learn verdict


def _check_error(name: str, value: float) -> float:
    """value as a float, or ValueError unless it is an error rate in [0, 1]."""
    value = float(value)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be an error rate in [0, 1], got {value}")
    return value


def diagnose(
    train_error: float,
    dev_error: float,
    bayes_error: float = 0.0,
    tolerance: float = 0.02,
    *,
    failure: Failure | None = None,
) -> Diagnosis:
    """Diagnose bias and variance: each is high when it exceeds ``tolerance`` (absolute error).

    A run that never learned (``failure`` from :func:`learning_failure`, not None) is
    ``failed_to_learn`` instead: its errors are those of predicting one class everywhere, so
    the bias/variance recipe does not apply. ``avoidable_bias`` and ``variance`` are still the
    differences of the errors given.
    """
    train_error = _check_error("train_error", train_error)
    dev_error = _check_error("dev_error", dev_error)
    bayes_error = _check_error("bayes_error", bayes_error)
    tolerance = float(tolerance)
    if not (math.isfinite(tolerance) and tolerance >= 0.0):
        raise ValueError(f"tolerance must be finite and >= 0, got {tolerance}")
    avoidable_bias = train_error - bayes_error
    variance = dev_error - train_error
    if failure is not None:
        if not isinstance(failure, Failure) or failure.mode not in FAILURE_MODES:
            raise ValueError(f"failure must be a Failure with a mode in {FAILURE_MODES} or "
                             f"None, got {failure!r}")
        return Diagnosis(avoidable_bias, variance, "failed_to_learn",
                         FAILURE_RECOMMENDATIONS[failure.mode], failure.mode, failure.evidence)
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


# --- runs that never learned ----------------------------------------------------------------

_ACT_MEAN = re.compile(r"act_mean_l([1-9][0-9]*)")


def _layers(layer_stats: Mapping[str, float]) -> int:
    """L, the highest l with ``act_mean_l{l}`` in the stats (0 when there is none)."""
    found = [_ACT_MEAN.fullmatch(str(k)) for k in layer_stats]
    return max((int(m.group(1)) for m in found if m), default=0)


def _by_layer(layer_stats: Mapping[str, float], name: str, L: int) -> str:
    """``"l1 0.0015, l2 0.0001"``: the stat ``{name}_l{l}`` of each layer that has it."""
    return ", ".join(f"l{l} {layer_stats[f'{name}_l{l}']:.2g}"  # noqa: E741
                     for l in range(1, L + 1) if f"{name}_l{l}" in layer_stats)  # noqa: E741


def _constant_cost(share: float) -> float:
    """The cross-entropy of predicting P(y = 1) = ``share`` for every example: the best any
    constant predictor reaches on a set with that share of class 1."""
    return -(share * math.log(share) + (1 - share) * math.log(1 - share))


def _costs(costs: Sequence[float]) -> list[float]:
    """The logged costs as floats; ValueError unless there is at least one."""
    c = [float(v) for v in costs]
    if not c:
        raise ValueError("costs must hold at least one cost, or be None")
    return c


def _beats_constant(costs: list[float], share1: float) -> bool:
    """Whether the last cost is below the best constant predictor's cross-entropy."""
    return costs[-1] < (1 - _BEATS_CONSTANT) * _constant_cost(share1)


def learning_failure(
    Y_train: np.ndarray,
    Y_hat_train: np.ndarray,
    layer_stats: Mapping[str, float] | None = None,
    costs: Sequence[float] | None = None,
    units_l1: int | None = None,
    *,
    flat_output: float = FLAT_OUTPUT,
) -> Failure | None:
    """Why a run never learned, or None when it did: a pure function of the run's measurements.

    Y_train, Y_hat_train: (1, m) labels and the model's predicted labels in {0, 1}.
    layer_stats: the run's last ``initreg.nn.stats.layer_stats`` (``act_mean_l{l}``,
    ``act_std_l{l}`` for l = 1..L, the output L; ``grad_norm_l{l}``; ``symmetry_l1``), or None.
    costs: the logged costs, first to last, or None. units_l1: the units of hidden layer 1
    (``W1.shape[0]``), or None when not known.

    The run never learned when it predicts one class for every training example while the
    training set holds both (its train accuracy is then exactly that class's share). The cause,
    from the first rule that holds:

    - ``symmetry_not_broken``: ``symmetry_l1 == 0`` with ``units_l1 >= 2``: every unit of
      hidden layer 1 has the same incoming weights at the end of training (the zeros init:
      when every weight starts equal, gradient descent gives the units equal updates);
    - ``dead_units``: some hidden layer has ``act_mean`` and ``act_std`` both 0, i.e. every one
      of its ReLU units outputs 0 on every training example: the output is the same for every
      input and no gradient of the cross-entropy passes back through that layer (dropout's
      noise can still revive it: on football, xavier seed 1 with keep_prob 0.86 at lr 0.1 is
      dead at step 3000 and learns by step 10000);
    - ``collapsed``: the output's ``act_std`` (of P(y = 1) over the training examples) is at
      most ``flat_output`` though no hidden layer is dead: the output no longer depends on the
      input (weights shrunk by L2, or signals vanished through a deep net);
    - ``constant_predictor``: none of these shows in the statistics (or there are none).

    Without such a cause, a run whose last cost is below the cross-entropy of the best constant
    predictor (P(y = 1) = the training share of class 1 for every example) has probabilities
    that carry information about the input even though its labels are all one class (a He run
    on its early plateau): it is learning, so the answer is None and the bias/variance
    diagnosis ("train longer") applies. The cost includes any L2 term, which only adds to it.
    """
    metrics.correct_count(Y_train, Y_hat_train)  # both (1, m) of 0/1 labels, the same m
    if units_l1 is not None and (isinstance(units_l1, bool) or not isinstance(units_l1, int)
                                 or units_l1 < 1):
        raise ValueError(f"units_l1 must be a whole number >= 1 or None, got {units_l1!r}")
    flat_output = float(flat_output)
    if not (math.isfinite(flat_output) and flat_output >= 0.0):
        raise ValueError(f"flat_output must be finite and >= 0, got {flat_output}")
    costs = None if costs is None else _costs(costs)
    stats = dict(layer_stats or {})
    y = np.asarray(Y_train).reshape(-1).astype(bool)
    y_hat = np.asarray(Y_hat_train).reshape(-1).astype(bool)
    if y.all() or not y.any() or (y_hat.any() and not y_hat.all()):
        return None  # one class only: nothing to learn; both predicted: it learned something
    cls = int(y_hat[0])
    m, k = y.size, int(np.sum(y == y_hat[0]))
    share1 = float(np.mean(y))
    evidence = [f"Every training prediction is class {cls}, so the train accuracy {k / m:.3f} "
                f"is exactly the share of class {cls} in the training set ({k} of {m})."]
    L = _layers(stats)
    hidden = range(1, L)
    dead = [l for l in hidden if stats.get(f"act_mean_l{l}") == 0.0  # noqa: E741
            and stats.get(f"act_std_l{l}") == 0.0]
    output_std = stats.get(f"act_std_l{L}", math.nan)
    if stats.get("symmetry_l1") == 0.0 and units_l1 is not None and units_l1 >= 2:
        mode = "symmetry_not_broken"
        evidence.append(f"symmetry_l1 = 0: the {units_l1} units of hidden layer 1 have "
                        "identical incoming weights.")
    elif dead:
        mode = "dead_units"
    elif math.isfinite(output_std) and output_std <= flat_output:
        mode = "collapsed"
        evidence.append(f"The predicted probability varies by {output_std:.2g} (its std over "
                        f"the training examples, limit {flat_output:g}) though no hidden "
                        f"layer is dead; mean activation by layer: "
                        f"{_by_layer(stats, 'act_mean', L - 1)}.")
    elif costs is not None and _beats_constant(costs, share1):
        return None
    else:
        mode = "constant_predictor"
        evidence.append("The layer statistics show no cause." if stats else
                        "No layer statistics were given.")
    if dead:
        names = ", ".join(str(l) for l in dead)  # noqa: E741
        evidence.append(f"Every ReLU unit of hidden layer{'s' if len(dead) > 1 else ''} "
                        f"{names} outputs 0 on every training example (act_mean = act_std = "
                        "0), so the output is the same for every input.")
    if any(f"grad_norm_l{l}" in stats for l in range(1, L + 1)):  # noqa: E741
        evidence.append(f"Last gradient norms: {_by_layer(stats, 'grad_norm', L)}.")
    if costs is not None:
        c = costs
        evidence.append(f"The cost went from {c[0]:.4g} to {c[-1]:.4g} (lowest {min(c):.4g}); "
                        f"predicting the training share of class 1 ({share1:.3f}) for every "
                        f"example costs {_constant_cost(share1):.4g}.")
    return Failure(mode, " ".join(evidence))
