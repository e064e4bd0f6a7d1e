"""The compared values of one check: centered differences along an element or a direction.

Each value keeps its stencil's costs and gradients, from which ``finish`` derives the numeric
derivative, the gap, the costs' rounding error and the kink flag that ``initreg.gradcheck.verdict``
weighs.
"""

from collections.abc import Callable

import numpy as np

Objective = Callable[[dict[str, np.ndarray]], tuple[float, dict[str, np.ndarray]]]

MACHINE_EPS = float(np.finfo(np.float64).eps)
KINK_RATIO = 0.1  # a value is a kink when the gradient's jump S >= KINK_RATIO x its gap


def _gradient(grads, name: str, shape) -> np.ndarray:
    """The gradient of ``name`` from f's ``grads`` (``name`` or ``d<name>``), shaped like it."""
    g = grads.get(name, grads.get("d" + name))
    if g is None:
        raise KeyError(f"f returned no gradient for {name!r} (looked for {name!r} and 'd{name}')")
    return np.asarray(g, dtype=np.float64).reshape(shape)


def _analytic(params, name: str, grads) -> np.ndarray:
    """A copy: f may reuse its arrays at the next evaluation."""
    return np.array(_gradient(grads, name, params[name].shape))


def _along(f: Objective, params, name: str, v, step: float):
    """``[(f(p + step v), g(p + step v) . v), (same at p - step v)]``; params restored.

    v: a flat element index of ``params[name]``, or a unit array of its shape.
    """
    p = params[name]
    out = []
    if isinstance(v, int):
        flat = p.reshape(-1)  # a view: perturbing it perturbs params[name]
        original = flat[v]
        for x in (original + step, original - step):
            flat[v] = x
            cost, grads = f(params)
            out.append((cost, float(_gradient(grads, name, p.shape).reshape(-1)[v])))
        flat[v] = original
        return out
    original = p.copy()
    for sign in (np.add, np.subtract):
        sign(original, step * v, out=p)
        cost, grads = f(params)
        out.append((cost, float(np.sum(_gradient(grads, name, p.shape) * v))))
    np.copyto(p, original)
    return out


class _Values:
    """Every compared value of one check, in order, with its stencil's costs and gradients."""

    def __init__(self):
        self.names, self.keys, self.rows = [], [], []

    def add(self, name: str, key, analytic: float, stencil) -> None:
        (c_plus, a_plus), (c_minus, a_minus) = stencil
        self.names.append(name)
        self.keys.append(key)  # a flat index (full) or (direction number, generator state)
        self.rows.append((analytic, c_plus, c_minus, a_plus, a_minus))

    def finish(self, cost: float, epsilon: float) -> None:
        """The numeric values, gaps, rounding errors and kink flags (``verdict``'s docstring)."""
        cols = np.array(self.rows, dtype=np.float64).reshape(-1, 5).T
        self.a, self.c_plus, self.c_minus, self.a_plus, self.a_minus = cols
        self.n = (self.c_plus - self.c_minus) / (2 * epsilon)
        self.gap = np.abs(self.a - self.n)
        # each cost is known to about machine_eps |cost|; their difference over 2 epsilon:
        scale = np.maximum(abs(cost), np.maximum(np.abs(self.c_plus), np.abs(self.c_minus)))
        self.rounding = MACHINE_EPS * scale / epsilon
        self.jump = np.abs(self.a_plus - 2 * self.a + self.a_minus)
        # a kink: a gap that rounding does not explain, and a gradient that jumps (see ``verdict``)
        self.kink = (self.gap > self.rounding) & (self.jump >= KINK_RATIO * self.gap)
        self.owner = np.array(self.names, dtype=object)


def _direction(state, shape) -> np.ndarray:
    """The unit vector a generator in ``state`` draws (the directional mode's draw)."""
    bit_generator = getattr(np.random, state["bit_generator"])()  # e.g. PCG64, then its state
    bit_generator.state = state
    v = np.random.Generator(bit_generator).standard_normal(shape)
    return v / np.linalg.norm(v)


def _place(values: _Values, i: int, params):
    """(index, direction) of value i: an element's index (full) or a direction's number."""
    key = values.keys[i]
    if isinstance(key, int):
        idx = np.unravel_index(key, params[values.names[i]].shape)
        return tuple(int(j) for j in idx), None
    return None, key[0]
