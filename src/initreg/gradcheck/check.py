"""``gradient_check``: does ``f``'s analytic gradient match centered differences?

Two modes:

- ``full``: a centered difference on every element (2 evaluations each), compared with the
  course's formula ``||g - g_approx|| / (||g|| + ||g_approx||)``. Exact about *where* a bug is
  (the worst element), but its cost grows with the number of parameters: use it on small nets,
  in tests and when hunting a bug.
- ``directional``: for each parameter array, ``directions`` random unit directions ``v``; compares
  ``g . v`` with ``(f(p + eps v) - f(p - eps v)) / (2 eps)``. Its cost is ``2 x directions``
  evaluations per parameter *array*, whatever the arrays' sizes: use it as the cheap gate in
  front of every training run. It names the worst array and direction, not the worst element.

Either way the check compares K *values* (elements, or directional derivatives): ``difference``
is ``||a - n|| / (||a|| + ||n||)`` over all of them. One ranking rule names the culprits: a value's
part of the difference is its gap ``|a - n|`` over that denominator, an array's part
(``per_param``) the root-sum-square of its values' parts (so ``difference`` is the
root-sum-square of ``per_param``), and ``worst`` is the largest gap in the array with the largest
part. (A relative difference per array would rank first any array whose gradient is below the
rounding of the costs, e.g. the first layers of a net with vanishing gradients: 1.0 from noise.)

The verdict (passed, failed or inconclusive) is ``initreg.gradcheck.verdict``'s.
"""

import numpy as np

from initreg.gradcheck.results import GradcheckResult, WorstElement
from initreg.gradcheck.values import Objective, _along, _analytic, _place, _Values
from initreg.gradcheck.verdict import _Diagnosis

MODES = ("full", "directional")


def _relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / den) if den > 0 else 0.0


def _check_inputs(params: dict, epsilon, threshold, mode: str, directions) -> None:
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not known; allowed: {', '.join(MODES)}")
    if not epsilon > 0:
        raise ValueError(f"epsilon={epsilon!r} is not allowed; allowed: a number > 0")
    if not threshold > 0:
        raise ValueError(f"threshold={threshold!r} is not allowed; allowed: a number > 0")
    if not params:
        raise ValueError("params={} is empty; allowed: a dict of at least one float64 array")
    if isinstance(directions, bool) or not isinstance(directions, int | np.integer) \
            or directions < 1:
        raise ValueError(f"directions={directions!r} is not allowed; allowed: an integer >= 1")
    for name, p in params.items():
        if not isinstance(p, np.ndarray) or p.dtype != np.float64:
            dtype = getattr(p, "dtype", type(p).__name__)
            raise TypeError(
                f"parameter {name!r} is {dtype}; gradient checking needs float64 arrays "
                "(float32 is too imprecise for centered differences at this epsilon)"
            )



def _full(f: Objective, params, analytic, epsilon: float) -> _Values:
    """Centered differences on every element."""
    values = _Values()
    for name, p in params.items():
        a = analytic[name].reshape(-1)
        for i in range(p.size):
            values.add(name, i, float(a[i]), _along(f, params, name, i, epsilon))
    return values


def _directional(f, params, analytic, epsilon: float, directions: int, rng) -> _Values:
    """Directional derivatives along random unit vectors, ``directions`` per parameter array."""
    values = _Values()
    for name, p in params.items():
        for k in range(directions):
            state = rng.bit_generator.state  # kept, to re-draw v for the evidence
            v = rng.standard_normal(p.shape)
            v /= np.linalg.norm(v)
            values.add(name, (k, state), float(np.sum(analytic[name] * v)),
                       _along(f, params, name, v, epsilon))
    return values


def gradient_check(
    f: Objective,
    params: dict[str, np.ndarray],
    *,
    epsilon: float = 1e-7,
    threshold: float = 2e-7,
    mode: str = "full",
    directions: int = 3,
    rng: np.random.Generator | None = None,
) -> GradcheckResult:
    """Compare ``f``'s analytic gradient with centered differences; see the module docstring
    and ``initreg.gradcheck.verdict``'s.

    Returns a ``GradcheckResult`` whose ``difference`` is the course's relative difference over
    all values, ``verdict`` passed (``difference < threshold``), failed or inconclusive (with its
    ``reason`` and ``evidence``), ``per_param`` each array's part of the difference, and ``worst``
    the element (``full``) or direction (``directional``) that disagrees most (the ranking rule
    of the module docstring).
    ``params`` is restored bit for bit afterwards.
    """
    _check_inputs(params, epsilon, threshold, mode, directions)
    saved = {name: p.copy() for name, p in params.items()}
    try:
        cost, grads = f(params)
        analytic = {name: _analytic(params, name, grads) for name in params}
        if mode == "full":
            values = _full(f, params, analytic, epsilon)
        else:
            rng = rng if rng is not None else np.random.default_rng(0)
            values = _directional(f, params, analytic, epsilon, directions, rng)
        values.finish(float(cost), epsilon)
        evaluations = 1 + 2 * len(values.a)
        difference = _relative_difference(values.a, values.n)
        diagnosis = _Diagnosis(f, params, analytic, values, cost, epsilon, threshold)
        per_param = {n: diagnosis.part(values.gap[values.owner == n]) for n in params}
        worst = _worst(values, per_param, params)
        verdict, reason = diagnosis.run(difference)
    finally:
        for name, p in params.items():
            np.copyto(p, saved[name])
    return GradcheckResult(
        difference=difference, verdict=verdict, reason=reason, per_param=per_param,
        worst=_worst_element(values, worst, params), mode=mode, epsilon=epsilon,
        threshold=threshold, evaluations=evaluations + diagnosis.evaluations,
        evidence=diagnosis.evidence(per_param, worst, verdict == "passed"),
    )


def _worst(values: _Values, per_param: dict[str, float], params) -> int:
    """The ranking rule: the array with the largest part of the difference, then its largest gap."""
    name = max(params, key=lambda n: per_param[n])  # the first of equals, in params' order
    rows = np.flatnonzero(values.owner == name)
    return int(rows[np.argmax(values.gap[rows])])


def _worst_element(values: _Values, i: int, params) -> WorstElement:
    index, direction = _place(values, i, params)
    return WorstElement(values.names[i], index, float(values.a[i]), float(values.n[i]),
                        direction)


def model_objective(model, X: np.ndarray, Y: np.ndarray, mask_seed: int | None = None) -> Objective:
    """``f(params)`` for a model offering ``params`` and ``cost_and_grads(X, Y, rng=None)``.

    With ``mask_seed`` every evaluation gets a generator re-seeded to it, so dropout draws the
    same masks each time and the cost is a deterministic function of the parameters.
    The returned ``f`` evaluates the model at its own ``params`` (which the checker perturbs).
    """

    def f(params):
        if params is not model.params:
            raise ValueError("model_objective's f checks the model's own params dict")
        rng = np.random.default_rng(mask_seed) if mask_seed is not None else None
        return model.cost_and_grads(X, Y, rng=rng)

    return f
