"""Weight initialization schemes: each maps a layer's shape and an rng to a weight matrix.

Convention: layer l has weights ``W`` of shape ``(n, n_prev)`` where ``n_prev`` (the fan-in) is
the size of layer l-1 and ``n`` (the fan-out) the size of layer l. Biases always start at zero.
The arithmetic mirrors the course's code (``randn(...) * sqrt(2 / n_prev)``,
``randn(...) / sqrt(n_prev)``) so that the course's published numbers are reproduced to the bit.
"""

from collections.abc import Callable

import numpy as np

from initreg.nn.rng import Rng


def zeros(n: int, n_prev: int, rng: Rng, scale: float = 10.0) -> np.ndarray:
    """All-zero weights: every hidden unit computes the same function (symmetry is never broken)."""
    return np.zeros((n, n_prev))


def random(n: int, n_prev: int, rng: Rng, scale: float = 10.0) -> np.ndarray:
    """Standard normal times ``scale`` (the course's "large random" init: 10); ignores fan-in."""
    return rng.standard_normal((n, n_prev)) * scale


def he(n: int, n_prev: int, rng: Rng, scale: float = 10.0) -> np.ndarray:
    """He et al. (2015): standard normal times sqrt(2 / n_prev); keeps ReLU variance steady."""
    return rng.standard_normal((n, n_prev)) * np.sqrt(2.0 / n_prev)


def lecun(n: int, n_prev: int, rng: Rng, scale: float = 10.0) -> np.ndarray:
    """LeCun: standard normal divided by sqrt(n_prev), i.e. variance 1 / n_prev (the course's
    regularization assignment init)."""
    return rng.standard_normal((n, n_prev)) / np.sqrt(n_prev)


def xavier(n: int, n_prev: int, rng: Rng, scale: float = 10.0) -> np.ndarray:
    """Glorot/Xavier normal: standard normal times sqrt(2 / (n_prev + n)), designed for tanh."""
    return rng.standard_normal((n, n_prev)) * np.sqrt(2.0 / (n_prev + n))


SCHEMES: dict[str, Callable[..., np.ndarray]] = {
    "zeros": zeros,
    "random": random,
    "he": he,
    "lecun": lecun,
    "xavier": xavier,
}


def check_scheme(name: str) -> None:
    """Raise a one-line ValueError unless ``name`` is a known init scheme."""
    if name not in SCHEMES:
        raise ValueError(f"init={name!r} is not a known init scheme; allowed: {', '.join(SCHEMES)}")


def initialize(
    layer_dims: list[int], scheme: str, rng: Rng, scale: float = 10.0
) -> dict[str, np.ndarray]:
    """Parameters ``W1, b1, ..., WL, bL`` (float64), weights drawn layer by layer from ``rng``."""
    check_scheme(scheme)
    draw = SCHEMES[scheme]
    params: dict[str, np.ndarray] = {}
    for l in range(1, len(layer_dims)):  # noqa: E741 - l is the course's layer index
        n, n_prev = layer_dims[l], layer_dims[l - 1]
        params[f"W{l}"] = np.asarray(draw(n, n_prev, rng, scale=scale), dtype=np.float64)
        params[f"b{l}"] = np.zeros((n, 1))
    return params
