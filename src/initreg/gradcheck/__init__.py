"""A generic gradient checker: does ``f``'s analytic gradient match centered differences?

``f(params) -> (cost, grads)`` may be any model or plain function; ``params`` is a dict of float64
arrays that the checker perturbs in place and restores. ``grads`` is keyed like ``params``
(``"W1"``) or in the course's style (``"dW1"``).

Its parts: ``check`` (``gradient_check``, its modes and ranking rule; ``model_objective``),
``results`` (what a check returns), ``values`` (the centered differences and the compared
values), ``verdict`` (passed, failed or inconclusive: the kink, rounding and nondeterminism
tests) and ``training_gate`` (``gate``, the pipeline's check in front of training, with its
re-checks). Everything public is importable from ``initreg.gradcheck``.
"""

from initreg.gradcheck.check import MODES, gradient_check, model_objective
from initreg.gradcheck.results import (
    REASONS,
    VERDICTS,
    Evidence,
    GradcheckResult,
    Probe,
    WorstElement,
)
from initreg.gradcheck.training_gate import MAX_ATTEMPTS, MAX_DIRECTIONS, gate
from initreg.gradcheck.values import KINK_RATIO, MACHINE_EPS, Objective
from initreg.gradcheck.verdict import JITTER_FRACTION, MAX_PROBES, PRECISION_FACTOR, WIDE

__all__ = [
    "JITTER_FRACTION", "KINK_RATIO", "MACHINE_EPS", "MAX_ATTEMPTS", "MAX_DIRECTIONS",
    "MAX_PROBES", "MODES", "PRECISION_FACTOR", "REASONS", "VERDICTS", "WIDE", "Evidence",
    "GradcheckResult", "Objective", "Probe", "WorstElement", "gate", "gradient_check",
    "model_objective",
]
