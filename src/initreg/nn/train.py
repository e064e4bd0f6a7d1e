"""Batch gradient descent for any model with ``params`` and ``cost_and_grads``."""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from initreg.nn.rng import MaskRng

Callback = Callable[[int, float, object], None]


class DivergenceError(RuntimeError):
    """Training stopped because the cost or a parameter blew up."""

    def __init__(self, iteration: int, cost: float, reason: str):
        super().__init__(f"diverged at iteration {iteration}: {reason} (cost {cost:.6g})")
        self.iteration, self.cost, self.reason = iteration, cost, reason


@dataclass
class History:
    """Costs recorded every ``log_every`` iterations (and at the last one)."""

    iterations: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _rng_for(rng: MaskRng | None, iteration: int):
    return rng(iteration) if callable(rng) else rng


def _check_divergence(i: int, cost: float, cost0: float, factor: float | None, params) -> None:
    if not math.isfinite(cost):
        raise DivergenceError(i, cost, "the cost is not finite")
    if factor is not None and cost > factor * cost0:
        raise DivergenceError(i, cost, f"the cost rose above {factor:g} x its initial {cost0:.6g}")
    for name, p in params.items():
        if not np.isfinite(p).all():
            raise DivergenceError(i, cost, f"parameter {name} is not finite")


def train(
    model,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    learning_rate: float,
    num_iterations: int,
    rng: MaskRng | None = None,
    log_every: int = 100,
    callback: Callback | None = None,
    divergence_factor: float | None = None,
) -> History:
    """Run ``num_iterations`` steps of full-batch gradient descent on ``model.params`` in place.

    X: (n_x, m); Y: (1, m). ``rng`` draws dropout masks: a Generator/RandomState that advances
    (fresh masks every iteration) or a callable ``iteration -> rng`` (the course's fixed masks);
    None trains without dropout. Every ``log_every`` iterations, and at the last, the cost is
    recorded, the run is checked for divergence (a non-finite cost or parameter, or a cost above
    ``divergence_factor`` x the cost at iteration 0, which raises ``DivergenceError``), and
    ``callback(iteration, cost, model)`` is called.
    """
    if learning_rate <= 0:
        raise ValueError(f"learning_rate={learning_rate!r} is not allowed; allowed: > 0")
    if num_iterations < 1:
        raise ValueError(f"num_iterations={num_iterations!r} is not allowed; allowed: >= 1")
    history = History()
    start = time.perf_counter()
    params = model.params
    cost0 = None
    for i in range(num_iterations):
        cost, grads = model.cost_and_grads(X, Y, rng=_rng_for(rng, i))
        if cost0 is None:
            cost0 = cost
        # Scalar checks every iteration (cheap); the parameter scan only at log points.
        if not math.isfinite(cost) or (
            divergence_factor is not None and cost > divergence_factor * cost0
        ):
            _check_divergence(i, cost, cost0, divergence_factor, params)
        if i % log_every == 0 or i == num_iterations - 1:
            _check_divergence(i, cost, cost0, divergence_factor, params)
            history.iterations.append(i)
            history.costs.append(cost)
            if callback is not None:
                callback(i, cost, model)
        for name, g in grads.items():
            params[name] -= learning_rate * g
    history.seconds = time.perf_counter() - start
    return history
