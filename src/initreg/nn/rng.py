"""Random-number conventions: where weights and dropout masks come from.

- ``default``: weights from ``numpy.random.default_rng(seed)``; dropout masks from one
  ``Generator`` (seeded from ``seed``) that advances, so every iteration draws fresh masks.
- ``course``: exactly what the Deep Learning Specialization's assignments do, so their published
  numbers are reproduced to the example: weights drawn layer by layer from ``RandomState(seed)``
  (the assignments use seed 3), and dropout masks from a ``RandomState(1)`` re-created at every
  forward pass, so the masks are the *same* every iteration.
"""

from collections.abc import Callable

import numpy as np

CONVENTIONS = ("default", "course")
COURSE_MASK_SEED = 1  # the Regularization assignment re-seeds NumPy with 1 in every forward pass

Rng = np.random.Generator | np.random.RandomState
MaskRng = Rng | Callable[[int], Rng]


def check_convention(convention: str) -> None:
    """Raise a one-line ValueError unless ``convention`` is known."""
    if convention not in CONVENTIONS:
        raise ValueError(
            f"convention={convention!r} is not known; allowed: {', '.join(CONVENTIONS)}"
        )


def weight_rng(convention: str, seed: int) -> Rng:
    """The generator that initial weights are drawn from."""
    check_convention(convention)
    if convention == "course":
        return np.random.RandomState(seed)
    return np.random.default_rng(seed)


def mask_rng(convention: str, seed: int) -> MaskRng:
    """Dropout masks for training: a Generator, or a per-iteration factory for the course."""
    check_convention(convention)
    if convention == "course":
        return lambda iteration: np.random.RandomState(COURSE_MASK_SEED)
    # A stream distinct from the weights' (same seed, different spawn key).
    return np.random.default_rng([seed, 1])
