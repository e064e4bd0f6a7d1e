"""Forward/backward pairs for the layers of a fully connected net (examples as columns).

Each ``x_forward`` returns ``(out, cache)`` and each ``x_backward(dout, cache)`` returns the
gradients, in the style of cs231n. Shapes: ``A_prev`` is ``(n_prev, m)``, ``W`` is
``(n, n_prev)``, ``b`` is ``(n, 1)``, ``Z`` and ``A`` are ``(n, m)``.

``reference_cost_and_grads`` composes them into the whole network's cost and gradients: the
readable reference that the fast passes (``initreg.nn.backprop``, ``initreg.nn.blocked``) and the
benchmark's hand-written loop are tested against.
"""

from collections.abc import Sequence

import numpy as np


def linear_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray):
    """Z = W A_prev + b; cache (A_prev, W)."""
    return W @ A_prev + b, (A_prev, W)


def linear_backward(dZ: np.ndarray, cache):
    """Gradients (dA_prev, dW, db) of Z = W A_prev + b, given dZ already scaled by 1/m."""
    A_prev, W = cache
    return W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)


def relu_forward(Z: np.ndarray):
    """A = max(0, Z); the cache is A itself (A > 0 exactly where Z > 0)."""
    A = np.maximum(0.0, Z)
    return A, A


def relu_backward(dA: np.ndarray, A: np.ndarray) -> np.ndarray:
    """dZ = dA where the unit was active, 0 elsewhere."""
    return dA * (A > 0)


def dropout_forward(A: np.ndarray, keep_prob: float, rng):
    """Inverted dropout: keep each unit with probability keep_prob and scale by 1/keep_prob.

    ``rng.random`` exists on both ``Generator`` and ``RandomState`` (where it equals the course's
    ``np.random.rand``). The cache is the 0/1 mask D.
    """
    D = rng.random(A.shape) < keep_prob
    return A * D / keep_prob, D


def dropout_backward(dA: np.ndarray, D: np.ndarray, keep_prob: float) -> np.ndarray:
    """Same mask and scale as the forward pass."""
    return dA * D / keep_prob


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-Z)); exp may overflow to inf for very negative Z, giving exactly 0."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-Z))


def cross_entropy_from_logits(Z: np.ndarray, Y: np.ndarray) -> float:
    """Mean binary cross-entropy of sigmoid(Z) against Y, computed stably from the logits.

    -[y log s(z) + (1-y) log(1-s(z))] = softplus(z) - y z = max(z, 0) - y z + log1p(exp(-|z|)),
    which stays finite (and accurate near s(z) = 0 or 1) where the naive formula gives inf/NaN.
    """
    loss = np.maximum(Z, 0.0) - Y * Z + np.log1p(np.exp(-np.abs(Z)))
    return float(loss.sum() / Z.shape[1])


def l2_penalty(weights, lambd: float, m: int) -> float:
    """The L2 term lambd / (2m) * sum_l ||W_l||_F^2."""
    if lambd == 0:
        return 0.0
    return float(lambd / (2 * m) * sum(np.sum(np.square(W)) for W in weights))


def sigmoid_cross_entropy(Z: np.ndarray, Y: np.ndarray):
    """The output layer's loss and its gradient: (mean cross-entropy of sigmoid(Z) against Y,
    dZ = (sigmoid(Z) - Y) / m), like cs231n's ``softmax_loss``. Z, Y, dZ: (1, m)."""
    m = Z.shape[1]
    return cross_entropy_from_logits(Z, Y), (1.0 / m) * (sigmoid(Z) - Y)


def reference_cost_and_grads(params, X: np.ndarray, Y: np.ndarray, lambd: float = 0.0,
                             keep_prob: float | Sequence[float] = 1.0, rng=None):
    """Cost and gradients of [LINEAR -> RELU -> DROPOUT] x (L-1) -> LINEAR -> SIGMOID, + L2.

    params: ``W1, b1, ..., WL, bL``, ``W_l`` (n_l, n_{l-1}), ``b_l`` (n_l, 1); X: (n_x, m);
    Y: (1, m) in {0, 1}. keep_prob: one float, or one per hidden layer (L-1 values). rng: the
    dropout masks' source, drawn hidden layer by hidden layer (layer 1 first, layers with
    keep_prob 1 draw nothing), as ``Network.cost_and_grads`` draws them from the same rng;
    None: no dropout. Returns (cost, grads), grads keyed and shaped like params.

    Built from this module's pairs only, with a new array for every result: slow, and the
    reference the Network's passes reproduce (to the bit on up to
    ``blocked.BLOCK_MIN_EXAMPLES`` examples, to rounding above).
    """
    L = len(params) // 2
    m = X.shape[1]
    keep = list(keep_prob) if isinstance(keep_prob, Sequence) else [keep_prob] * (L - 1)
    if len(keep) != L - 1:
        raise ValueError(f"keep_prob={keep_prob!r} has {len(keep)} values; allowed: one "
                         f"float or one per hidden layer ({L - 1})")
    W = [None] + [params[f"W{l}"] for l in range(1, L + 1)]  # noqa: E741 - indexed 1..L
    b = [None] + [params[f"b{l}"] for l in range(1, L + 1)]  # noqa: E741

    caches = [None]  # caches[l]: layer l's (linear, relu, dropout mask or None)
    A = X
    for l in range(1, L):  # noqa: E741
        Z, linear_cache = linear_forward(A, W[l], b[l])
        A, relu_cache = relu_forward(Z)
        D = None
        if rng is not None and keep[l - 1] < 1.0:
            A, D = dropout_forward(A, keep[l - 1], rng)
        caches.append((linear_cache, relu_cache, D))
    ZL, output_cache = linear_forward(A, W[L], b[L])
    loss, dZ = sigmoid_cross_entropy(ZL, Y)
    cost = loss + l2_penalty(W[1:], lambd, m)

    grads = {}
    dA, grads[f"W{L}"], grads[f"b{L}"] = linear_backward(dZ, output_cache)
    for l in range(L - 1, 0, -1):  # noqa: E741
        linear_cache, relu_cache, D = caches[l]
        if D is not None:
            dA = dropout_backward(dA, D, keep[l - 1])
        dZ = relu_backward(dA, relu_cache)
        dA, grads[f"W{l}"], grads[f"b{l}"] = linear_backward(dZ, linear_cache)
    if lambd:  # d/dW of lambd / (2m) ||W||^2
        for l in range(1, L + 1):  # noqa: E741
            grads[f"W{l}"] = grads[f"W{l}"] + (lambd / m) * W[l]
    return cost, {name: grads[name] for name in params}
