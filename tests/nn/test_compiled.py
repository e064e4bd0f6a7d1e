"""The compiled engine (initreg.nn.compiled) against the NumPy engine, its reference.

The kernel is compiled once per machine and cached on disk, so these tests pay a compile only the
first time; each trains small nets for 100 steps.
"""

import numpy as np
import pytest

from initreg import gradcheck
from initreg.nn import Network, blocked, compiled, mask_rng, train

pytestmark = pytest.mark.skipif(not compiled.available(), reason="numba is not installed")


def _data(n_x, m, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_x, m))
    Y = (X[0:1] + 0.5 * rng.normal(size=(1, m)) > 0).astype(float)
    return X, Y


def _planted(real, at: int, factor: float):
    """The kernel ``real`` with the gradient's entry ``at`` off by ``factor`` (a planted bug)."""
    def kernel(*args):
        cost = real(*args)
        args[1][at] *= factor
        return cost
    return kernel


def _trained(engine, dims, lambd, keep_prob, X, Y, convention="default", iterations=100):
    net = Network(dims, lambd=lambd, keep_prob=keep_prob, seed=1, convention=convention)
    rng = mask_rng(convention, 0) if keep_prob < 1 else None
    history = train(net, X, Y, learning_rate=0.05, num_iterations=iterations, log_every=30,
                    rng=rng, engine=engine)
    return net, history, rng


@pytest.mark.parametrize(("lambd", "keep_prob"), [(0.0, 1.0), (0.3, 1.0), (0.0, 0.8),
                                                  (0.3, 0.8)])
def test_100_compiled_steps_give_the_numpy_engines_parameters_at_every_depth(lambd, keep_prob):
    X, Y = _data(3, 40)
    for depth in range(1, 21):  # hidden layers
        dims = [3] + [5] * depth + [1]
        ref, h_ref, rng_ref = _trained("numpy", dims, lambd, keep_prob, X, Y)
        net, h, rng = _trained("compiled", dims, lambd, keep_prob, X, Y)
        assert (h_ref.engine, h.engine) == ("numpy", "compiled")
        assert h.iterations == h_ref.iterations
        np.testing.assert_allclose(h.costs, h_ref.costs, rtol=1e-10, err_msg=f"depth {depth}")
        for name, p in ref.params.items():
            np.testing.assert_allclose(net.params[name], p, rtol=1e-10, atol=0,
                                       err_msg=f"{name}, depth {depth}")
        if rng is not None:  # the same numbers drawn from the same generator
            assert rng.bit_generator.state == rng_ref.bit_generator.state


def test_the_masks_are_the_numpy_engines_from_the_same_generator():
    X, Y = _data(2, 50, seed=3)
    net = Network([2, 8, 4, 1], keep_prob=(0.5, 0.7), seed=2)
    (c_np, g_np), (c_c, g_c) = (net.cost_and_grads(X, Y, rng=np.random.default_rng(7),
                                                   engine=engine)
                                for engine in ("numpy", "compiled"))
    assert c_c == pytest.approx(c_np, rel=1e-13)
    for name, g in g_np.items():  # other masks would change these far beyond rounding
        np.testing.assert_allclose(g_c[name], g, rtol=1e-12, atol=1e-17, err_msg=name)


def test_the_course_conventions_fixed_masks_train_alike():
    X, Y = _data(2, 60, seed=5)
    ref, h_ref, _ = _trained("numpy", [2, 20, 3, 1], 0.0, 0.86, X, Y, convention="course")
    net, h, _ = _trained("compiled", [2, 20, 3, 1], 0.0, 0.86, X, Y, convention="course")
    assert h.engine == "compiled"
    for name, p in ref.params.items():
        np.testing.assert_allclose(net.params[name], p, rtol=1e-10, atol=0, err_msg=name)


def test_train_runs_compiled_by_default_and_numpy_where_compiled_does_not_apply(monkeypatch):
    X, Y = _data(2, 30)
    assert train(Network([2, 3, 1]), X, Y, learning_rate=0.1, num_iterations=2).engine == \
        "compiled"
    assert train(Network([2, 3, 1], dtype="float32"), X, Y, learning_rate=0.1,
                 num_iterations=2).engine == "numpy"
    monkeypatch.setattr(blocked, "BLOCK_MIN_EXAMPLES", 20)  # 30 examples: the blocked path
    assert train(Network([2, 3, 1]), X, Y, learning_rate=0.1, num_iterations=2).engine == \
        "numpy"
    with pytest.raises(ValueError, match="engine='jax' is not allowed; allowed: compiled, numpy"):
        Network([2, 3, 1]).step_fn(X, Y, engine="jax")


def test_parameters_replaced_by_other_arrays_are_still_trained_in_place():
    X, Y = _data(2, 30, seed=2)
    ref, net = Network([2, 4, 1], seed=3), Network([2, 4, 1], seed=3)
    net.params = {k: v.copy() for k, v in net.params.items()}  # no longer views of one buffer
    arrays = dict(net.params)
    for model, engine in ((ref, "numpy"), (net, "compiled")):
        train(model, X, Y, learning_rate=0.1, num_iterations=25, log_every=10, engine=engine)
    for name, p in ref.params.items():
        assert net.params[name] is arrays[name]
        np.testing.assert_allclose(net.params[name], p, rtol=1e-12, atol=0, err_msg=name)


def test_the_gate_checks_the_compiled_gradients_and_catches_a_bug_planted_there(monkeypatch):
    X, Y = _data(2, 64, seed=8)
    net = Network([2, 6, 3, 1], lambd=0.2, keep_prob=0.8, seed=4)
    assert gradcheck.gate(net.using("compiled"), X, Y).verdict == "passed"
    real = compiled.kernel()
    db1 = compiled.layout(net.layer_dims)["b1"][0]
    monkeypatch.setattr(compiled, "_KERNEL", _planted(real, db1, 1.0))  # a harmless wrapper
    assert gradcheck.gate(net.using("compiled"), X, Y).verdict == "passed"
    monkeypatch.setattr(compiled, "_KERNEL", _planted(real, db1, 1.05))
    caught = gradcheck.gate(net.using("compiled"), X, Y)
    assert caught.verdict == "failed" and caught.per_param["b1"] > 1e-3, caught.per_param
    assert gradcheck.gate(net.using("numpy"), X, Y).verdict == "passed"  # the NumPy engine's fine


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_the_jobs_gate_checks_the_engine_that_trains(engine, monkeypatch):
    from hydra import compose, initialize_config_dir

    import initreg.config  # noqa: F401  (registers the schema)
    from initreg import job

    conf = str(__import__("pathlib").Path(__file__).resolve().parents[2] / "conf")
    with initialize_config_dir(config_dir=conf, version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"train.engine={engine}"])
    ds = job.load_data(cfg)
    model = job.build_model(cfg)
    assert job.gradcheck_gate(cfg, model, ds).verdict == "passed"
    real = compiled.kernel()
    db1 = compiled.layout(model.layer_dims)["b1"][0]
    monkeypatch.setattr(compiled, "_KERNEL", _planted(real, db1, 1.05))
    verdict = job.gradcheck_gate(cfg, model, ds).verdict
    assert verdict == ("failed" if engine == "compiled" else "passed")
