"""The course's published numbers, reproduced to the example with the `course` convention."""

import math

import numpy as np
import pytest

from initreg import data
from initreg.nn import Network, mask_rng, train


def _correct(net, X, Y) -> int:
    return int((net.predict(X) == Y).sum())


def _published_test_correct(net, ds) -> int:
    # dev and test together are the course's published test set
    return _correct(net, ds.X_dev, ds.Y_dev) + _correct(net, ds.X_test, ds.Y_test)


@pytest.fixture(scope="module")
def circles():
    return data.load_circles()


@pytest.fixture(scope="module")
def football():
    return data.load_football()


def _init_run(ds, init):
    net = Network([2, 10, 5, 1], init=init, seed=3, convention="course")
    history = train(net, ds.X_train, ds.Y_train, learning_rate=0.01, num_iterations=15000,
                    log_every=1000)
    return net, history


@pytest.mark.parametrize(("init", "train_ok", "test_ok"), [
    ("zeros", 150, 50),
    ("random", 249, 86),
    ("he", 298, 96),
])
def test_initialization_assignment(circles, init, train_ok, test_ok):
    net, history = _init_run(circles, init)
    assert _correct(net, circles.X_train, circles.Y_train) == train_ok
    assert _published_test_correct(net, circles) == test_ok
    if init == "he":
        assert history.costs[0] == pytest.approx(0.8830537463419761, rel=1e-6)
        assert history.iterations[14] == 14000
        assert history.costs[14] == pytest.approx(0.0736, abs=5e-5)
    if init == "zeros":
        assert history.costs == pytest.approx([math.log(2)] * len(history.costs), rel=1e-6)


@pytest.mark.parametrize(("lambd", "keep_prob", "train_ok", "test_ok"), [
    (0.0, 1.0, 200, 183),
    (0.7, 1.0, 198, 186),
    (0.0, 0.86, 196, 190),
])
def test_regularization_assignment(football, lambd, keep_prob, train_ok, test_ok):
    net = Network([2, 20, 3, 1], init="lecun", seed=3, convention="course",
                  lambd=lambd, keep_prob=keep_prob)
    train(net, football.X_train, football.Y_train, learning_rate=0.3, num_iterations=30000,
          log_every=10000, rng=mask_rng("course", 3))
    assert _correct(net, football.X_train, football.Y_train) == train_ok
    assert _published_test_correct(net, football) == test_ok


def test_course_dropout_masks_are_drawn_like_the_assignment():
    # forward_propagation_with_dropout: np.random.seed(1); D1 = rand(20, m) < kp; D2 = rand(3, m)
    from initreg.nn import layers

    rs = np.random.RandomState(1)
    D1 = rs.rand(20, 7) < 0.86
    D2 = rs.rand(3, 7) < 0.86
    course = mask_rng("course", 3)(12345)
    _, m1 = layers.dropout_forward(np.ones((20, 7)), 0.86, course)
    _, m2 = layers.dropout_forward(np.ones((3, 7)), 0.86, course)
    np.testing.assert_array_equal(m1, D1)
    np.testing.assert_array_equal(m2, D2)
