"""The buffer-reusing, blocked backprop against the reference built from layers.py's pairs."""

import tracemalloc

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from initreg.gradcheck import gradient_check, model_objective
from initreg.nn import DivergenceError, Network, backprop, blocked, train
from initreg.nn.layers import reference_cost_and_grads
from initreg.nn.network import workspace
from initreg.nn.threads import StepThreads


def _data(n_x, m, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_x, m))
    Y = (X[0:1] + 0.5 * rng.normal(size=(1, m)) > 0).astype(float)
    return X, Y


MASK_RNGS = {"generator": lambda: np.random.default_rng(5),
             "course": lambda: np.random.RandomState(1)}  # the course convention's masks


@pytest.mark.parametrize("masks", MASK_RNGS)
@pytest.mark.parametrize(("lambd", "keep_prob"),
                         [(0.0, 1.0), (0.7, 1.0), (0.0, 0.8), (0.1, (1.0, 0.6))])
def test_small_batches_give_the_references_bits(lambd, keep_prob, masks):
    X, Y = _data(3, 211)
    net = Network([3, 20, 3, 1], lambd=lambd, keep_prob=keep_prob, seed=2)
    cost, grads = net.cost_and_grads(X, Y, rng=MASK_RNGS[masks]())
    ref_cost, ref = reference_cost_and_grads(net.params, X, Y, lambd, keep_prob,
                                             MASK_RNGS[masks]())
    assert cost == ref_cost
    for name in net.params:
        np.testing.assert_array_equal(grads[name], ref[name], err_msg=name)


@pytest.mark.parametrize("masks", MASK_RNGS)
def test_masks_drawn_a_few_rows_at_a_time_are_the_references(masks, monkeypatch):
    monkeypatch.setattr(backprop, "MASK_DRAW_ELEMENTS", 500)  # 2 rows of 211 per draw, then 1
    X, Y = _data(3, 211)
    net = Network([3, 5, 7, 1], keep_prob=(0.5, 0.8), seed=2)
    cost, grads = net.cost_and_grads(X, Y, rng=MASK_RNGS[masks]())
    ref_cost, ref = reference_cost_and_grads(net.params, X, Y, 0.0, (0.5, 0.8),
                                             MASK_RNGS[masks]())
    assert cost == ref_cost
    for name in net.params:
        np.testing.assert_array_equal(grads[name], ref[name], err_msg=name)


# [30, 9, 31, 1]: the inputs of layers 1 and 3 carry the bias row (padded to 32 rows), layer 2's
# does not; [5, 9, 4, 1]: no layer does.
@pytest.mark.parametrize("dims", [[5, 9, 4, 1], [30, 9, 31, 1]])
@pytest.mark.parametrize(("lambd", "keep_prob"),
                         [(0.0, 1.0), (0.3, 1.0), (0.0, 0.7), (0.0, (0.7, 1.0))])
def test_blocked_gradient_equals_the_reference_to_rounding(lambd, keep_prob, dims, monkeypatch):
    monkeypatch.setattr(blocked, "BLOCK_ELEMENTS", max(dims[1:]) * 1000)  # ~1000 columns a block
    m = blocked.BLOCK_MIN_EXAMPLES + 1001  # 10 blocks of 919-920 columns
    X, Y = _data(dims[0], m, seed=1)
    net = Network(dims, lambd=lambd, keep_prob=keep_prob, seed=3)
    ws = workspace(net.layer_dims, X, Y, np.float64)
    assert isinstance(ws, blocked.BlockedWorkspace) and len(ws.bounds) == 10
    cost, grads = net.cost_and_grads(X, Y, rng=np.random.default_rng(9))
    ref_cost, ref = reference_cost_and_grads(net.params, X, Y, lambd, keep_prob,
                                             np.random.default_rng(9))
    assert cost == pytest.approx(ref_cost, rel=1e-13)
    for name in net.params:
        np.testing.assert_allclose(grads[name], ref[name], rtol=1e-11, atol=1e-16,
                                   err_msg=name)


def test_blocked_gradient_is_deterministic_and_needs_no_cost():
    X, Y = _data(4, 3 * blocked.BLOCK_MIN_EXAMPLES, seed=4)
    net = Network([4, 16, 1], seed=0)
    c1, g1 = net.cost_and_grads(X, Y)
    c2, g2 = net.cost_and_grads(X, Y)
    step = net.step_fn(X, Y)
    c3, g3 = step(None, False)
    assert c1 == c2 and c3 is None
    for name in net.params:
        np.testing.assert_array_equal(g1[name], g2[name])
        np.testing.assert_array_equal(g1[name], g3[name])


class ThroughCostAndGrads(Network):
    """Overrides cost_and_grads (without changing it), so train takes the generic path."""

    def cost_and_grads(self, X, Y, rng=None):
        return super().cost_and_grads(X, Y, rng=rng)


@pytest.mark.parametrize("keep_prob", [1.0, 0.86])
def test_the_fast_training_step_gives_the_generic_loops_parameters(keep_prob):
    X, Y = _data(2, 150, seed=6)
    fast, generic = (cls([2, 10, 3, 1], keep_prob=keep_prob, lambd=0.1, seed=1)
                     for cls in (Network, ThroughCostAndGrads))
    assert fast.step_fn(X, Y) is not None and generic.step_fn(X, Y) is None
    h1 = train(fast, X, Y, learning_rate=0.3, num_iterations=250, log_every=50,
               rng=np.random.default_rng(0), engine="numpy")  # compiled: test_compiled.py
    h2 = train(generic, X, Y, learning_rate=0.3, num_iterations=250, log_every=50,
               rng=np.random.default_rng(0))
    assert h1.iterations == h2.iterations and h1.costs == h2.costs
    for name in fast.params:
        np.testing.assert_array_equal(fast.params[name], generic.params[name])


def test_divergence_is_caught_between_log_points():
    X, Y = _data(2, 40)
    net = Network([2, 8, 1], seed=0)
    with pytest.raises(DivergenceError) as err:
        train(net, X, Y, learning_rate=1e4, num_iterations=900, log_every=1000,
              divergence_factor=10)
    assert 0 < err.value.iteration < 899  # stopped by the guard, not at the last iteration


def test_float32_training_is_close_to_float64():
    X, Y = _data(3, 300, seed=7)
    nets = {d: Network([3, 12, 4, 1], seed=5, dtype=d) for d in ("float64", "float32")}
    np.testing.assert_allclose(nets["float32"].params["W1"], nets["float64"].params["W1"],
                               rtol=1e-7)
    hist = {d: train(n, X, Y, learning_rate=0.1, num_iterations=300, log_every=100)
            for d, n in nets.items()}
    assert all(p.dtype == np.float32 for p in nets["float32"].params.values())
    np.testing.assert_allclose(hist["float32"].costs, hist["float64"].costs, rtol=1e-4)
    for name, p in nets["float64"].params.items():
        np.testing.assert_allclose(nets["float32"].params[name], p, rtol=1e-3, atol=1e-4)
    agree = (nets["float32"].predict(X) == nets["float64"].predict(X)).mean()
    assert agree > 0.99


def test_float32_blocked_gradient_is_close_to_float64():
    X, Y = _data(4, blocked.BLOCK_MIN_EXAMPLES + 500, seed=8)
    g64 = Network([4, 8, 1], seed=1).cost_and_grads(X, Y)[1]
    g32 = Network([4, 8, 1], seed=1, dtype="float32").cost_and_grads(X, Y)[1]
    for name in g64:
        assert g32[name].dtype == np.float32
        np.testing.assert_allclose(g32[name], g64[name], rtol=1e-3, atol=1e-6)


def test_gradient_checking_refuses_float32():
    X, Y = _data(2, 10)
    net = Network([2, 3, 1], dtype="float32")
    with pytest.raises(TypeError, match="float32"):
        gradient_check(model_objective(net, X, Y), net.params)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dtype": "float16"}, r"dtype='float16' is not allowed; allowed: float64, float32"),
])
def test_bad_dtype_is_refused_in_one_line(kwargs, message):
    with pytest.raises(ValueError, match=message) as err:
        Network([2, 3, 1], **kwargs)
    assert "\n" not in str(err.value)


def test_data_of_the_wrong_shape_is_refused_in_one_line():
    net = Network([3, 4, 1])
    with pytest.raises(ValueError, match=r"X has shape \(2, 5\); allowed: \(3, m\)"):
        net.cost_and_grads(np.zeros((2, 5)), np.zeros((1, 5)))
    with pytest.raises(ValueError, match=r"Y has shape \(5,\)"):
        net.cost_and_grads(np.zeros((3, 5)), np.zeros(5))


def test_threads_share_the_blocks_and_change_no_bits(monkeypatch):
    monkeypatch.setattr(blocked, "BLOCK_ELEMENTS", 16 * 700)  # 17 blocks, 8 groups
    X, Y = _data(6, blocked.BLOCK_MIN_EXAMPLES + 3000, seed=10)
    results = {}
    for threads in (1, 2, 3):
        net = Network([6, 16, 5, 1], lambd=0.2, keep_prob=0.9, seed=4, threads=threads)
        ws = workspace(net.layer_dims, X, Y, np.float64, threads)
        assert len(ws.buffers) == threads and len(ws.groups) == blocked.GROUPS
        results[threads] = net.cost_and_grads(X, Y, rng=np.random.default_rng(3))
    for threads in (2, 3):
        assert results[threads][0] == results[1][0]
        for name, g in results[1][1].items():
            np.testing.assert_array_equal(results[threads][1][name], g, err_msg=name)
    ref_cost, ref = reference_cost_and_grads(net.params, X, Y, 0.2, 0.9, np.random.default_rng(3))
    assert results[2][0] == pytest.approx(ref_cost, rel=1e-13)
    for name in ref:
        np.testing.assert_allclose(results[2][1][name], ref[name], rtol=1e-11, atol=1e-16)


def test_one_thread_holds_the_blas_to_one_thread_too_so_no_count_changes_a_bit(monkeypatch):
    # Products this wide run on several BLAS threads when allowed, which changes their bits.
    monkeypatch.setattr(blocked, "BLOCK_ELEMENTS", 64 * 3000)  # 3 blocks of 3000 columns
    X, Y = _data(8, 9000, seed=13)
    grads = {}
    with threadpool_limits(limits=2, user_api="blas"):  # the BLAS as it runs on 2 cores
        for threads in (1, 2):
            net = Network([8, 64, 32, 1], seed=0, threads=threads)
            grads[threads] = net.cost_and_grads(X, Y)[1]
    for name, g in grads[1].items():
        np.testing.assert_array_equal(grads[2][name], g, err_msg=name)


def test_the_blas_gets_its_threads_back_after_a_threaded_step():
    def blas_threads():
        return sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")

    before = blas_threads()
    X, Y = _data(3, blocked.BLOCK_MIN_EXAMPLES + 10, seed=11)
    Network([3, 4, 1], threads=2).cost_and_grads(X, Y)
    assert blas_threads() == before


def test_an_error_in_a_worker_thread_reaches_the_caller():
    def fn(t):
        if t == 1:
            raise FloatingPointError("in thread 1")

    with pytest.raises(FloatingPointError, match="in thread 1"):
        StepThreads(2).run(fn, 2)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_bad_thread_counts_are_refused_in_one_line(threads):
    with pytest.raises(ValueError, match=r"threads=.* is not allowed; allowed: an integer >= 1"):
        Network([2, 3, 1], threads=threads)


@pytest.mark.parametrize("path", ["exact", "blocked"])
def test_a_step_allocates_no_array_the_size_of_the_batch(path, monkeypatch):
    # A (1, m) row of a block is 512 KiB here; NumPy's own ufunc scratch is 8192 elements (64 KiB)
    # per operand and thread, so a temporary of any per-example quantity would pass the bound.
    if path == "exact":
        monkeypatch.setattr(blocked, "BLOCK_MIN_EXAMPLES", 1 << 20)
    m = 1 << 16 if path == "exact" else 3 << 16  # blocked: 3 blocks of 65536 columns
    X, Y = _data(3, m, seed=12)
    net = Network([3, 16, 8, 1], lambd=0.1, keep_prob=(0.8, 0.9), seed=0, threads=2)
    rng = np.random.default_rng(0)
    step = net.step_fn(X, Y)
    assert isinstance(workspace(net.layer_dims, X, Y, np.float64), blocked.BlockedWorkspace) == (
        path == "blocked")
    step(rng, True)  # the first step may make its buffers
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        step(rng, True)
        step(rng, False)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < 256 << 10
