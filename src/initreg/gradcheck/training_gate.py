"""``gate``, the pipeline's check in front of training: it checks a seeded batch and, while the
verdict is inconclusive, re-checks on other examples, masks and directions.
"""

from dataclasses import replace

import numpy as np

from initreg.gradcheck.check import gradient_check, model_objective
from initreg.gradcheck.results import GradcheckResult

MAX_ATTEMPTS = 5  # gate(): checks made at most
MAX_DIRECTIONS = 100  # gate(): directions per array at most


def gate(
    model,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    batch_size: int = 64,
    mask_seed: int = 0,
    epsilon: float = 1e-7,
    threshold: float = 2e-7,
    mode: str = "directional",
    directions: int = 3,
    attempts: int = 3,
) -> GradcheckResult:
    """The check in front of training: ``model``'s own gradients, with its L2 and fixed masks.

    X: (n_x, m), Y: (1, m), the training examples. Attempt 1 checks ``batch_size`` columns drawn
    by ``default_rng(mask_seed)``, dropout masks fixed by ``mask_seed`` and directions drawn by
    ``default_rng(mask_seed)`` (what the pipeline always did). While the verdict is inconclusive
    (but not ``nondeterministic``: another batch cannot fix f) it checks again, at most
    ``attempts`` times in all: attempt k draws its columns, its masks' seed and its directions
    from ``default_rng([mask_seed, k - 1])``, and takes at most half the examples (rounded up)
    when there are fewer than ``2 x batch_size``, so that any one example (which may sit on a
    kink) is left out with probability at least 1/2. A failed attempt ends the gate: a real
    mismatch anywhere is a wrong gradient.

    Returns the last attempt's result with ``attempts`` (how many were made), ``batch`` (its
    columns and mask seed) and ``earlier`` (the results before it, each with its evidence). The
    work is bounded: ``attempts <= MAX_ATTEMPTS`` checks of at most ``batch_size`` examples, each
    ``1 + 2 x directions x arrays`` evaluations (``directions <= MAX_DIRECTIONS``; full mode:
    ``1 + 2 x elements``), and its diagnosis at most as many again.
    """
    m = _check_gate(X, Y, batch_size, mask_seed, directions, attempts)
    results: list[GradcheckResult] = []
    for k in range(attempts):
        cols, seed, rng = _attempt_batch(m, batch_size, mask_seed, k)
        f = model_objective(model, X[:, cols], Y[:, cols], mask_seed=seed)
        result = gradient_check(f, model.params, epsilon=epsilon, threshold=threshold, mode=mode,
                                directions=directions, rng=rng)
        results.append(replace(result, batch={"attempt": k + 1, "columns": cols.tolist(),
                                              "mask_seed": seed}))
        if result.verdict != "inconclusive" or result.reason == "nondeterministic":
            break
    return replace(results[-1], attempts=len(results), earlier=tuple(results[:-1]))


def _attempt_batch(m: int, batch_size: int, mask_seed: int, k: int):
    """(sorted columns, mask seed, direction generator) of attempt k + 1 (see ``gate``)."""
    if k == 0:
        cols = np.random.default_rng(mask_seed).permutation(m)[: min(batch_size, m)]
        return np.sort(cols), mask_seed, np.random.default_rng(mask_seed)
    rng = np.random.default_rng([mask_seed, k])
    cols = rng.permutation(m)[: min(batch_size, -(-m // 2))]
    return np.sort(cols), int(rng.integers(2**63)), rng


def _check_gate(X, Y, batch_size, mask_seed, directions, attempts) -> int:
    """m, the number of examples; or a one-line ValueError naming the bad argument."""
    for name, value, low, high in (("batch_size", batch_size, 1, None),
                                   ("mask_seed", mask_seed, 0, None),
                                   ("directions", directions, 1, MAX_DIRECTIONS),
                                   ("attempts", attempts, 1, MAX_ATTEMPTS)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low \
                or (high is not None and value > high):
            allowed = f"an integer >= {low}" + (f" and <= {high}" if high is not None else "")
            raise ValueError(f"{name}={value!r} is not allowed; allowed: {allowed}")
    if np.ndim(X) != 2 or np.shape(Y) != (1, np.shape(X)[1]) or np.shape(X)[1] < 1:
        raise ValueError(f"X {np.shape(X)} and Y {np.shape(Y)} are not allowed; allowed: X "
                         "(n_x, m) and Y (1, m) with m >= 1")
    return int(np.shape(X)[1])
