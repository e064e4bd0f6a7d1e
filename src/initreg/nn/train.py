"""Batch gradient descent for any model with ``params`` and ``cost_and_grads``.

The step protocol. A model MAY also provide ``step_fn(X, Y)``, returning a function
``step(rng, need_cost) -> (cost or None, grads)`` that ``train`` then calls once per iteration
instead of ``cost_and_grads``:

- ``step`` computes the gradient over the same ``(X, Y)`` at the current ``params``, with dropout
  masks drawn from ``rng`` (None: no dropout), exactly as ``cost_and_grads(X, Y, rng=rng)`` would;
- the cost is returned only when ``need_cost`` is True, else None (so a step may skip it);
- ``grads`` (keyed like ``params``) are buffers the step owns and reuses: every call overwrites
  them, and the caller may overwrite them too (``train`` scales them in place);
- ``step_fn`` returns None when the protocol does not apply (a ``Network`` subclass that
  overrides ``cost_and_grads``), and ``train`` falls back to ``cost_and_grads``.

``Network.step_fn`` implements it over preallocated buffers; ``stats.GradRecorder.step_fn``
forwards its model's.
"""

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
    """Costs recorded every ``log_every`` iterations (and at the last one), and what a caller
    measured along the way.

    iterations, costs: the log points and the cost at each; seconds: the wall time of ``train``.
    layer_stats: per-layer statistics (``initreg.nn.stats.layer_stats``) at the first and last
    log points where the caller measured them, ``{"start": (iteration, stats), "end":
    (iteration, stats)}``; ``train`` leaves it empty, a caller's callback fills it.
    """

    iterations: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    seconds: float = 0.0
    layer_stats: dict[str, tuple[int, dict[str, float]]] = field(default_factory=dict)


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


GUARD_EVERY = 10  # between log points, the cost is checked for divergence every this many steps


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
    ``callback(iteration, cost, model)`` is called. Between log points the cost is checked every
    ``GUARD_EVERY`` iterations (every iteration for a model without a fast path), so a diverging
    run stops within a few steps.

    A model with a ``step_fn`` (the step protocol in this module's docstring; a ``Network``)
    trains through its step, which skips the cost on the other iterations; any other model
    through ``cost_and_grads``. Both give the same parameters.
    """
    if learning_rate <= 0:
        raise ValueError(f"learning_rate={learning_rate!r} is not allowed; allowed: > 0")
    if num_iterations < 1:
        raise ValueError(f"num_iterations={num_iterations!r} is not allowed; allowed: >= 1")
    history = History()
    start = time.perf_counter()
    params = model.params
    step_fn = getattr(model, "step_fn", None)
    step = step_fn(X, Y) if step_fn is not None else None
    fast = step is not None
    if not fast:
        def step(step_rng, need_cost):
            return model.cost_and_grads(X, Y, rng=step_rng)
    cost0 = None
    last = num_iterations - 1
    for i in range(num_iterations):
        log_now = i % log_every == 0 or i == last
        cost, grads = step(_rng_for(rng, i), log_now or i % GUARD_EVERY == 0)
        if cost0 is None:
            cost0 = cost
        # Scalar checks whenever there is a cost (cheap); the parameter scan only at log points.
        if cost is not None and (not math.isfinite(cost) or (
            divergence_factor is not None and cost > divergence_factor * cost0
        )):
            _check_divergence(i, cost, cost0, divergence_factor, params)
        if log_now:
            _check_divergence(i, cost, cost0, divergence_factor, params)
            history.iterations.append(i)
            history.costs.append(cost)
            if callback is not None:
                callback(i, cost, model)
        if fast:  # the step's own buffers: scale in place, then subtract (same rounding)
            for name, g in grads.items():
                np.multiply(learning_rate, g, out=g)
                np.subtract(params[name], g, out=params[name])
        else:
            for name, g in grads.items():
                params[name] -= learning_rate * g
    history.seconds = time.perf_counter() - start
    return history
