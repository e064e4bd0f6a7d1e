"""Forward/backward pairs for the layers of a fully connected net (examples as columns).

Each ``x_forward`` returns ``(out, cache)`` and each ``x_backward(dout, cache)`` returns the
gradients, in the style of cs231n. Shapes: ``A_prev`` is ``(n_prev, m)``, ``W`` is
``(n, n_prev)``, ``b`` is ``(n, 1)``, ``Z`` and ``A`` are ``(n, m)``.
"""

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
