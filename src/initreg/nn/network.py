"""A fully connected binary classifier: [LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID."""

from collections.abc import Sequence

import numpy as np

from initreg.nn import layers
from initreg.nn.init import check_scheme, initialize
from initreg.nn.rng import Rng, weight_rng


def _check_layer_dims(layer_dims) -> list[int]:
    dims = list(layer_dims) if layer_dims is not None else []
    if len(dims) < 2:
        raise ValueError(
            f"layer_dims={dims!r} needs at least an input and an output size, e.g. [2, 10, 1]"
        )
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1:
            raise ValueError(f"layer_dims={dims!r}: every layer size must be an integer >= 1")
    if dims[-1] != 1:
        raise ValueError(f"layer_dims={dims!r}: a binary classifier needs an output size of 1")
    return [int(d) for d in dims]


def _check_keep_prob(keep_prob, n_hidden: int) -> tuple[float, ...]:
    is_list = isinstance(keep_prob, Sequence) and not isinstance(keep_prob, str)
    values = list(keep_prob) if is_list else [keep_prob] * n_hidden
    if len(values) != n_hidden:
        raise ValueError(
            f"keep_prob={list(keep_prob)!r} has {len(values)} values; "
            f"allowed: one float or one per hidden layer ({n_hidden})"
        )
    for kp in values:
        if isinstance(kp, bool) or not isinstance(kp, int | float) or not 0.0 < kp <= 1.0:
            raise ValueError(f"keep_prob={kp!r} is not allowed; allowed: a number in (0, 1]")
    return tuple(float(kp) for kp in values)


class Network:
    """A fully connected binary classifier with L2 and inverted dropout; examples are columns.

    Parameters live in ``params`` (``W1, b1, ..., WL, bL``, float64); ``W_l`` is
    ``(layer_dims[l], layer_dims[l-1])`` and ``b_l`` is ``(layer_dims[l], 1)``.

    Args:
        layer_dims: sizes ``[n_x, n_1, ..., 1]``.
        init: ``zeros``, ``random``, ``he``, ``lecun`` or ``xavier`` (see ``initreg.nn.init``).
        lambd: L2 strength (the course's ``lambd``), >= 0.
        keep_prob: dropout keep probability for hidden layers: one float or one per hidden layer.
        seed: seed of the weight generator.
        init_scale: the factor of the ``random`` scheme (the course's 10).
        convention: ``default`` or ``course`` (see ``initreg.nn.rng``).
    """

    def __init__(
        self,
        layer_dims: Sequence[int],
        init: str = "he",
        lambd: float = 0.0,
        keep_prob: float | Sequence[float] = 1.0,
        seed: int = 0,
        init_scale: float = 10.0,
        convention: str = "default",
    ):
        self.layer_dims = _check_layer_dims(layer_dims)
        check_scheme(init)
        if isinstance(lambd, bool) or not isinstance(lambd, int | float) or not lambd >= 0:
            raise ValueError(f"lambd={lambd!r} is not allowed; allowed: a number >= 0")
        self.init = init
        self.lambd = float(lambd)
        self.keep_prob = _check_keep_prob(keep_prob, len(self.layer_dims) - 2)
        self.seed = seed
        self.convention = convention
        self.params = initialize(self.layer_dims, init, weight_rng(convention, seed), init_scale)

    @property
    def num_layers(self) -> int:
        """L, the number of weight layers."""
        return len(self.layer_dims) - 1

    def _forward(self, X: np.ndarray, rng: Rng | None):
        """Logits Z_L of shape (1, m) and the caches for backward; dropout only if rng is given."""
        caches = []
        A = X
        for l in range(1, self.num_layers):  # noqa: E741
            Z, lin = layers.linear_forward(A, self.params[f"W{l}"], self.params[f"b{l}"])
            A, relu = layers.relu_forward(Z)
            kp = self.keep_prob[l - 1]
            mask = None
            if rng is not None and kp < 1.0:
                A, mask = layers.dropout_forward(A, kp, rng)
            caches.append((lin, A, mask, kp))
        L = self.num_layers
        ZL, lin = layers.linear_forward(A, self.params[f"W{L}"], self.params[f"b{L}"])
        caches.append((lin, None, None, 1.0))
        return ZL, caches

    def cost_and_grads(
        self, X: np.ndarray, Y: np.ndarray, rng: Rng | None = None
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Cost (cross-entropy + L2) and its gradients, keyed like ``params``.

        X: (n_x, m); Y: (1, m) in {0, 1}. Dropout applies when some keep_prob < 1 and an ``rng``
        is given; the same masks are used in the backward pass.
        """
        m = X.shape[1]
        ZL, caches = self._forward(X, rng)
        weights = [self.params[f"W{l}"] for l in range(1, self.num_layers + 1)]  # noqa: E741
        cost = layers.cross_entropy_from_logits(ZL, Y) + layers.l2_penalty(weights, self.lambd, m)

        grads: dict[str, np.ndarray] = {}
        dZ = (1.0 / m) * (layers.sigmoid(ZL) - Y)  # d cost / d Z_L, the mean folded in once
        for l in range(self.num_layers, 0, -1):  # noqa: E741
            lin, _, _, _ = caches[l - 1]
            dA_prev, dW, db = layers.linear_backward(dZ, lin)
            if self.lambd:
                dW = dW + (self.lambd / m) * self.params[f"W{l}"]
            grads[f"W{l}"], grads[f"b{l}"] = dW, db
            if l > 1:
                _, A_prev, mask, kp = caches[l - 2]
                if mask is not None:
                    dA_prev = layers.dropout_backward(dA_prev, mask, kp)
                dZ = layers.relu_backward(dA_prev, A_prev)
        return cost, grads

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(y = 1 | x) for each column of X, shape (1, m); dropout never applies here."""
        ZL, _ = self._forward(X, rng=None)
        return layers.sigmoid(ZL)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """0/1 labels of shape (1, m), threshold 0.5."""
        return (self.predict_proba(X) > 0.5).astype(np.float64)
