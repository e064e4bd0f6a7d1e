"""Circles and moons: two noisy arcs each (scikit-learn's generators), and their Bayes error."""

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from initreg.data.dataset import DataError, Dataset, _course_xy, _dataset, _halve, _split_60_20_20


@dataclass(frozen=True)
class _Arc:
    """A circular arc: points ``center + radius * (cos a, sin a)`` for angles a in [start, stop)."""

    center: tuple[float, float]
    radius: float
    start: float
    stop: float

    def at(self, angles: np.ndarray) -> np.ndarray:
        """The points at ``angles: (k,)`` as ``(2, k)``."""
        return np.array(self.center)[:, None] + self.radius * np.stack(
            [np.cos(angles), np.sin(angles)]
        )

    def quadrature(self, spacing: float) -> np.ndarray:
        """Midpoints ``(2, k)`` of k equal pieces of the arc, each at most ``spacing`` long."""
        k = max(16, math.ceil(self.radius * (self.stop - self.start) / spacing))
        return self.at(self.start + (np.arange(k) + 0.5) * (self.stop - self.start) / k)


# make_circles(factor=.8): class 0 is the unit circle, class 1 the circle of radius 0.8.
CIRCLE_ARCS = (_Arc((0.0, 0.0), 1.0, 0.0, 2 * np.pi), _Arc((0.0, 0.0), 0.8, 0.0, 2 * np.pi))
# make_moons: class 0 is (cos t, sin t); class 1 is (1 - cos t, 0.5 - sin t), t in [0, pi].
MOON_ARCS = (_Arc((0.0, 0.0), 1.0, 0.0, np.pi), _Arc((1.0, 0.5), 1.0, np.pi, 2 * np.pi))


def _arc_log_density(x: np.ndarray, arc: _Arc, noise: float) -> np.ndarray:
    """log p(x) for x ~ uniform point on ``arc`` + N(0, noise^2 I); ``x: (2, n)`` -> ``(n,)``."""
    nodes = arc.quadrature(noise / 4)  # a Gaussian is integrated accurately at spacing sigma/4
    out = np.empty(x.shape[1])
    for lo in range(0, x.shape[1], 2048):
        d2 = ((x[:, lo : lo + 2048, None] - nodes[:, None, :]) ** 2).sum(axis=0)
        e = -d2 / (2 * noise**2)
        top = e.max(axis=1)  # log-sum-exp: far from both arcs both densities underflow
        out[lo : lo + 2048] = top + np.log(np.exp(e - top[:, None]).mean(axis=1))
    return out - np.log(2 * np.pi * noise**2)


def _arc_log_odds(x: np.ndarray, arcs: tuple[_Arc, _Arc], noise: float) -> np.ndarray:
    """log p(y=1 | x) / p(y=0 | x) with equal priors; ``x: (2, n)`` -> ``(n,)``."""
    return _arc_log_density(x, arcs[1], noise) - _arc_log_density(x, arcs[0], noise)


@lru_cache(maxsize=32)
def _arc_bayes_error(arcs: tuple[_Arc, _Arc], noise: float, n: int = 100_000) -> float:
    """Monte-Carlo Bayes error of two equally likely noisy arcs: E_x[min_k p(k | x)].

    The min-posterior average has far less variance than counting the Bayes rule's mistakes;
    its sample is drawn from a fixed stream of its own, independent of any data seed.
    """
    if noise == 0:
        return 0.0  # the arcs of both data sets do not touch
    rng = np.random.default_rng(np.random.SeedSequence(0, spawn_key=(0xBA7E5,)))
    y = rng.random(n) < 0.5
    x = np.empty((2, n))
    for cls, arc in enumerate(arcs):
        rows = np.flatnonzero(y == cls)
        x[:, rows] = arc.at(rng.uniform(arc.start, arc.stop, rows.size))
    x += rng.normal(scale=noise, size=x.shape)
    return float(np.mean(1.0 / (1.0 + np.exp(np.abs(_arc_log_odds(x, arcs, noise))))))


# By symmetry only the radius matters; integrating min of the two radial (Rice) densities on a
# fine grid gives 0.02283, _arc_bayes_error(CIRCLE_ARCS, 0.05, n=10**6) 0.02292, and the rough
# Phi(-0.1 / 0.05) = 0.02275 agrees: each circle is 2 noise sd from the midway radius 0.9.
CIRCLES_BAYES_ERROR = 0.0228


def load_circles(split_seed: int = 0) -> Dataset:
    """The course's Initialization data: two noisy concentric circles, 2 features.

    train: the course's 300 examples, ``make_circles(300, noise=.05)`` after the global seed 1
    (the same draw as ``random_state=RandomState(1)``). The course's test set (100 examples,
    seed 2) is cut in stratified halves by ``default_rng(split_seed)``: dev and test together are
    exactly the published test set.
    bayes_error: 0.0228, not 0: the radii 1 and 0.8 are only 4 noise sd apart, so ~2.3% of the
    points fall past the midway circle; see ``CIRCLES_BAYES_ERROR``.
    """
    from sklearn.datasets import make_circles  # here: scikit-learn takes over a second to import

    train = _course_xy(*make_circles(300, noise=0.05, random_state=np.random.RandomState(1)))
    published = _course_xy(*make_circles(100, noise=0.05, random_state=np.random.RandomState(2)))
    splits = {"train": train, **_halve(*published, split_seed)}
    return _dataset("circles", splits, CIRCLES_BAYES_ERROR, "circles")


def load_moons(
    n_samples: int = 1000, noise: float = 0.25, seed: int = 0, split_seed: int = 0
) -> Dataset:
    """Two interleaving noisy half circles (``make_moons``, ``RandomState(seed)``), 2 features.

    Split 60/20/20 stratified by ``default_rng(split_seed)``. bayes_error: computed from the
    generative model (a uniform point on each arc plus N(0, noise^2 I)): the class densities are
    integrated along the arcs numerically and the min-posterior averaged over a 100,000-point
    Monte-Carlo sample (standard error ~0.0003): 0.0568 at noise 0.25 (10^6 points and a fine
    grid integration give 0.0563), 0.029 at 0.2, 0.0006 at 0.1.
    """
    if not noise >= 0:
        raise DataError(f"noise must be >= 0, got {noise}")
    from sklearn.datasets import make_moons  # here: scikit-learn takes over a second to import

    X, Y = _course_xy(
        *make_moons(n_samples=n_samples, noise=noise, random_state=np.random.RandomState(seed))
    )
    bayes = _arc_bayes_error(MOON_ARCS, float(noise))
    return _dataset("moons", _split_60_20_20(X, Y, split_seed), bayes, "moons")
