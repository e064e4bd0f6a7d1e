"""Per-layer statistics: hand-computed cases, and the physics of init x depth at width 50."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from initreg.nn import Network, initialize, train
from initreg.nn.stats import (
    GradRecorder,
    activation_stats,
    grad_norms,
    layer_count,
    layer_stats,
    symmetry_l1,
)

SEEDS = (0, 1, 2, 3, 4)


def ratio(init: str, width: int, depth: int, seed: int, scale: float = 10.0) -> float:
    """act_std of the last hidden layer / layer 1's at initialisation, on N(0,1) inputs."""
    params = initialize([2, *[width] * depth, 1], init, np.random.default_rng(seed), scale)
    X = np.random.default_rng([seed, 7]).standard_normal((2, 500))
    s = activation_stats(params, X)
    return s[f"act_std_l{depth}"] / s["act_std_l1"]


@pytest.mark.parametrize("seed", SEEDS)
def test_he_keeps_the_activation_std_of_layer_20_within_a_factor_10(seed):
    assert 0.1 < ratio("he", 50, 20, seed) < 10


@pytest.mark.parametrize("init", ["lecun", "xavier"])
@pytest.mark.parametrize("seed", SEEDS)
def test_lecun_and_xavier_halve_the_variance_at_every_relu_layer(init, seed):
    assert ratio(init, 50, 20, seed) < 1e-2


@pytest.mark.parametrize("seed", SEEDS)
def test_random_scale_10_explodes_and_scale_001_vanishes(seed):
    assert ratio("random", 50, 20, seed, scale=10.0) > 1e10
    assert ratio("random", 50, 20, seed, scale=0.01) < 1e-10


def test_he_ratio_spreads_more_at_width_20_than_at_width_50():
    with threadpool_limits(limits=1, user_api="blas"):  # 10x faster for products this small
        spread = {w: np.log10([ratio("he", w, 20, s) for s in range(200)]) for w in (50, 20)}
    assert spread[20].std() > 1.3 * spread[50].std()
    assert np.ptp(spread[20]) > np.ptp(spread[50]) + 0.5  # measured: 2.44 and 1.41 decades
    assert spread[20].min() < -1  # ratio < 0.1: a narrow net's own draw can vanish under He


def test_activation_stats_match_a_hand_computed_net():
    params = {"W1": np.array([[1.0, 0.0], [0.0, -1.0]]), "b1": np.zeros((2, 1)),
              "W2": np.array([[1.0, 1.0]]), "b2": np.zeros((1, 1))}
    X = np.array([[1.0, -2.0], [3.0, -4.0]])
    # A1 = relu([[1, -2], [-3, 4]]) = [[1, 0], [0, 4]]; Z2 = [1, 4]
    s = activation_stats(params, X)
    assert s["act_mean_l1"] == pytest.approx(1.25)
    assert s["act_std_l1"] == pytest.approx(np.std([1, 0, 0, 4]))
    sig = 1 / (1 + np.exp(-np.array([1.0, 4.0])))
    assert s["act_mean_l2"] == pytest.approx(sig.mean())


def test_grad_norms_are_frobenius_norms():
    grads = {"W1": np.array([[3.0, 4.0]]), "b1": np.ones((1, 1)), "W2": np.array([[0.0]])}
    assert grad_norms(grads, 2) == {"grad_norm_l1": 5.0, "grad_norm_l2": 0.0}


def test_symmetry_is_zero_for_equal_rows_and_positive_otherwise():
    assert symmetry_l1(np.zeros((5, 3))) == 0.0
    assert symmetry_l1(np.tile([[0.3, -1.2, 7.0]], (4, 1))) == 0.0
    W = np.array([[3.0, 4.0], [0.0, 0.0]])  # distance 5, mean norm 2.5
    assert symmetry_l1(W) == pytest.approx(2.0)
    assert symmetry_l1(np.ones((1, 4))) == 0.0  # one unit: nothing to compare


def test_layer_count_refuses_other_layouts():
    net = Network([3, 4, 2, 1], init="he")
    assert layer_count(net.params) == 3
    assert layer_count({"w": np.ones((2, 2))}) is None
    assert layer_count({"W1": np.ones((2, 3)), "b1": np.zeros((2, 1)), "W3": np.ones((1, 2)),
                        "b3": np.zeros((1, 1))}) is None  # a gap in the numbering
    assert layer_count({"W1": np.ones((2, 3)), "b1": np.zeros((2, 1)), "W2": np.ones((1, 5)),
                        "b2": np.zeros((1, 1))}) is None  # shapes do not chain
    assert layer_stats({"w": np.ones(3)}, np.ones((3, 2))) is None


def test_grad_recorder_keeps_the_gradients_of_the_last_call():
    net = Network([2, 3, 1], init="he", seed=1)
    X = np.random.default_rng(0).standard_normal((2, 8))
    Y = (X[:1] > 0).astype(float)
    rec = GradRecorder(net)
    assert rec.params is net.params
    cost, grads = rec.cost_and_grads(X, Y)
    expected_cost, expected = net.cost_and_grads(X, Y)
    assert cost == expected_cost and rec.grads is grads
    np.testing.assert_array_equal(grads["W1"], expected["W1"])
    s = layer_stats(net.params, X, rec.grads)
    assert s["grad_norm_l1"] == pytest.approx(np.linalg.norm(expected["W1"]))
    assert set(s) == {"act_mean_l1", "act_std_l1", "act_mean_l2", "act_std_l2",
                      "grad_norm_l1", "grad_norm_l2", "symmetry_l1"}


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_training_through_the_recorder_takes_the_fast_step_and_changes_no_bits(engine):
    X = np.random.default_rng(1).standard_normal((2, 60))
    Y = (X[:1] * X[1:] > 0).astype(float)
    direct, watched = (Network([2, 6, 3, 1], init="he", seed=2, lambd=0.1, keep_prob=0.9)
                       for _ in range(2))
    rec = GradRecorder(watched)
    assert rec.step_fn(X, Y, engine=engine) is not None  # the buffer-reusing step
    seen = {}

    def on_log(i, cost, _model):  # the gradients this iteration's update is about to use
        seen[i] = {k: v.copy() for k, v in rec.grads.items()}

    kw = {"learning_rate": 0.5, "num_iterations": 30, "log_every": 10, "engine": engine}
    h1 = train(direct, X, Y, rng=np.random.default_rng(4), **kw)
    h2 = train(rec, X, Y, rng=np.random.default_rng(4), callback=on_log, **kw)
    assert h1.costs == h2.costs
    for name, p in direct.params.items():
        np.testing.assert_array_equal(watched.params[name], p)
    fresh = Network([2, 6, 3, 1], init="he", seed=2, lambd=0.1, keep_prob=0.9)
    _, g0 = fresh.cost_and_grads(X, Y, rng=np.random.default_rng(4),  # iteration 0's masks
                                 engine=engine)
    for name, g in g0.items():
        np.testing.assert_array_equal(seen[0][name], g)
