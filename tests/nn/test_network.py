import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from initreg.gradcheck import gradient_check, model_objective
from initreg.nn import Network
from initreg.nn.init import SCHEMES


def _data(n_x, m, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_x, m))
    Y = (rng.random((1, m)) > 0.5).astype(float)
    return X, Y


def test_params_shapes_and_outputs():
    net = Network([3, 4, 2, 1])
    X, _ = _data(3, 7)
    assert {k: v.shape for k, v in net.params.items()} == {
        "W1": (4, 3), "b1": (4, 1), "W2": (2, 4), "b2": (2, 1), "W3": (1, 2), "b3": (1, 1)
    }
    proba = net.predict_proba(X)
    assert proba.shape == (1, 7) and ((proba > 0) & (proba < 1)).all()
    np.testing.assert_array_equal(net.predict(X), (proba > 0.5).astype(float))


def test_same_seed_same_weights_and_different_seed_different_weights():
    a, b, c = Network([2, 5, 1], seed=4), Network([2, 5, 1], seed=4), Network([2, 5, 1], seed=5)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_huge_random_init_gives_a_large_finite_cost():
    net = Network([2, 10, 5, 1], init="random", init_scale=1e6)
    X, Y = _data(2, 20)
    cost, grads = net.cost_and_grads(X, Y)
    assert np.isfinite(cost) and cost > 1e3
    assert all(np.isfinite(g).all() for g in grads.values())


def test_l2_only_changes_the_weight_gradients_by_lambd_over_m_times_w():
    X, Y = _data(3, 9)
    plain, reg = Network([3, 4, 1], seed=1), Network([3, 4, 1], seed=1, lambd=0.7)
    c0, g0 = plain.cost_and_grads(X, Y)
    c1, g1 = reg.cost_and_grads(X, Y)
    for name in ("b1", "b2"):
        np.testing.assert_array_equal(g0[name], g1[name])
    for name in ("W1", "W2"):
        np.testing.assert_allclose(g1[name] - g0[name], 0.7 / 9 * plain.params[name], rtol=1e-12)
    l2 = 0.7 / (2 * 9) * sum(np.sum(plain.params[w] ** 2) for w in ("W1", "W2"))
    assert c1 - c0 == pytest.approx(l2, rel=1e-12)


def test_dropout_only_in_training_and_only_with_an_rng():
    X, Y = _data(3, 9)
    net = Network([3, 8, 1], keep_prob=0.5)
    no_rng = net.cost_and_grads(X, Y)[0]
    assert no_rng == Network([3, 8, 1]).cost_and_grads(X, Y)[0]
    assert net.cost_and_grads(X, Y, rng=np.random.default_rng(0))[0] != no_rng
    np.testing.assert_array_equal(net.predict_proba(X), Network([3, 8, 1]).predict_proba(X))


def test_keep_prob_per_hidden_layer():
    net = Network([3, 8, 6, 1], keep_prob=[0.5, 1.0])
    assert net.keep_prob == (0.5, 1.0)
    with pytest.raises(ValueError, match=r"one per hidden layer \(2\)"):
        Network([3, 8, 6, 1], keep_prob=[0.5])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"keep_prob": 0.0}, r"keep_prob=0.0 .*\(0, 1\]"),
        ({"keep_prob": 1.5}, r"keep_prob=1.5 .*\(0, 1\]"),
        ({"keep_prob": "0.5"}, r"keep_prob='0.5'"),
        ({"lambd": -0.1}, r"lambd=-0.1 .*>= 0"),
        ({"init": "nope"}, r"init='nope'"),
        ({"layer_dims": []}, r"layer_dims=\[\]"),
        ({"layer_dims": [2, 0, 1]}, r"layer_dims=\[2, 0, 1\].*>= 1"),
        ({"layer_dims": [2, 3, 2]}, r"output size of 1"),
        ({"convention": "tf"}, r"convention='tf'"),
    ],
)
def test_bad_arguments_are_refused_with_one_clear_line(kwargs, message):
    args = {"layer_dims": [2, 3, 1], **kwargs}
    with pytest.raises(ValueError, match=message) as err:
        Network(**args)
    assert "\n" not in str(err.value)


@given(
    hidden=st.lists(st.integers(1, 6), min_size=0, max_size=4),
    n_x=st.integers(1, 4),
    init=st.sampled_from(sorted(SCHEMES)),
    lambd=st.sampled_from([0.0, 0.7]),
    keep_prob=st.sampled_from([1.0, 0.8]),
    seed=st.integers(0, 1000),
)
def test_gradient_check_passes_on_network(hidden, n_x, init, lambd, keep_prob, seed):
    net = Network([n_x, *hidden, 1], init=init, lambd=lambd, keep_prob=keep_prob, seed=seed)
    # Move the zero biases off ReLU kinks: a dead width-1 layer feeds the next one exactly 0,
    # where the derivative does not exist and centered differences disagree with any backprop.
    bias_rng = np.random.default_rng(seed)
    for name, p in net.params.items():
        if name.startswith("b"):
            p += bias_rng.uniform(0.1, 0.5, size=p.shape)
    X, Y = _data(n_x, 6, seed)
    result = gradient_check(model_objective(net, X, Y, mask_seed=seed), net.params)
    assert result.passed, result.summary()
    direct = gradient_check(model_objective(net, X, Y, mask_seed=seed), net.params,
                            mode="directional")
    assert direct.passed, direct.summary()


@pytest.mark.parametrize("init", sorted(SCHEMES))
@pytest.mark.parametrize(("lambd", "keep_prob"), [(0.0, 1.0), (0.7, 1.0), (0.0, 0.86)])
def test_gradient_check_passes_at_the_init_itself(init, lambd, keep_prob):
    net = Network([2, 10, 5, 1], init=init, lambd=lambd, keep_prob=keep_prob, seed=3)
    X, Y = _data(2, 16, seed=1)
    result = gradient_check(model_objective(net, X, Y, mask_seed=7), net.params)
    assert result.passed, result.summary()


def test_predict_proba_of_many_examples_holds_only_a_block_at_once_and_gives_the_same_numbers():
    # a decision boundary's 300 x 300 grid through 50 units: one pass holds two (50, 90000)
    # activations (36 MB each) at once; blocks of PREDICT_COLUMNS (8192) hold under 8 MB
    import tracemalloc

    from initreg.nn import backprop, layers

    net = Network([2, 50, 50, 1], seed=3)
    X = np.random.default_rng(1).normal(size=(2, 90_000)) * 3
    weights, biases = net._weights_and_biases()
    whole = layers.sigmoid(backprop.forward(weights, biases, X))  # every column at once
    tracemalloc.start()
    try:
        proba = net.predict_proba(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(proba, whole)  # a column's numbers do not depend on the others
    assert peak < 50 * 90_000 * 8 / 4
    assert net.predict_proba(X[:, :0]).shape == (1, 0)
