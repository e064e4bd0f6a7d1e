"""A data set's splits in course orientation, their validation and their stratified cuts."""

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

SPLITS = ("train", "dev", "test")


class DataError(ValueError):
    """A data file or array that cannot be used, with the file and the problem named."""


@dataclass(frozen=True)
class Dataset:
    """Train/dev/test splits of one binary classification data set, in course orientation."""

    name: str
    X_train: np.ndarray  # (n_x, m_train) float64
    Y_train: np.ndarray  # (1, m_train) float64 in {0, 1}
    X_dev: np.ndarray
    Y_dev: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    bayes_error: float  # estimate of the irreducible error; each loader says how it was found

    @property
    def n_features(self) -> int:
        """The number of input features n_x."""
        return self.X_train.shape[0]

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The ``(X, Y)`` pair of split ``name``: ``X: (n_x, m)``, ``Y: (1, m)``."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; allowed: {', '.join(SPLITS)}")
        return getattr(self, f"X_{name}"), getattr(self, f"Y_{name}")


def validate_xy(X: np.ndarray, Y: np.ndarray, source: str) -> None:
    """Raise DataError naming ``source`` unless X: (n_x, m) is finite and Y: (1, m) is 0/1."""
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2:
        raise DataError(f"{source}: X must be 2-D (n_x, m), got shape {X.shape}")
    if Y.ndim != 2 or Y.shape[0] != 1:
        raise DataError(f"{source}: Y must have shape (1, m), got {Y.shape}")
    if X.shape[1] != Y.shape[1]:
        raise DataError(f"{source}: X has {X.shape[1]} examples (columns) but Y has {Y.shape[1]}")
    if X.shape[1] == 0:
        raise DataError(f"{source}: no examples (m == 0)")
    if not np.issubdtype(X.dtype, np.number) or not np.issubdtype(Y.dtype, np.number):
        raise DataError(f"{source}: X and Y must be numeric, got {X.dtype} and {Y.dtype}")
    if np.iscomplexobj(X) or np.iscomplexobj(Y):  # casting would drop the imaginary part
        raise DataError(f"{source}: X and Y must be real, got {X.dtype} and {Y.dtype}")
    if not np.all(np.isfinite(X)):
        raise DataError(f"{source}: X has {np.size(X) - np.isfinite(X).sum()} non-finite values")
    bad = ~np.isin(Y, (0, 1))
    if bad.any():
        found = [int(v) if float(v).is_integer() else float(v) for v in np.unique(Y[bad])]
        raise DataError(f"{source}: labels must be 0 or 1, found {found}")


def stratified_split(
    Y: np.ndarray, fraction: float, rng: np.random.Generator, at_least: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Column indices ``(idx_a, idx_b)``: ``fraction`` of each class (rounded) in a, the rest in b.

    Y: (1, m) labels in {0, 1}. Each class is shuffled with ``rng`` before it is cut, after
    ``round_half_up(fraction * class size)`` examples, but at least ``at_least`` of them; both
    index arrays are returned in increasing order, so the splits keep the original column order.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    labels = np.asarray(Y).reshape(-1)
    a, b = [], []
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_a = max(at_least, math.floor(fraction * idx.size + 0.5))  # round half up, always
        a.append(idx[:n_a])
        b.append(idx[n_a:])
    return np.sort(np.concatenate(a)), np.sort(np.concatenate(b))


def train_subset(ds: Dataset, fraction: float, seed: int) -> Dataset:
    """``ds`` with a stratified ``fraction`` of its training examples (seeded); dev/test kept.

    Each class is shuffled once with ``default_rng([seed, 2])`` and cut by ``stratified_split``
    (at least one example per class), so a smaller fraction's subset is inside a larger one's.
    """
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction <= 1:
        raise ValueError(f"train_fraction={fraction!r} is not allowed; allowed: a number in (0, 1]")
    if fraction == 1:
        return ds
    cols, _ = stratified_split(ds.Y_train, fraction, np.random.default_rng([seed, 2]), at_least=1)
    return dataclasses.replace(ds, X_train=ds.X_train[:, cols], Y_train=ds.Y_train[:, cols])


def _course_xy(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Examples-as-rows ``X: (m, n_x)``, ``y: (m,)`` or ``(m, 1)`` to ``(n_x, m)``, ``(1, m)``."""
    return np.asarray(X, dtype=np.float64).T.copy(), np.asarray(y, dtype=np.float64).reshape(1, -1)


def _dataset(name: str, splits: dict, bayes_error: float, source: str) -> Dataset:
    """A validated Dataset from ``{"train": (X, Y), "dev": ..., "test": ...}``."""
    for split, (X, Y) in splits.items():
        validate_xy(X, Y, f"{source} ({split})")
    n_x = {split: X.shape[0] for split, (X, _) in splits.items()}
    if len(set(n_x.values())) != 1:
        raise DataError(f"{source}: splits have different numbers of features {n_x}")
    arrays = {}
    for split, (X, Y) in splits.items():
        arrays[f"X_{split}"], arrays[f"Y_{split}"] = X, Y
    return Dataset(name=name, bayes_error=float(bayes_error), **arrays)


def _halve(X: np.ndarray, Y: np.ndarray, split_seed: int) -> dict:
    """Split a published test set ``X: (n_x, m)``, ``Y: (1, m)`` in stratified halves dev, test."""
    dev, test = stratified_split(Y, 0.5, np.random.default_rng(split_seed))
    return {"dev": (X[:, dev], Y[:, dev]), "test": (X[:, test], Y[:, test])}


def _split_60_20_20(X: np.ndarray, Y: np.ndarray, split_seed: int) -> dict:
    """Stratified 60/20/20 train/dev/test splits of ``X: (n_x, m)``, ``Y: (1, m)``."""
    rng = np.random.default_rng(split_seed)
    train, rest = stratified_split(Y, 0.6, rng)
    dev, test = stratified_split(Y[:, rest], 0.5, rng)
    dev, test = rest[dev], rest[test]
    return {s: (X[:, i], Y[:, i]) for s, i in zip(SPLITS, (train, dev, test), strict=True)}
