import numpy as np
import pytest

from initreg.nn import DivergenceError, Network, mask_rng, train


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
