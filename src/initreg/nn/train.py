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

A step MAY also take the update: when it has ``descends = True``, ``step(rng, need_cost,
learning_rate)`` also subtracts ``learning_rate x grads`` from ``params`` in place, exactly as
``train`` would (``grads`` then hold the scaled gradient). ``train`` asks for it only on iterations
that have no log point and no divergence check, so that callbacks and the guard see the same
parameters as without it. ``step_fn(X, Y, engine=...)`` picks the engine (``train``'s ``engine``,
passed on when given).

A step MAY also run many iterations at once: ``step.descend(rng, start, stop, learning_rate,
cost_every) -> costs`` takes the steps of iterations ``start .. stop - 1`` as the one-step calls
would (masks drawn from ``rng``, a Generator or None, in the same order), and returns the costs
of the iterations that are multiples of ``cost_every`` (before their steps). ``train`` uses it
for the iterations between two log points, when ``rng`` is a Generator or None, and gives those
costs to the divergence guard afterwards (see ``_descend``): Python's per-step overhead is then
paid per log interval. A step whose ``dropping`` is False (no layer drops units) is given no
``rng`` at all: it would draw no mask from it, so any ``rng`` trains it many steps at once.

``Network.step_fn`` implements it over preallocated buffers (NumPy, or the compiled engine of
``initreg.nn.compiled``, which descends, also many steps at once); ``stats.GradRecorder.step_fn``
forwards its model's.
"""

import bisect
import math
import time
from collections.abc import Callable, Iterable
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
    """Costs recorded at ``train``'s log points (every ``log_every`` iterations, those of
    ``log_at``, the last), and what a caller measured along the way.

    iterations, costs: the log points and the cost at each; seconds: the wall time of ``train``.
    layer_stats: per-layer statistics (``initreg.nn.stats.layer_stats``) at the first and last
    log points where the caller measured them, ``{"start": (iteration, stats), "end":
    (iteration, stats)}``; ``train`` leaves it empty, a caller's callback fills it.
    """

    iterations: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    seconds: float = 0.0
    engine: str = "numpy"  # the engine that ran the steps (``compiled`` or ``numpy``)
    layer_stats: dict[str, tuple[int, dict[str, float]]] = field(default_factory=dict)


def _rng_for(rng: MaskRng | None, iteration: int):
    return rng(iteration) if callable(rng) else rng


GUARD_EVERY = 10  # between log points, the cost is checked for divergence every this many steps
COLLAPSE_FACTOR = 2.0  # a cost that stays above this x its lowest value ...
COLLAPSE_WINDOW = 1000  # ... for this many iterations has collapsed
STUCK_FACTOR = 1.1  # a cost that stops changing above this x its lowest value is stuck there
STUCK_CHANGE = 1e-9  # "stopped changing": this relative change or less from one check to the next


class DivergenceGuard:
    """The divergence checks of one run, fed every cost that training computes.

    ``see(i, cost)`` raises ``DivergenceError`` when the cost is not finite or, with a
    ``factor``, when:

    - blow-up: the cost is above ``factor`` x its initial value;
    - collapse: the cost has been above ``COLLAPSE_FACTOR`` x its lowest value at every check
      for ``COLLAPSE_WINDOW`` iterations: knocked into a much worse state, it stays there;
    - stuck: the costs of two checks ``GUARD_EVERY`` iterations apart agree to
      ``STUCK_CHANGE`` while above ``STUCK_FACTOR`` x its lowest value (a network whose ReLUs
      all died does this: only its output bias still moves, to a fixed point or a 2-cycle).

    The lowest value counts as no less than the initial cost / ``factor``, so that noise of a
    few times a cost near 0 is not a collapse. A spike that recovers is no divergence: deep
    nets can spike far above their lowest cost and train on.
    """

    def __init__(self, factor: float | None):
        self.factor = factor
        self.initial: float | None = None
        self.lowest, self.lowest_at = math.inf, 0
        self.above_since: int | None = None  # the first check of the current collapse
        self.last_check: float | None = None  # the cost at the previous GUARD_EVERY check

    def see(self, i: int, cost: float) -> None:
        """Check the cost of iteration i."""
        if not math.isfinite(cost):
            raise DivergenceError(i, cost, "the cost is not finite")
        if self.initial is None:
            self.initial = cost
        if cost < self.lowest:
            self.lowest, self.lowest_at = cost, i
        if self.factor is None:
            return
        if cost > self.factor * self.initial:
            raise DivergenceError(i, cost, f"the cost rose above {self.factor:g} x its initial "
                                           f"value {self.initial:.6g}")
        reference = max(self.lowest, self.initial / self.factor)
        lowest = f"its lowest value {self.lowest:.6g} (iteration {self.lowest_at})"
        if cost <= COLLAPSE_FACTOR * reference:
            self.above_since = None
        elif self.above_since is None:
            self.above_since = i
        elif i - self.above_since >= COLLAPSE_WINDOW:
            raise DivergenceError(i, cost, f"the cost has been above {COLLAPSE_FACTOR:g} x "
                                           f"{lowest} at every check since iteration "
                                           f"{self.above_since}")
        if i % GUARD_EVERY == 0:
            last, self.last_check = self.last_check, cost
            if (last is not None and abs(cost - last) <= STUCK_CHANGE * cost
                    and cost > STUCK_FACTOR * reference):
                raise DivergenceError(i, cost, f"the cost stopped changing (iterations "
                                               f"{i - GUARD_EVERY} and {i} agree) at "
                                               f"{cost / self.lowest:.3g} x {lowest}")


def _next_listed(sorted_points: list[int], i: int, default: int) -> int:
    """The first of ``sorted_points`` after ``i``, else ``default``."""
    at = bisect.bisect_right(sorted_points, i)
    return sorted_points[at] if at < len(sorted_points) else default


def _check_params(i: int, cost: float, params) -> None:
    for name, p in params.items():
        if not np.isfinite(p).all():
            raise DivergenceError(i, cost, f"parameter {name} is not finite")


def _descend(many, step, rng, guard, params, start: int, stop: int, learning_rate: float):
    """Iterations ``start .. stop - 1`` (no log point among them) in one ``step.descend`` call;
    the guard then sees the cost of every ``GUARD_EVERY``-th. If it stops the run at iteration
    j, the parameters and ``rng`` are set back and the steps re-run up to j (and j's gradient
    computed), so that they are left as a step-by-step run leaves them."""
    saved = [p.copy() for p in params.values()]
    state = rng.bit_generator.state if rng is not None else None
    costs = many(rng, start, stop, learning_rate, GUARD_EVERY)
    first = -(-start // GUARD_EVERY) * GUARD_EVERY
    for j, cost in zip(range(first, stop, GUARD_EVERY), costs.tolist(), strict=True):
        try:
            guard.see(j, cost)
        except DivergenceError:
            for p, s in zip(params.values(), saved, strict=True):
                np.copyto(p, s)
            if rng is not None:
                rng.bit_generator.state = state
            many(rng, start, j, learning_rate, GUARD_EVERY)
            step(rng, True)
            raise


def train(
    model,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    learning_rate: float,
    num_iterations: int,
    rng: MaskRng | None = None,
    log_every: int = 100,
    log_at: Iterable[int] = (),
    callback: Callback | None = None,
    divergence_factor: float | None = None,
    engine: str | None = None,
) -> History:
    """Run ``num_iterations`` steps of full-batch gradient descent on ``model.params`` in place.

    X: (n_x, m); Y: (1, m). ``rng`` draws dropout masks: a Generator/RandomState that advances
    (fresh masks every iteration) or a callable ``iteration -> rng`` (the course's fixed masks);
    None trains without dropout. Every ``log_every`` iterations, at the iterations of ``log_at``
    and at the last (the log points), the cost is recorded, the parameters are checked for
    non-finite values, and ``callback(iteration, cost, model)`` is called. The cost is checked
    by a ``DivergenceGuard`` at every log point and, between them, every ``GUARD_EVERY``
    iterations (every iteration for a model without a ``step_fn``): a non-finite cost, or with
    ``divergence_factor`` a cost above that x its initial value, one that stays above
    ``COLLAPSE_FACTOR`` x its lowest value for ``COLLAPSE_WINDOW`` iterations, or one that stops
    changing above ``STUCK_FACTOR`` x its lowest value, raises ``DivergenceError`` (see
    ``DivergenceGuard``). None: only non-finite values stop the run.

    A model with a ``step_fn`` (the step protocol in this module's docstring; a ``Network``)
    trains through its step, which skips the cost on the other iterations; any other model
    through ``cost_and_grads``. Both give the same parameters. ``engine`` (``compiled`` or
    ``numpy``) is passed to ``step_fn``; None leaves the model's default (a ``Network``'s is
    ``compiled`` where it applies); ``history.engine`` says which ran.
    """
    if learning_rate <= 0:
        raise ValueError(f"learning_rate={learning_rate!r} is not allowed; allowed: > 0")
    if num_iterations < 1:
        raise ValueError(f"num_iterations={num_iterations!r} is not allowed; allowed: >= 1")
    history = History()
    start = time.perf_counter()
    params = model.params
    step_fn = getattr(model, "step_fn", None)
    if step_fn is None:
        step = None
    else:
        step = step_fn(X, Y) if engine is None else step_fn(X, Y, engine=engine)
    fast = step is not None
    descends = fast and getattr(step, "descends", False)
    history.engine = getattr(step, "engine", "numpy")
    if not fast:
        def step(step_rng, need_cost):
            return model.cost_and_grads(X, Y, rng=step_rng)
    guard = DivergenceGuard(divergence_factor)
    last = num_iterations - 1
    if not getattr(step, "dropping", True):  # a step that drops no unit never draws a mask
        rng = None
    # a step's ``descend`` draws fresh masks from a Generator itself (not from a RandomState,
    # nor from the course's per-iteration generators)
    many = getattr(step, "descend", None) if rng is None or isinstance(rng, np.random.Generator) \
        else None
    listed = {int(k) for k in log_at if 0 <= k < num_iterations}
    extra = sorted(listed)
    i = 0
    while i < num_iterations:
        log_now = i % log_every == 0 or i == last or i in listed
        if many is not None and not log_now:  # every step up to the next log point at once
            stop = min(last, (i // log_every + 1) * log_every, _next_listed(extra, i, last))
            _descend(many, step, rng, guard, params, i, stop, learning_rate)
            i = stop
            continue
        checked = log_now or i % GUARD_EVERY == 0
        if descends and not checked:  # the step takes the update itself
            step(_rng_for(rng, i), False, learning_rate)
            i += 1
            continue
        cost, grads = step(_rng_for(rng, i), checked)
        # The cost checks whenever there is a cost (cheap); the parameter scan at log points.
        if cost is not None:
            guard.see(i, cost)
        if log_now:
            _check_params(i, cost, params)
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
        i += 1
    history.seconds = time.perf_counter() - start
    return history
