"""Tests for initreg.data: the loaders, their splits, their errors and their Bayes errors."""

import math

import numpy as np
import pytest
import scipy.io
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_circles, make_moons

from initreg import data
from initreg.data import DataError, Dataset, load, stratified_split, validate_xy

COURSE_FILE = data.DEFAULT_FOOTBALL_PATH
NAMES = ("circles", "football", "fraud", "moons")


@pytest.fixture(scope="module")
def datasets() -> dict[str, Dataset]:
    return {name: load(name) for name in NAMES}


def sorted_columns(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The columns of ``vstack(X, Y)`` in lexicographic order: a set of examples, as an array."""
    Z = np.vstack([X, Y])
    return Z[:, np.lexsort(Z[::-1])]


# --- every loader ---


@pytest.mark.parametrize("name", NAMES)
def test_loader_shapes_and_dtypes(datasets, name):
    ds = datasets[name]
    assert ds.name == name
    for split in data.SPLITS:
        X, Y = ds.split(split)
        assert X.dtype == np.float64 and Y.dtype == np.float64
        assert X.ndim == 2 and X.shape[0] == ds.n_features
        assert Y.shape == (1, X.shape[1])
        assert set(np.unique(Y)) == {0.0, 1.0}  # both classes in every split
        assert np.all(np.isfinite(X))
    assert 0.0 <= ds.bayes_error < 0.5


@pytest.mark.parametrize("name", NAMES)
def test_loaders_are_deterministic(datasets, name):
    again = load(name)
    for split in data.SPLITS:
        for a, b in zip(datasets[name].split(split), again.split(split), strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_split_seed_changes_dev_but_not_the_examples(datasets, name):
    ds, other = datasets[name], load(name, split_seed=1)
    assert not np.array_equal(ds.X_dev, other.X_dev)
    if name != "fraud":  # fraud is z-scored by its train split, which moves with the split
        pooled = [np.hstack([d.X_train, d.X_dev, d.X_test]) for d in (ds, other)]
        labels = [np.hstack([d.Y_train, d.Y_dev, d.Y_test]) for d in (ds, other)]
        np.testing.assert_array_equal(
            sorted_columns(pooled[0], labels[0]), sorted_columns(pooled[1], labels[1])
        )


def test_split_rejects_unknown_names(datasets):
    with pytest.raises(ValueError, match="unknown split 'val'; allowed: train, dev, test"):
        datasets["circles"].split("val")


def test_load_rejects_unknown_names():
    with pytest.raises(
        DataError, match="unknown data set 'mnist'; allowed: circles, football, fraud, moons"
    ):
        load("mnist")


def test_load_passes_kwargs():
    assert load("moons", n_samples=200).X_train.shape == (2, 120)


# --- circles ---


def test_circles_are_the_course_sets(datasets):
    ds = datasets["circles"]
    assert ds.X_train.shape == (2, 300) and ds.Y_train.sum() == 150
    X, y = make_circles(n_samples=300, noise=0.05, random_state=np.random.RandomState(1))
    np.testing.assert_array_equal(ds.X_train, X.T)
    np.testing.assert_array_equal(ds.Y_train, y.reshape(1, -1))
    assert ds.X_dev.shape[1] + ds.X_test.shape[1] == 100
    assert ds.Y_dev.sum() == ds.Y_test.sum() == 25  # stratified halves of 50 + 50


def test_circles_dev_and_test_are_the_published_test_set(datasets):
    ds = datasets["circles"]
    X, y = make_circles(n_samples=100, noise=0.05, random_state=np.random.RandomState(2))
    np.testing.assert_array_equal(
        sorted_columns(np.hstack([ds.X_dev, ds.X_test]), np.hstack([ds.Y_dev, ds.Y_test])),
        sorted_columns(X.T, y.reshape(1, -1).astype(np.float64)),
    )


def test_circles_bayes_error_matches_a_radial_approximation_and_sklearn_samples():
    # The circles lie 0.1 = 2 noise sd either side of radius 0.9: about Phi(-2) of points cross.
    assert data.CIRCLES_BAYES_ERROR == pytest.approx(0.5 * math.erfc(2 / math.sqrt(2)), abs=1e-3)
    X, y = make_circles(n_samples=8_000, noise=0.05, random_state=np.random.RandomState(7))
    rule = data.arcs._arc_log_odds(X.T, data.CIRCLE_ARCS, 0.05) > 0
    assert np.mean(rule != y) == pytest.approx(data.CIRCLES_BAYES_ERROR, abs=0.005)  # ~3 se


# --- football ---


def test_football_has_the_course_counts(datasets):
    ds = datasets["football"]
    assert ds.X_train.shape == (2, 211) and ds.Y_train.sum() == 106
    assert ds.X_dev.shape[1] + ds.X_test.shape[1] == 200
    assert ds.Y_dev.sum() + ds.Y_test.sum() == 87
    assert abs(ds.Y_dev.sum() - ds.Y_test.sum()) <= 1  # stratified halves


def test_football_is_transposed_like_the_course(datasets):
    raw = scipy.io.loadmat(COURSE_FILE)
    np.testing.assert_array_equal(datasets["football"].X_train, raw["X"].T)
    np.testing.assert_array_equal(datasets["football"].Y_train, raw["y"].T)


def test_football_dev_and_test_are_the_published_test_set(datasets):
    ds = datasets["football"]
    raw = scipy.io.loadmat(COURSE_FILE)
    np.testing.assert_array_equal(
        sorted_columns(np.hstack([ds.X_dev, ds.X_test]), np.hstack([ds.Y_dev, ds.Y_test])),
        sorted_columns(raw["Xval"].T, raw["yval"].T.astype(np.float64)),
    )


def test_football_accepts_an_explicit_path(tmp_path, datasets):
    copy = tmp_path / "copy.mat"
    copy.write_bytes(COURSE_FILE.read_bytes())
    np.testing.assert_array_equal(
        load("football", path=str(copy)).X_dev, datasets["football"].X_dev
    )


def write_mat(path, **overrides):
    """A copy of the course file at ``path`` with some keys replaced (None drops a key)."""
    arrays = {k: v for k, v in scipy.io.loadmat(COURSE_FILE).items() if not k.startswith("__")}
    arrays.update(overrides)
    scipy.io.savemat(path, {k: v for k, v in arrays.items() if v is not None})
    return path


def nan_at_first(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    a[0, 0] = np.nan
    return a


@pytest.mark.parametrize(
    "make_file, message",
    [
        (lambda p: p / "absent.mat", "no such file"),
        (lambda p: p, "no such file"),  # a directory
        (lambda p: write_bytes(p / "empty.mat", b""), "not a readable"),
        (lambda p: write_bytes(p / "notes.mat", b"X,y\n1,0\n"), "not a readable"),
        (lambda p: truncated(p, 100), "not a readable"),
        (lambda p: truncated(p, 3000), "not a readable"),
        (lambda p: truncated(p, 6000), "not a readable"),
        (lambda p: truncated(p, 2779), r"missing keys Xval, yval \(found: X, y\)"),  # at a key
        (lambda p: write_mat(p / "m.mat", Xval=None), r"missing keys Xval \(found: X, y, yval\)"),
        (lambda p: write_mat(p / "m.mat", X=nan_at_first(scipy.io.loadmat(COURSE_FILE)["X"])),
         r"\(X, y\): X has 1 non-finite values"),
        (lambda p: write_mat(p / "m.mat", Xval=np.full((200, 2), np.inf)),
         r"\(Xval, yval\): X has 400 non-finite values"),
        (lambda p: write_mat(p / "m.mat", y=np.full((211, 1), 2, dtype=np.uint8)),
         r"labels must be 0 or 1, found \[2\]"),
        (lambda p: write_mat(p / "m.mat", yval=np.arange(200).reshape(200, 1) % 4),
         r"labels must be 0 or 1, found \[2, 3\]"),
        (lambda p: write_mat(p / "m.mat", y=np.zeros((210, 1))),
         "X has 211 examples .* but Y has 210"),
        (lambda p: write_mat(p / "m.mat", X=np.zeros((211, 2, 2))), "X must be 2-D"),
        (lambda p: write_mat(p / "m.mat", Xval=np.zeros((200, 3))), "different numbers of"),
    ],
)  # fmt: skip
def test_football_errors_name_the_file_and_problem(tmp_path, make_file, message):
    path = make_file(tmp_path)
    with pytest.raises(DataError, match=message) as info:
        data.load_football(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def write_bytes(path, content: bytes):
    path.write_bytes(content)
    return path


def truncated(directory, n_bytes: int):
    """The course file's first ``n_bytes`` bytes."""
    return write_bytes(directory / f"truncated_{n_bytes}.mat", COURSE_FILE.read_bytes()[:n_bytes])


# --- moons ---


def test_moons_split_60_20_20_stratified(datasets):
    ds = datasets["moons"]
    assert [ds.split(s)[0].shape[1] for s in data.SPLITS] == [600, 200, 200]
    assert [ds.split(s)[1].sum() for s in data.SPLITS] == [300, 100, 100]


def test_moons_are_sklearns(datasets):
    ds = datasets["moons"]
    X, y = make_moons(n_samples=1000, noise=0.25, random_state=np.random.RandomState(0))
    np.testing.assert_array_equal(
        sorted_columns(np.hstack([ds.X_train, ds.X_dev, ds.X_test]),
                       np.hstack([ds.Y_train, ds.Y_dev, ds.Y_test])),
        sorted_columns(X.T, y.reshape(1, -1).astype(np.float64)),
    )  # fmt: skip


def test_moons_bayes_error_is_the_error_of_the_bayes_rule_on_sklearn_samples(datasets):
    X, y = make_moons(n_samples=40_000, noise=0.25, random_state=np.random.RandomState(7))
    rule = data.arcs._arc_log_odds(X.T, data.MOON_ARCS, 0.25) > 0
    assert datasets["moons"].bayes_error == pytest.approx(np.mean(rule != y), abs=0.004)  # ~3.5 se


def test_moons_bayes_error_grows_with_noise():
    assert load("moons", n_samples=100, noise=0.0).bayes_error == 0.0
    errors = [data.arcs._arc_bayes_error(data.MOON_ARCS, s, n=10_000) for s in (0.15, 0.25, 0.35)]
    assert 0.0 < errors[0] < errors[1] < errors[2] < 0.5


def test_moons_rejects_negative_noise():
    with pytest.raises(ValueError, match="noise must be >= 0, got -0.1"):
        data.load_moons(noise=-0.1)


# --- fraud ---


def test_fraud_size_and_rate(datasets):
    ds = datasets["fraud"]
    assert ds.n_features == len(data.FRAUD_FEATURES) == 12
    sizes = [ds.split(s)[0].shape[1] for s in data.SPLITS]
    frauds = [ds.split(s)[1].sum() for s in data.SPLITS]
    assert sizes == [12_000, 4_000, 4_000] and frauds == [240, 80, 80]


def test_fraud_is_scaled_with_train_statistics_only(datasets):
    ds = datasets["fraud"]
    np.testing.assert_allclose(ds.X_train.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(ds.X_train.std(axis=1), 1.0, rtol=1e-12)
    assert np.abs(ds.X_dev.mean(axis=1)).max() > 1e-3  # scaled with all data, dev would not move


def test_fraud_seed_changes_the_data(datasets):
    assert not np.array_equal(load("fraud", seed=1).X_train, datasets["fraud"].X_train)


def test_fraud_classes_overlap_but_are_separable(datasets):
    ds = datasets["fraud"]
    assert 0.002 < ds.bayes_error < 0.015  # well below the all-legitimate rule's 0.02
    fraud = ds.Y_train[0] == 1
    amount = ds.X_train[data.FRAUD_FEATURES.index("log_amount")]
    assert amount[fraud].mean() - amount[~fraud].mean() > 0.5  # shifted, in train sd units


def test_fraud_bayes_error_is_the_error_of_the_bayes_rule():
    # If the densities disagreed with the sampler, the posteriors would be miscalibrated and
    # their min would not average to the rule's error rate.
    raw, y = data.fraud._sample_transactions(100_000, 0.02, np.random.default_rng(99))
    log_odds = math.log(0.02 / 0.98) + data.FRAUD.log_density(raw) - data.LEGIT.log_density(raw)
    rule_error = np.mean((log_odds > 0) != y)  # standard error ~0.0003
    assert rule_error == pytest.approx(data.fraud._fraud_bayes_error(0.02), abs=0.0015)


def test_fraud_rejects_bad_rates():
    with pytest.raises(ValueError, match="fraud_rate must be in"):
        data.load_fraud(fraud_rate=0.0)
    with pytest.raises(ValueError, match="gives 2 fraud rows"):
        data.load_fraud(n_samples=100, fraud_rate=0.02)


# --- validate_xy and stratified_split ---


@pytest.mark.parametrize(
    "X, Y, message",
    [
        (np.zeros(3), np.zeros((1, 3)), r"X must be 2-D \(n_x, m\), got shape \(3,\)"),
        (np.zeros((2, 3)), np.zeros(3), r"Y must have shape \(1, m\), got \(3,\)"),
        (np.zeros((2, 3)), np.zeros((2, 3)), r"Y must have shape \(1, m\), got \(2, 3\)"),
        (np.zeros((2, 3)), np.zeros((1, 4)), "X has 3 examples .* but Y has 4"),
        (np.zeros((2, 0)), np.zeros((1, 0)), r"no examples \(m == 0\)"),
        (np.array([[0.0, np.nan, np.inf]]), np.zeros((1, 3)), "X has 2 non-finite values"),
        (np.zeros((2, 3)), np.array([[0, 1, -1]]), r"found \[-1\]"),
        (np.zeros((2, 3)), np.array([[0.5, 1, np.nan]]), r"found \[0.5, nan\]"),
        (np.zeros((2, 1), dtype=object), np.zeros((1, 1)), "must be numeric"),
    ],
)
def test_validate_xy_names_source_and_problem(X, Y, message):
    with pytest.raises(DataError, match=message) as info:
        validate_xy(X, Y, "my.csv")
    assert str(info.value).startswith("my.csv: ")


def test_validate_xy_accepts_course_arrays():
    validate_xy(np.ones((2, 3)), np.array([[0.0, 1.0, 1.0]]), "ok")


@settings(max_examples=40)
@given(
    labels=st.lists(st.integers(0, 1), min_size=1, max_size=60),
    fraction=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_stratified_split_partitions_each_class(labels, fraction, seed):
    Y = np.array([labels], dtype=np.float64)
    a, b = stratified_split(Y, fraction, np.random.default_rng(seed))
    assert np.array_equal(np.sort(np.concatenate([a, b])), np.arange(Y.shape[1]))
    assert np.all(np.diff(a) > 0) and np.all(np.diff(b) > 0)
    for cls in (0, 1):
        n = int(np.sum(Y == cls))
        assert int(np.sum(Y[0, a] == cls)) == math.floor(fraction * n + 0.5)


def test_stratified_split_depends_on_rng_only():
    Y = np.array([[0, 1] * 20], dtype=np.float64)
    first = stratified_split(Y, 0.5, np.random.default_rng(3))
    again = stratified_split(Y, 0.5, np.random.default_rng(3))
    other = stratified_split(Y, 0.5, np.random.default_rng(4))
    assert all(np.array_equal(x, y) for x, y in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])


def test_stratified_split_rejects_bad_arguments():
    Y = np.zeros((1, 4))
    with pytest.raises(ValueError, match=r"fraction must be in \[0, 1\], got 1.5"):
        stratified_split(Y, 1.5, np.random.default_rng(0))
    with pytest.raises(TypeError, match="must be a numpy.random.Generator, got RandomState"):
        stratified_split(Y, 0.5, np.random.RandomState(0))
