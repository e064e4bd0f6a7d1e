from dataclasses import fields

import numpy as np
import pytest

from initreg.data import load_football
from initreg.nn import DivergenceError, History, Network, mask_rng, train
from initreg.nn.train import COLLAPSE_FACTOR, COLLAPSE_WINDOW, GUARD_EVERY


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


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
@pytest.mark.parametrize("keep_prob", [1.0, 0.8])
def test_log_at_adds_log_points_and_leaves_the_training_as_it_was(engine, keep_prob):
    """``log_at``'s iterations are log points too (out-of-range ones ignored); the compiled
    engine then runs the steps between log points at once, and the parameters come out bit for
    bit as with a log point at every iteration."""
    X, Y = _data()
    params, calls = {}, {}
    for name, kwargs in (("listed", {"log_every": 100, "log_at": [150, 7, 40, 40, 301, -1]}),
                         ("every step", {"log_every": 1})):
        net = Network([2, 8, 4, 1], seed=1, keep_prob=keep_prob)
        seen = calls[name] = []
        hist = train(net, X, Y, learning_rate=0.3, num_iterations=301, engine=engine,
                     rng=np.random.default_rng(5) if keep_prob < 1 else None,
                     callback=lambda i, c, m, seen=seen: seen.append((i, c)), **kwargs)
        params[name] = {k: v.copy() for k, v in net.params.items()}
        assert hist.iterations == [i for i, _ in seen]
        assert hist.engine == engine
    assert [i for i, _ in calls["listed"]] == [0, 7, 40, 100, 150, 200, 300]
    every = dict(calls["every step"])
    assert all(c == every[i] for i, c in calls["listed"])
    for k, p in params["every step"].items():
        np.testing.assert_array_equal(params["listed"][k], p)


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


class ScriptedCost:
    """A model whose cost at iteration i is ``script(i)`` and whose gradient is 0: the guard's
    input, written out (through ``cost_and_grads``, so the cost is checked every iteration)."""

    def __init__(self, script):
        self.params = {"w": np.zeros((1, 1))}
        self.script, self.calls = script, 0

    def cost_and_grads(self, X, Y, rng=None):
        cost = self.script(self.calls)
        self.calls += 1
        return cost, {"w": np.zeros((1, 1))}


def _run(script, iterations, factor=10):
    X, Y = _data()
    return train(ScriptedCost(script), X, Y, learning_rate=0.1, num_iterations=iterations,
                 log_every=1000, divergence_factor=factor)


def _wobble(i):  # a cost that never repeats between two checks, like a noisy run's
    return 0.01 * (i % 7) / 7


def test_a_cost_that_settles_far_above_its_lowest_stops_the_run_as_collapsed():
    def script(i):  # 1.0, then trained down to 0.2, then knocked up to ~0.5 for good
        return 1.0 if i == 0 else (0.2 if i < 100 else 0.5 + _wobble(i))

    with pytest.raises(DivergenceError) as err:
        _run(script, 3000)
    assert err.value.iteration == 100 + COLLAPSE_WINDOW
    assert err.value.reason == (f"the cost has been above {COLLAPSE_FACTOR:g} x its lowest "
                                "value 0.2 (iteration 1) at every check since iteration 100")


def test_a_cost_that_stops_changing_above_its_lowest_stops_the_run_as_stuck():
    def script(i):  # a network whose units all died: the cost freezes above where it had been
        return 1.0 if i == 0 else (0.6 if i < 15 else 1.0)

    with pytest.raises(DivergenceError) as err:
        _run(script, 3000)
    assert err.value.iteration == 3 * GUARD_EVERY  # checks 2 and 3 agree
    assert err.value.reason == ("the cost stopped changing (iterations 20 and 30 agree) at 1.67 "
                                "x its lowest value 0.6 (iteration 1)")


@pytest.mark.parametrize(("name", "script"), [
    ("a spike of 25 x the lowest that recovers (deep nets do this)",
     lambda i: 1.0 if i == 0 else (5.0 if 500 <= i < 600 else 0.2) + _wobble(i)),
    ("a constant cost (zeros init: the cost never moves)", lambda i: 0.693),
    ("a cost that converges and stops changing at its lowest",
     lambda i: 0.1 + 0.9 * 0.5 ** min(i, 60)),
    ("noise of 5 x the lowest on a cost near 0 (below a tenth of the initial one)",
     lambda i: 1.0 if i == 0 else (1e-4 if i < 100 else 5e-4 + _wobble(i) / 100)),
    ("a cost that stays 1.9 x its lowest", lambda i: 1.0 if i < 10 else 1.9 + _wobble(i)),
])
def test_what_normal_training_does_is_not_stopped(name, script):
    _run(script, 3000)


def test_without_a_factor_only_non_finite_values_stop_the_run():
    _run(lambda i: 1.0 if i == 0 else (0.6 if i < 5 else 5e5), 3000, factor=None)
    with pytest.raises(DivergenceError, match="not finite"):
        _run(lambda i: float("inf") if i == 7 else 1.0, 3000, factor=None)


def test_a_cost_above_the_factor_x_its_initial_value_still_stops_the_run():
    with pytest.raises(DivergenceError) as err:
        _run(lambda i: 1.0 if i < 3 else 10.5, 3000)
    assert err.value.iteration == 3
    assert err.value.reason == "the cost rose above 10 x its initial value 1"


def _football(net, learning_rate, num_iterations, rng=None):
    ds = load_football()
    return train(net, ds.X_train, ds.Y_train, learning_rate=learning_rate,
                 num_iterations=num_iterations, log_every=1000, rng=rng, divergence_factor=10)


def test_a_network_killed_by_a_large_learning_rate_stops():
    # Issue 12: He on football at learning rate 10 went 0.655 -> 1.047 with every weight's
    # gradient 0 (all ReLUs dead after a spike at iteration 2) and ended FINISHED.
    with pytest.raises(DivergenceError) as err:
        _football(Network([2, 20, 3, 1], init="he", seed=0), 10, 3000)
    assert err.value.iteration < 200
    assert err.value.reason.startswith("the cost stopped changing")
    assert err.value.reason.endswith("at 1.6 x its lowest value 0.655237 (iteration 0)")


def test_a_network_that_trains_then_collapses_stops():
    # The default config's collapse within 300,000 iterations (issue 12) is too slow for the
    # suite; at learning rate 1.6 this He net trains to 0.15, then one step kills its ReLUs.
    with pytest.raises(DivergenceError) as err:
        _football(Network([2, 20, 3, 1], init="he", seed=4), 1.6, 5000)
    assert 2800 < err.value.iteration < 3000
    assert "x its lowest value 0.15" in err.value.reason


# Of the default sweep: a cost that oscillates; dropout's noise, which keeps he/0.1/0.86 above
# 1.12 x its lowest for 1000 iterations by iteration 4710; units dead under some masks; a dead
# net whose weights decay under L2; a constant cost.
@pytest.mark.parametrize(("init", "lambd", "keep_prob"), [
    ("he", 0.0, 1.0), ("he", 0.1, 0.86), ("random", 0.0, 0.86), ("random", 0.7, 1.0),
    ("zeros", 0.7, 0.86),
])
def test_the_default_sweeps_configs_are_not_stopped(init, lambd, keep_prob):
    net = Network([2, 20, 3, 1], init=init, lambd=lambd, keep_prob=keep_prob, seed=0)
    _football(net, 0.3, 5000, rng=mask_rng("default", 0) if keep_prob < 1 else None)


def _trained_counting_descends(X, Y, rng):
    """A [2, 5, 1] net without dropout trained 300 steps; its params and its step's
    ``descend`` calls."""
    net = Network([2, 5, 1], seed=2, keep_prob=1.0)
    step = net.step_fn(X, Y)
    calls = []
    real = step.descend

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    step.descend = counted
    net.step_fn = lambda X, Y, **options: step  # train() gets this very step
    train(net, X, Y, learning_rate=0.1, num_iterations=300, rng=rng, log_every=100)
    return {k: v.copy() for k, v in net.params.items()}, len(calls)


def test_a_net_without_dropout_trains_many_steps_at_once_whatever_rng_it_is_given():
    X, Y = np.random.default_rng(0).normal(size=(2, 40)), np.ones((1, 40))
    Y[0, ::2] = 0
    params, calls = _trained_counting_descends(X, Y, None)
    assert calls > 0
    for rng in (mask_rng("course", 3), np.random.RandomState(1)):
        other, other_calls = _trained_counting_descends(X, Y, rng)
        assert other_calls == calls  # many steps a call, not one by one
        for k, v in params.items():
            np.testing.assert_array_equal(other[k], v)  # and the same bits
