"""PyTorch autograd (float64) as the oracle: the gradients the checker does not fail are right,
the ones it fails are wrong. Skipped without torch."""

import numpy as np
import pytest
from planted import BUGS, ISSUE_KINK_SEEDS, PlantedBugNet, gaussian_examples

from initreg.config import mlp_dims
from initreg.data import load_circles
from initreg.gradcheck import gradient_check, model_objective
from initreg.nn import Network

torch = pytest.importorskip("torch")


def autograd(params, X, Y, lambd=0.0, keep_prob=1.0, mask_seed=None):
    """Cross-entropy + L2 and its gradient by autograd; dropout masks drawn like Network's:
    ``rng.random((n_l, m)) < keep_prob`` per hidden layer, in order, rng from mask_seed."""
    rng = np.random.default_rng(mask_seed) if mask_seed is not None else None
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    L, m = len(params) // 2, X.shape[1]
    A = torch.tensor(X, dtype=torch.float64)
    for l in range(1, L):  # noqa: E741
        A = torch.relu(t[f"W{l}"] @ A + t[f"b{l}"])  # relu'(0) = 0, like the course's backprop
        if rng is not None and keep_prob < 1.0:
            A = A * torch.tensor(rng.random(tuple(A.shape)) < keep_prob) / keep_prob
    Z = t[f"W{L}"] @ A + t[f"b{L}"]
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        Z, torch.tensor(Y, dtype=torch.float64), reduction="sum") / m
    cost = loss + lambd / (2 * m) * sum(torch.sum(t[f"W{i}"] ** 2) for i in range(1, L + 1))
    cost.backward()
    return cost.item(), {k: v.grad.numpy() for k, v in t.items()}


def relative(a, b):
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))


@pytest.mark.parametrize("keep_prob", [0.86, 1.0])
def test_the_backprop_is_right_at_every_kink_seed_the_checker_leaves_inconclusive(keep_prob):
    for s in ISSUE_KINK_SEEDS[keep_prob]:
        net = Network([3, 8, 5, 1], init="he", lambd=0.7, keep_prob=keep_prob, seed=s)
        X, Y = gaussian_examples(s)
        cost, grads = net.cost_and_grads(X, Y, rng=np.random.default_rng(s))
        t_cost, t_grads = autograd(net.params, X, Y, 0.7, keep_prob, mask_seed=s)
        assert cost == pytest.approx(t_cost, rel=1e-14)
        for k in grads:
            np.testing.assert_allclose(grads[k], t_grads[k], rtol=0, atol=1e-15)
        r = gradient_check(model_objective(net, X, Y, mask_seed=s), net.params)
        assert r.verdict == "inconclusive"


def test_every_planted_bug_is_wrong_by_autograd():
    X, Y = gaussian_examples(249)
    for bug in (None, *BUGS):
        net = PlantedBugNet([3, 6, 6, 1], bug=bug, lambd=0.7, keep_prob=0.86, seed=249)
        _, grads = net.cost_and_grads(X, Y, rng=np.random.default_rng(249))
        _, t_grads = autograd(net.params, X, Y, 0.7, 0.86, mask_seed=249)
        worst = max(relative(grads[k], t_grads[k]) for k in grads)
        assert (worst > 1e-3) if bug else (worst < 1e-14), (bug, worst)


def test_the_depth_20_gradient_left_inconclusive_for_precision_is_right():
    ds = load_circles()
    net = Network(mlp_dims(2, 50, 20), init="random", init_scale=10.0, seed=0)
    cols = np.sort(np.random.default_rng(0).permutation(ds.X_train.shape[1])[:64])
    X, Y = ds.X_train[:, cols], ds.Y_train[:, cols]
    cost, grads = net.cost_and_grads(X, Y)
    t_cost, t_grads = autograd(net.params, X, Y)
    assert cost == pytest.approx(t_cost, rel=1e-12) and cost > 1e33
    for k in grads:
        assert relative(grads[k], t_grads[k]) < 1e-12, k
