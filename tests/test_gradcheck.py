"""The generic checker against the course's Gradient Checking assignment and planted bugs."""

import numpy as np
import pytest

from initreg.gradcheck import gradient_check, model_objective
from initreg.nn import Network

NAMES = ["W1", "b1", "W2", "b2", "W3", "b3"]


def course_case():
    """gradient_check_n_test_case: np.random.seed(1), then x, W1, b1, W2, b2, W3, b3."""
    rs = np.random.RandomState(1)
    x = rs.randn(4, 3)
    y = np.array([1, 1, 0])
    shapes = [(5, 4), (5, 1), (3, 5), (3, 1), (1, 3), (1, 1)]
    return x, y, {n: rs.randn(*s) for n, s in zip(NAMES, shapes, strict=True)}


def course_objective(x, y, bug_dW2=1.0, bug_db1=1.0):
    """The assignment's forward/backward_propagation_n, written with its naive cost formula."""

    def f(p):
        m = x.shape[1]
        A1 = np.maximum(0, p["W1"] @ x + p["b1"])
        A2 = np.maximum(0, p["W2"] @ A1 + p["b2"])
        A3 = 1 / (1 + np.exp(-(p["W3"] @ A2 + p["b3"])))
        cost = 1.0 / m * np.sum(-np.log(A3) * y - np.log(1 - A3) * (1 - y))
        dZ3 = A3 - y
        dZ2 = (p["W3"].T @ dZ3) * (A2 > 0)
        dZ1 = (p["W2"].T @ dZ2) * (A1 > 0)
        return cost, {
            "dW3": 1.0 / m * dZ3 @ A2.T, "db3": 1.0 / m * dZ3.sum(axis=1, keepdims=True),
            "dW2": 1.0 / m * dZ2 @ A1.T * bug_dW2, "db2": 1.0 / m * dZ2.sum(axis=1, keepdims=True),
            "dW1": 1.0 / m * dZ1 @ x.T, "db1": bug_db1 / m * dZ1.sum(axis=1, keepdims=True),
        }

    return f


def test_course_planted_bugs_give_the_published_difference():
    x, y, params = course_case()
    result = gradient_check(course_objective(x, y, bug_dW2=2.0, bug_db1=4.0), params)
    assert result.difference == pytest.approx(0.2850931567761623, rel=1e-6)
    assert (result.verdict, result.reason, result.passed) == ("failed", "mismatch", False)


def test_course_correct_backprop_with_the_naive_cost_only_just_passes():
    # 1.189e-07 is rounding noise from -log(A3) near A3 = 1; it moves in its third digit.
    x, y, params = course_case()
    result = gradient_check(course_objective(x, y), params)
    assert 1e-7 < result.difference < 2e-7
    assert (result.verdict, result.reason) == ("passed", None)


def test_network_with_the_stable_cost_is_far_below_the_threshold():
    x, y, params = course_case()
    net = Network([4, 5, 3, 1])
    net.params = params
    result = gradient_check(model_objective(net, x, y.reshape(1, -1)), net.params)
    assert result.difference < 1e-8


@pytest.mark.parametrize("mode", ["full", "directional"])
@pytest.mark.parametrize("bug", ["dW2", "db1", "dW3", "db3"])
def test_a_planted_bug_is_caught_and_named(mode, bug):
    x, y, params = course_case()
    params = {n: v.copy() for n, v in params.items()}
    for n in params:  # keep every ReLU clearly on one side of its kink
        if n.startswith("b"):
            params[n] += 0.5
    correct = course_objective(x, y)

    def buggy(p):
        cost, grads = correct(p)
        grads[bug] = grads[bug] * 1.5 + 0.01
        return cost, grads

    result = gradient_check(buggy, params, mode=mode)
    assert (result.verdict, result.reason, result.passed) == ("failed", "mismatch", False)
    assert result.worst.param == bug[1:]
    assert max(result.per_param, key=result.per_param.get) == bug[1:]
    if mode == "full":
        assert result.worst.index is not None


def test_the_worst_element_is_located():
    def f(p):
        g = 2 * p["w"]
        g[1, 2] += 1.0  # the one wrong element
        return float(np.sum(p["w"] ** 2)), {"w": g}

    params = {"w": np.arange(12, dtype=float).reshape(3, 4)}
    result = gradient_check(f, params)
    assert (result.worst.param, result.worst.index) == ("w", (1, 2))
    assert result.worst.numeric == pytest.approx(12.0, rel=1e-5)
    assert result.worst.analytic == pytest.approx(13.0)


def test_params_are_restored_bit_for_bit():
    x, y, params = course_case()
    before = {n: v.copy() for n, v in params.items()}
    for mode in ("full", "directional"):
        gradient_check(course_objective(x, y), params, mode=mode)
        for n in params:
            np.testing.assert_array_equal(params[n], before[n])


def test_directional_cost_does_not_grow_with_the_number_of_elements():
    small = Network([2, 3, 1])
    large = Network([2, 300, 1])
    X, Y = np.ones((2, 4)), np.ones((1, 4))
    r_small = gradient_check(model_objective(small, X, Y), small.params, mode="directional")
    r_large = gradient_check(model_objective(large, X, Y), large.params, mode="directional")
    assert r_small.evaluations == r_large.evaluations
    full = gradient_check(model_objective(small, X, Y), small.params, mode="full")
    assert full.evaluations == 1 + 2 * sum(p.size for p in small.params.values())


def test_dropout_is_checkable_with_fixed_masks_and_not_without():
    net = Network([3, 20, 10, 1], keep_prob=0.5, seed=2)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(3, 8)), (rng.random((1, 8)) > 0.5).astype(float)
    assert gradient_check(model_objective(net, X, Y, mask_seed=5), net.params).passed

    fresh = np.random.default_rng(1)
    resampled = gradient_check(lambda p: net.cost_and_grads(X, Y, rng=fresh), net.params)
    assert (resampled.verdict, resampled.reason) == ("inconclusive", "nondeterministic")


def test_empty_params_are_refused():
    with pytest.raises(ValueError, match=r"params=\{\} is empty"):
        gradient_check(lambda p: (0.0, {}), {})


def test_float32_parameters_are_refused():
    with pytest.raises(TypeError, match=r"'w' is float32.*float64"):
        gradient_check(lambda p: (0.0, {"w": p["w"]}), {"w": np.ones(3, dtype=np.float32)})


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mode": "fast"}, r"mode='fast' .*allowed: full, directional"),
    ({"epsilon": 0.0}, r"epsilon=0.0"),
    ({"epsilon": -1e-7}, r"epsilon=-1e-07"),
    ({"mode": "directional", "directions": 0}, r"directions=0 .*allowed: an integer >= 1"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gradient_check(lambda p: (0.0, {"w": p["w"]}), {"w": np.ones(3)}, **kwargs)


def test_result_serializes_to_json():
    import json

    x, y, params = course_case()
    result = gradient_check(course_objective(x, y), params)
    d = json.loads(json.dumps(result.to_dict()))
    assert (d["verdict"], d["reason"], d["passed"]) == ("passed", None, True)
    assert d["worst"]["param"] in NAMES and len(d["worst"]["index"]) == 2
    assert set(d["per_param"]) == set(NAMES)
