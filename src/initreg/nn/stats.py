"""Per-layer statistics of a fully connected net: activations, gradient norms, symmetry.

These are the numbers behind vanishing/exploding activations and gradients and behind symmetry
breaking. They work on a ``params`` dict named like the course's (``W1, b1, ..., WL, bL``, with
``W_l`` of shape ``(n_l, n_{l-1})`` and ``b_l`` of shape ``(n_l, 1)``) and run a forward pass of
their own ([LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID, no dropout), so any model whose params
follow that layout can be measured; ``layer_count`` says whether they do.
"""

import re

import numpy as np

from initreg.nn import layers

_NAME = re.compile(r"([Wb])([1-9][0-9]*)")


def layer_count(params) -> int | None:
    """L when ``params`` is exactly ``W1, b1, ..., WL, bL`` with chained 2-D shapes, else None."""
    try:
        keys = set(params)
    except TypeError:
        return None
    found = [_NAME.fullmatch(str(k)) for k in keys]
    if not keys or not all(found):
        return None
    L = len(keys) // 2
    if keys != {f"{p}{l}" for p in "Wb" for l in range(1, L + 1)}:  # noqa: E741
        return None
    for l in range(1, L + 1):  # noqa: E741
        W, b = np.asarray(params[f"W{l}"]), np.asarray(params[f"b{l}"])
        if W.ndim != 2 or b.shape != (W.shape[0], 1):
            return None
        if l > 1 and W.shape[1] != params[f"W{l - 1}"].shape[0]:
            return None
    return L


def activations(params, X: np.ndarray) -> list[np.ndarray]:
    """``[A_1, ..., A_L]``: the ReLU outputs of the hidden layers, then sigmoid(Z_L).

    X: (n_x, m); ``A_l``: (n_l, m). Overflow is allowed (inf/NaN come back as they are).
    """
    L = layer_count(params)
    if L is None:
        raise ValueError("params must be W1, b1, ..., WL, bL with chained shapes")
    out, A = [], X
    with np.errstate(all="ignore"):
        for l in range(1, L + 1):  # noqa: E741
            Z, _ = layers.linear_forward(A, params[f"W{l}"], params[f"b{l}"])
            A = layers.relu_forward(Z)[0] if l < L else layers.sigmoid(Z)
            out.append(A)
    return out


def activation_stats(params, X: np.ndarray) -> dict[str, float]:
    """``act_mean_l{l}`` and ``act_std_l{l}`` over every unit and example of each layer."""
    stats = {}
    with np.errstate(all="ignore"):
        for l, A in enumerate(activations(params, X), start=1):  # noqa: E741
            stats[f"act_mean_l{l}"] = float(np.mean(A))
            stats[f"act_std_l{l}"] = float(np.std(A))
    return stats


def grad_norms(grads, num_layers: int) -> dict[str, float]:
    """``grad_norm_l{l}``: the Frobenius norm of ``dW_l`` for l = 1..L (``grads["W{l}"]``)."""
    with np.errstate(all="ignore"):
        return {f"grad_norm_l{l}": float(np.linalg.norm(grads[f"W{l}"]))
                for l in range(1, num_layers + 1)}  # noqa: E741


def symmetry_l1(W1: np.ndarray) -> float:
    """Largest distance between two rows of W1 (two hidden units' incoming weights) / mean row norm.

    0 means every hidden unit of layer 1 computes the same function; 0/0 (all rows zero) is 0.
    W1: (n_1, n_x).
    """
    W = np.asarray(W1, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"W1 must be a 2-D array (n_1, n_x), got shape {W.shape}")
    # Row by row, not the Gram trick: equal rows must give exactly 0, not rounding noise.
    widest = max((float(np.max(np.linalg.norm(W[i + 1:] - W[i], axis=1)))
                  for i in range(W.shape[0] - 1)), default=0.0)
    if widest == 0.0:
        return 0.0
    return widest / float(np.mean(np.linalg.norm(W, axis=1)))


def layer_stats(params, X: np.ndarray, grads=None) -> dict[str, float] | None:
    """Every statistic above as metrics, or None when ``params`` do not follow the layout.

    Activation stats on X: (n_x, m); gradient norms when ``grads`` (keyed like params) is given.
    """
    L = layer_count(params)
    if L is None or X.shape[0] != params["W1"].shape[1]:
        return None
    stats = activation_stats(params, X)
    if grads is not None and all(f"W{l}" in grads for l in range(1, L + 1)):  # noqa: E741
        stats.update(grad_norms(grads, L))
    stats["symmetry_l1"] = symmetry_l1(params["W1"])
    return stats


class GradRecorder:
    """A model seen through ``params`` and ``cost_and_grads`` that keeps the last gradients.

    Handed to ``initreg.nn.train`` in place of the model, it lets a callback read the gradients
    of the current iteration (the ones its update is about to use) without a second backprop.
    """

    def __init__(self, model):
        self.model = model
        self.grads: dict | None = None

    @property
    def params(self):
        return self.model.params

    def cost_and_grads(self, X, Y, rng=None):
        cost, self.grads = self.model.cost_and_grads(X, Y, rng=rng)
        return cost, self.grads

    def step_fn(self, X, Y, **options):
        """The model's ``step_fn(X, Y, **options)`` (the step protocol of ``initreg.nn.train``),
        recording its gradients; None when the model has none, so ``train`` falls back to
        ``cost_and_grads``."""
        make = getattr(self.model, "step_fn", None)
        step = make(X, Y, **options) if make is not None else None
        if step is None:
            return None

        def recorded(rng, need_cost, *update):
            cost, self.grads = step(rng, need_cost, *update)
            return cost, self.grads

        recorded.descends = getattr(step, "descends", False)
        if hasattr(step, "descend"):  # many steps between log points, no gradient recorded
            recorded.descend = step.descend
        recorded.engine = getattr(step, "engine", "numpy")
        recorded.dropping = getattr(step, "dropping", True)
        return recorded
