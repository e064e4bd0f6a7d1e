from dataclasses import fields

import numpy as np
import pytest

from initreg.nn import DivergenceError, History, Network, mask_rng, train


def _data(m=40):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, m))
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    return X, Y


def test_training_lowers_the_cost_and_records_history_every_log_every():
    X, Y = _data()
    net = Network([2, 8, 1], seed=0)
    calls = []
    hist = train(net, X, Y, learning_rate=0.5, num_iterations=301, log_every=100,
                 callback=lambda i, c, m: calls.append(i))
    assert hist.iterations == [0, 100, 200, 300] == calls
    assert hist.costs[-1] < hist.costs[0]


def test_course_mask_rng_gives_the_same_masks_every_iteration_and_default_fresh_ones():
    course = mask_rng("course", 3)
    assert course(0).random(5).tolist() == course(7).random(5).tolist()
    default = mask_rng("default", 3)
    assert default.random(5).tolist() != default.random(5).tolist()


def test_divergence_is_flagged_with_the_iteration():
    X, Y = _data()
    net = Network([2, 8, 1], seed=0)
    with pytest.raises(DivergenceError) as err:
        train(net, X, Y, learning_rate=1e4, num_iterations=50, log_every=1, divergence_factor=10)
    assert err.value.iteration >= 1
    assert "diverged at iteration" in str(err.value)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_non_finite_parameters_are_flagged_at_once():
    X, Y = _data()
    net = Network([2, 8, 1], init="random", init_scale=1e200, seed=0)
    with pytest.raises(DivergenceError, match="not finite"):
        train(net, X, Y, learning_rate=0.1, num_iterations=5, log_every=100)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"learning_rate": 0.0}, "learning_rate=0.0"),
    ({"num_iterations": 0}, "num_iterations=0"),
])
def test_bad_training_arguments(kwargs, message):
    X, Y = _data()
    args = {"learning_rate": 0.1, "num_iterations": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        train(Network([2, 3, 1]), X, Y, **args)


class Quadratic:
    """cost = ||w||^2 / 2, gradient w; with a ``step_fn`` that records when the cost is asked."""

    def __init__(self, with_step_fn: bool):
        self.params = {"w": np.array([[1.0, -2.0, 4.0]])}
        self.asked: list[bool] = []
        if not with_step_fn:
            self.step_fn = lambda X, Y: None  # the protocol does not apply: cost_and_grads

    def cost_and_grads(self, X, Y, rng=None):
        w = self.params["w"]
        return 0.5 * float(np.sum(w * w)), {"w": w.copy()}

    def step_fn(self, X, Y):
        grads = {"w": np.empty_like(self.params["w"])}

        def step(rng, need_cost):
            self.asked.append(need_cost)
            grads["w"][...] = self.params["w"]
            return (0.5 * float(np.sum(grads["w"] ** 2)) if need_cost else None), grads

        return step


def test_train_calls_a_models_step_fn_and_asks_for_the_cost_only_where_it_needs_it():
    X, Y = _data()
    fast, plain = Quadratic(with_step_fn=True), Quadratic(with_step_fn=False)
    h1 = train(fast, X, Y, learning_rate=0.1, num_iterations=25, log_every=20)
    h2 = train(plain, X, Y, learning_rate=0.1, num_iterations=25, log_every=20)
    assert [i for i, asked in enumerate(fast.asked) if asked] == [0, 10, 20, 24]
    assert plain.asked == [] and h1.costs == h2.costs and h1.iterations == [0, 20, 24]
    np.testing.assert_array_equal(fast.params["w"], plain.params["w"])
    np.testing.assert_allclose(fast.params["w"], 0.9 ** 25 * np.array([[1.0, -2.0, 4.0]]))


def test_history_declares_layer_stats_empty_until_a_caller_fills_it():
    X, Y = _data()
    hist = train(Network([2, 3, 1]), X, Y, learning_rate=0.1, num_iterations=3)
    assert hist.layer_stats == {}
    assert History().layer_stats is not History().layer_stats  # one dict per History
    assert "layer_stats" in {f.name for f in fields(History)}
