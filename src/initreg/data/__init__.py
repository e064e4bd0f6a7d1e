"""The binary classification data sets, in course orientation: ``X: (n_x, m)``, ``Y: (1, m)``.

Every loader returns a :class:`Dataset` with train/dev/test splits and an estimate of the Bayes
(irreducible) error, which :mod:`initreg.diagnosis` needs to tell avoidable bias from variance.
Randomness comes only from explicit seeds turned into ``RandomState``/``Generator`` objects.

Its parts: ``dataset`` (``Dataset``, validation, stratified splits, ``train_subset``),
``football`` (the course's Regularization data, a MATLAB file), ``arcs`` (circles and moons: two
noisy arcs and their Bayes error) and ``fraud`` (synthetic card transactions from a known
transaction model). Everything public is importable from ``initreg.data``.
"""

from collections.abc import Callable

from initreg.data.arcs import (
    CIRCLE_ARCS,
    CIRCLES_BAYES_ERROR,
    MOON_ARCS,
    load_circles,
    load_moons,
)
from initreg.data.dataset import (
    SPLITS,
    DataError,
    Dataset,
    stratified_split,
    train_subset,
    validate_xy,
)
from initreg.data.football import (
    DEFAULT_FOOTBALL_PATH,
    FOOTBALL_BAYES_ERROR,
    MAT_KINDS,
    load_football,
)
from initreg.data.fraud import FRAUD, FRAUD_FEATURES, LEGIT, load_fraud

__all__ = [
    "CIRCLE_ARCS", "CIRCLES_BAYES_ERROR", "DEFAULT_FOOTBALL_PATH", "FOOTBALL_BAYES_ERROR",
    "FRAUD", "FRAUD_FEATURES", "LEGIT", "LOADERS", "MAT_KINDS", "MOON_ARCS", "SPLITS",
    "DataError", "Dataset", "load", "load_circles", "load_football", "load_fraud", "load_moons",
    "stratified_split", "train_subset", "validate_xy",
]

LOADERS: dict[str, Callable[..., Dataset]] = {
    "circles": load_circles,
    "football": load_football,
    "fraud": load_fraud,
    "moons": load_moons,
}


def load(name: str, **kwargs) -> Dataset:
    """The data set ``name`` (circles, football, fraud, moons), its loader called with kwargs."""
    if name not in LOADERS:
        raise DataError(f"unknown data set {name!r}; allowed: {', '.join(sorted(LOADERS))}")
    return LOADERS[name](**kwargs)
