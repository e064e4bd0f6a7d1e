"""The compiled engine (initreg.nn.compiled) against the NumPy engine, its reference.

The kernel is compiled once per machine and cached on disk, so these tests pay a compile only the
first time; each trains small nets for 100 steps. ``train`` takes the steps between two log points
in one kernel call (``CompiledStep.descend``), the dropout masks drawn inside it from the same
Generator (over PCG64 by the kernel's own steps of its state); a RandomState's masks (the course
convention's) are drawn in Python.
"""

import numpy as np
import pytest

from initreg import gradcheck
from initreg.nn import DivergenceError, Network, blocked, compiled, mask_rng, stats, train

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
        assert compiled._small_net(dims, 40)  # the kernel's loops (the BLAS: the test below)
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


def test_the_loops_take_the_course_nets_and_the_blas_every_other():
    assert compiled._small_net([2, 20, 3, 1], 211)  # football: 21,733 multiply-adds
    assert compiled._small_net([2, 20, 3, 1], 64)  # the gate's columns
    assert not compiled._small_net([2, 20, 3, 1], 1000)  # past SMALL
    assert not compiled._small_net([20, 20, 20, 1], 64)  # past SMALL
    assert not compiled._small_net([2, 20, 3, 1], 16)  # too few examples to vectorize over


@pytest.mark.parametrize(("dims", "m"), [([3, 700, 8, 1], 40), ([20, 20, 20, 1], 8)])
@pytest.mark.parametrize(("lambd", "keep_prob"), [(0.0, 1.0), (0.3, 0.8)])
def test_nets_past_small_go_through_the_blas_and_give_the_numpy_engines_parameters(
        dims, m, lambd, keep_prob):
    X, Y = _data(dims[0], m)
    assert not compiled._small_net(dims, m)
    ref, h_ref, rng_ref = _trained("numpy", dims, lambd, keep_prob, X, Y)
    net, h, rng = _trained("compiled", dims, lambd, keep_prob, X, Y)
    np.testing.assert_allclose(h.costs, h_ref.costs, rtol=1e-10)
    for name, p in ref.params.items():
        np.testing.assert_allclose(net.params[name], p, rtol=1e-10, atol=0, err_msg=name)

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


def test_a_parameter_replaced_by_a_strided_view_of_the_same_buffer_is_read_as_it_is():
    X, Y = _data(2, 30, seed=2)
    costs = []
    for engine in ("numpy", "compiled"):
        net = Network([2, 5, 5, 1], seed=3)
        net.params["W2"] = net.params["W2"].T  # the same memory, the same start: transposed
        costs.append(net.cost_and_grads(X, Y, engine=engine)[0])
    assert costs[1] == pytest.approx(costs[0], rel=1e-12)


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


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.MT19937])
def test_numba_draws_a_generators_numbers_and_advances_it_as_numpy_does(bit_generator):
    import numba

    @numba.njit
    def draw(rng, out):  # what the kernel does to draw its masks
        for p in range(out.shape[0]):
            out[p] = rng.random()

    ours, theirs = (np.random.Generator(bit_generator(11)) for _ in range(2))
    for n in (1, 7, 211 * 20):
        drawn = np.empty(n)
        draw(ours, drawn)
        np.testing.assert_array_equal(drawn, theirs.random(n))
        ours_state, theirs_state = ours.bit_generator.state, theirs.bit_generator.state
        for key, value in theirs_state["state"].items():  # MT19937's holds an array
            np.testing.assert_array_equal(ours_state["state"][key], value, err_msg=key)
    np.testing.assert_array_equal(ours.random((3, 5)), theirs.random((3, 5)))  # later draws


def _drawn_inline(rng, n: int, kp: float) -> np.ndarray:
    """``n`` masks drawn by the kernel's own PCG64 steps, ``rng`` advanced past them."""
    compiled.jit()
    pcg = compiled.pcg64_state(rng)
    masks = np.empty(n, bool)
    pcg[0], pcg[1] = compiled.draw_masks(masks, kp, pcg[0], pcg[1], pcg)
    compiled.set_pcg64_state(rng, pcg)
    return masks


@pytest.mark.parametrize("seed", [0, 11, 2**63 + 5])
def test_the_kernels_pcg64_steps_draw_numpys_masks_and_leave_its_state(seed):
    ours, theirs = (np.random.default_rng(seed) for _ in range(2))
    for g in (ours, theirs):  # a buffered 32-bit half in the state, which 64-bit draws skip
        g.random(dtype=np.float32)
    for n, kp in ((0, 0.5), (1, 0.86), (2, 0.86), (3, 1e-3), (211 * 20 + 1, 0.86),
                  (1000, 1 - 2**-53), (7, 5e-324)):
        np.testing.assert_array_equal(_drawn_inline(ours, n, kp), theirs.random(n) < kp,
                                      err_msg=f"n={n}, kp={kp}")
        assert ours.bit_generator.state == theirs.bit_generator.state
    assert ours.random(dtype=np.float32) == theirs.random(dtype=np.float32)


def test_the_kernels_pcg64_masks_compare_like_numpys_at_the_drawn_numbers_themselves():
    numbers = np.random.default_rng(4).random(400)
    for p in (3, 8, int(np.argmin(numbers)), int(np.argmax(numbers))):  # a number below 2^-8
        u = numbers[p]  # kp equal to the drawn number: dropped; the next double up: kept
        for kp, kept in ((u, False), (np.nextafter(u, 1.0), True), (np.nextafter(u, 0.0), False)):
            masks = _drawn_inline(np.random.default_rng(4), p + 1, kp)
            assert masks[p] == kept and (masks == (numbers[:p + 1] < kp)).all()


def test_a_generator_over_another_bit_generator_gives_the_numpy_engines_training():
    X, Y = _data(3, 31, seed=2)
    nets, rngs = {}, {}
    for engine in ("numpy", "compiled"):
        nets[engine] = Network([3, 6, 5, 1], keep_prob=(0.7, 0.9), lambd=0.2, seed=3)
        rngs[engine] = np.random.Generator(np.random.PCG64DXSM(8))
        train(nets[engine], X, Y, learning_rate=0.1, num_iterations=100, log_every=30,
              rng=rngs[engine], engine=engine)
    for name, p in nets["numpy"].params.items():
        np.testing.assert_allclose(nets["compiled"].params[name], p, rtol=1e-10, atol=0,
                                   err_msg=name)
    assert rngs["compiled"].bit_generator.state == rngs["numpy"].bit_generator.state


def _descended_by_hand(net, step, rng, start, stop, learning_rate, cost_every):
    """``descend``'s iterations one step at a time, as ``train`` takes them; their costs."""
    costs = []
    for i in range(start, stop):
        cost, grads = step(rng, i % cost_every == 0)
        costs += [cost] if cost is not None else []
        for name, g in grads.items():
            net.params[name] -= learning_rate * g
    return costs


@pytest.mark.parametrize("keep_prob", [1.0, (0.6, 1.0, 0.8)])
def test_many_steps_in_one_kernel_call_are_the_numpy_engines_steps(keep_prob):
    X, Y = _data(3, 50, seed=6)
    dims = [3, 7, 5, 4, 1]
    ref, net = (Network(dims, lambd=0.1, keep_prob=keep_prob, seed=5) for _ in range(2))
    rng_ref, rng = np.random.default_rng(9), np.random.default_rng(9)
    expected = _descended_by_hand(ref, ref.step_fn(X, Y, engine="numpy"), rng_ref, 3, 140,
                                  0.05, 10)
    costs = net.step_fn(X, Y).descend(rng, 3, 140, 0.05, 10)
    assert len(expected) == 13  # iterations 10, 20, ..., 130
    np.testing.assert_allclose(costs, expected, rtol=1e-10)
    for name, p in ref.params.items():
        np.testing.assert_allclose(net.params[name], p, rtol=1e-10, atol=0, err_msg=name)
    assert rng.bit_generator.state == rng_ref.bit_generator.state


def test_a_randomstates_masks_are_drawn_in_python_and_train_alike():
    X, Y = _data(2, 40, seed=4)
    nets = {}
    for engine in ("numpy", "compiled"):
        nets[engine] = Network([2, 9, 4, 1], keep_prob=0.7, seed=6)
        train(nets[engine], X, Y, learning_rate=0.1, num_iterations=100, log_every=30,
              rng=np.random.RandomState(2), engine=engine)
    for name, p in nets["numpy"].params.items():
        np.testing.assert_allclose(nets["compiled"].params[name], p, rtol=1e-10, atol=0,
                                   err_msg=name)


def test_a_divergence_between_log_points_leaves_the_step_by_step_runs_state():
    X, Y = _data(2, 40, seed=1)
    runs = {}
    for engine in ("numpy", "compiled"):
        net = Network([2, 8, 1], keep_prob=0.9, seed=0)
        rng = np.random.default_rng(3)
        with pytest.raises(DivergenceError) as err:
            train(net, X, Y, learning_rate=30.0, num_iterations=500, log_every=1000, rng=rng,
                  divergence_factor=3, engine=engine)
        runs[engine] = net, rng, err.value
    (ref, rng_ref, e_ref), (net, rng, e) = runs["numpy"], runs["compiled"]
    assert e.iteration == e_ref.iteration and e.iteration > 0  # not a log point: 0 is the only
    assert e.reason == e_ref.reason and e.cost == pytest.approx(e_ref.cost, rel=1e-10)
    for name, p in ref.params.items():
        np.testing.assert_allclose(net.params[name], p, rtol=1e-10, atol=0, err_msg=name)
    assert rng.bit_generator.state == rng_ref.bit_generator.state


def test_the_jobs_recorder_takes_many_steps_at_once_too():
    X, Y = _data(2, 30)
    step = stats.GradRecorder(Network([2, 3, 1])).step_fn(X, Y, engine="compiled")
    assert step.descend.__self__.engine == "compiled"
