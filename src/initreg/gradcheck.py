"""A generic gradient checker: does ``f``'s analytic gradient match centered differences?

``f(params) -> (cost, grads)`` may be any model or plain function; ``params`` is a dict of float64
arrays that the checker perturbs in place and restores. ``grads`` is keyed like ``params``
(``"W1"``) or in the course's style (``"dW1"``).

Two modes:

- ``full``: a centered difference on every element (2 evaluations each), compared with the
  course's formula ``||g - g_approx|| / (||g|| + ||g_approx||)``. Exact about *where* a bug is
  (the worst element), but its cost grows with the number of parameters: use it on small nets,
  in tests and when hunting a bug.
- ``directional``: for each parameter array, ``directions`` random unit directions ``v``; compares
  ``g . v`` with ``(f(p + eps v) - f(p - eps v)) / (2 eps)``. Its cost is ``2 x directions``
  evaluations per parameter *array*, whatever the arrays' sizes: use it as the cheap gate in
  front of every training run. It names the worst array, not the worst element.

Dropout: pass an ``f`` that draws the same masks at every evaluation (see ``model_objective``).
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

Objective = Callable[[dict[str, np.ndarray]], tuple[float, dict[str, np.ndarray]]]
MODES = ("full", "directional")


@dataclass(frozen=True)
class WorstElement:
    """Where the analytic and numeric gradients disagree most."""

    param: str
    index: tuple[int, ...] | None  # None in directional mode
    analytic: float
    numeric: float


@dataclass(frozen=True)
class GradcheckResult:
    """The outcome of one gradient check."""

    difference: float
    passed: bool
    per_param: dict[str, float]
    worst: WorstElement
    mode: str
    epsilon: float
    threshold: float
    evaluations: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A JSON-ready dict (the pipeline logs it as gradcheck.json)."""
        d = asdict(self)
        d["worst"]["index"] = list(self.worst.index) if self.worst.index is not None else None
        return d

    def summary(self) -> str:
        """One line for logs."""
        where = self.worst.param + (str(list(self.worst.index)) if self.worst.index else "")
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"gradcheck {verdict}: difference {self.difference:.3e} "
            f"(threshold {self.threshold:.1e}, {self.mode}); worst {where}: "
            f"analytic {self.worst.analytic:.6e} vs numeric {self.worst.numeric:.6e}"
        )


def _relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / den) if den > 0 else 0.0


def _check_inputs(params: dict, epsilon: float, threshold: float, mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not known; allowed: {', '.join(MODES)}")
    if not epsilon > 0:
        raise ValueError(f"epsilon={epsilon!r} is not allowed; allowed: a number > 0")
    if not threshold > 0:
        raise ValueError(f"threshold={threshold!r} is not allowed; allowed: a number > 0")
    for name, p in params.items():
        if not isinstance(p, np.ndarray) or p.dtype != np.float64:
            dtype = getattr(p, "dtype", type(p).__name__)
            raise TypeError(
                f"parameter {name!r} is {dtype}; gradient checking needs float64 arrays "
                "(float32 is too imprecise for centered differences at this epsilon)"
            )


def _analytic(f: Objective, params, name: str, grads) -> np.ndarray:
    g = grads.get(name, grads.get("d" + name))
    if g is None:
        raise KeyError(f"f returned no gradient for {name!r} (looked for {name!r} and 'd{name}')")
    return np.array(g, dtype=np.float64).reshape(params[name].shape)


def _full(f: Objective, params, epsilon: float):
    """Numeric gradient of every element by centered differences."""
    numeric = {}
    for name, p in params.items():
        approx = np.empty_like(p)
        flat = p.reshape(-1)  # a view: perturbing it perturbs params[name]
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + epsilon
            plus = f(params)[0]
            flat[i] = original - epsilon
            minus = f(params)[0]
            flat[i] = original
            approx.reshape(-1)[i] = (plus - minus) / (2 * epsilon)
        numeric[name] = approx
    return numeric


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
    """Compare ``f``'s analytic gradient with centered differences; see the module docstring.

    Returns a ``GradcheckResult`` whose ``difference`` is the course's relative difference over
    all parameters, ``passed`` is ``difference < threshold``, ``per_param`` the difference of
    each array, and ``worst`` the element (``full``) or array (``directional``) that disagrees most.
    ``params`` is restored bit for bit afterwards.
    """
    _check_inputs(params, epsilon, threshold, mode)
    saved = {name: p.copy() for name, p in params.items()}
    try:
        _, grads = f(params)
        analytic = {name: _analytic(f, params, name, grads) for name in params}
        if mode == "full":
            numeric = _full(f, params, epsilon)
            a_all = np.concatenate([analytic[n].ravel() for n in params])
            n_all = np.concatenate([numeric[n].ravel() for n in params])
            per_param = {n: _relative_difference(analytic[n], numeric[n]) for n in params}
            worst = _worst_element(analytic, numeric)
            evaluations = 1 + 2 * sum(p.size for p in params.values())
        else:
            rng = rng if rng is not None else np.random.default_rng(0)
            a_all, n_all, per_param, worst = _directional(
                f, params, analytic, epsilon, directions, rng
            )
            evaluations = 1 + 2 * directions * len(params)
    finally:
        for name, p in params.items():
            np.copyto(p, saved[name])
    difference = _relative_difference(a_all, n_all)
    return GradcheckResult(
        difference=difference,
        passed=bool(difference < threshold),
        per_param=per_param,
        worst=worst,
        mode=mode,
        epsilon=epsilon,
        threshold=threshold,
        evaluations=evaluations,
    )


def _worst_element(analytic, numeric) -> WorstElement:
    best = None
    for name in analytic:
        err = np.abs(analytic[name] - numeric[name])
        idx = np.unravel_index(int(np.argmax(err)), err.shape)
        if best is None or err[idx] > best[0]:
            best = (err[idx], name, idx)
    _, name, idx = best
    return WorstElement(
        param=name,
        index=tuple(int(i) for i in idx),
        analytic=float(analytic[name][idx]),
        numeric=float(numeric[name][idx]),
    )


def _directional(f, params, analytic, epsilon, directions, rng):
    """Directional derivatives along random unit vectors, per parameter array."""
    a_vals, n_vals, per_param = [], [], {}
    worst = None
    for name, p in params.items():
        original = p.copy()
        a_p, n_p = [], []
        for _ in range(directions):
            v = rng.standard_normal(p.shape)
            v /= np.linalg.norm(v)
            np.add(original, epsilon * v, out=p)
            plus = f(params)[0]
            np.subtract(original, epsilon * v, out=p)
            minus = f(params)[0]
            np.copyto(p, original)
            a_p.append(float(np.sum(analytic[name] * v)))
            n_p.append((plus - minus) / (2 * epsilon))
        per_param[name] = _relative_difference(np.array(a_p), np.array(n_p))
        gap = np.abs(np.array(a_p) - np.array(n_p))
        k = int(np.argmax(gap))
        if worst is None or gap[k] > worst[0]:
            worst = (gap[k], WorstElement(name, None, a_p[k], n_p[k]))
        a_vals += a_p
        n_vals += n_p
    return np.array(a_vals), np.array(n_vals), per_param, worst[1]


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
