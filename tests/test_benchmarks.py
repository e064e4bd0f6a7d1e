"""The benchmark's contenders compute the step initreg computes (a fair race), and its helpers."""

import sys
from pathlib import Path

import numpy as np
import pytest

from initreg.data import load_football
from initreg.nn import Network, train

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import contenders  # noqa: E402


@pytest.fixture(scope="module")
def trained():
    ds = load_football()
    net = Network([2, 20, 3, 1], seed=0)
    p0 = {k: v.copy() for k, v in net.params.items()}
    train(net, ds.X_train, ds.Y_train, learning_rate=0.3, num_iterations=40, log_every=1000)
    return ds, p0, net.params


def test_the_hand_written_loop_gives_initregs_bits(trained):
    ds, p0, params = trained
    out = contenders.hand_loop(p0, ds.X_train, ds.Y_train, 0.3)(40)
    for name in params:
        np.testing.assert_array_equal(out[name], params[name])


@pytest.mark.parametrize("make", ["torch_steps", "jax_steps"])
def test_pytorch_and_jax_compute_the_same_training(trained, make):
    pytest.importorskip("torch" if make == "torch_steps" else "jax")
    ds, p0, params = trained
    out = getattr(contenders, make)(p0, ds.X_train, ds.Y_train, 0.3)(40)
    for name in params:
        np.testing.assert_allclose(out[name], params[name], rtol=1e-10, atol=1e-12)


def test_flop_count_of_one_step():
    # forward 2*m*(2*3 + 3*1), dW the same, dA of the last layer only 2*m*3
    assert contenders.flops_per_iteration([2, 3, 1], 10) == 180 + 180 + 60
