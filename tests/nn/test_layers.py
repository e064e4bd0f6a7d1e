import numpy as np
import pytest

from initreg.gradcheck import gradient_check
from initreg.nn import initialize, layers


def test_cross_entropy_matches_the_naive_formula_where_that_is_accurate():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(1, 50))
    Y = (rng.random((1, 50)) > 0.5).astype(float)
    A = 1 / (1 + np.exp(-Z))
    naive = float(np.mean(-Y * np.log(A) - (1 - Y) * np.log(1 - A)))
    assert layers.cross_entropy_from_logits(Z, Y) == pytest.approx(naive, rel=1e-12)


def test_cross_entropy_stays_finite_for_huge_logits():
    Z = np.array([[1e200, -1e200, 800.0, -800.0]])
    Y = np.array([[0.0, 1.0, 0.0, 1.0]])
    cost = layers.cross_entropy_from_logits(Z, Y)
    assert np.isfinite(cost)
    assert cost == pytest.approx((1e200 + 1e200 + 800 + 800) / 4)


def test_course_l2_cost_test_case():
    # compute_cost_with_regularization_test_case: seed 1 draws W1 (2,3), b1, W2 (3,2), b2,
    # W3 (1,3), b3 in that order; the cost of the given A3 with lambd 0.1 is published.
    rs = np.random.RandomState(1)
    Y = np.array([[1, 1, 0, 1, 0]], dtype=float)
    W1 = rs.randn(2, 3)
    rs.randn(2, 1)
    W2 = rs.randn(3, 2)
    rs.randn(3, 1)
    W3 = rs.randn(1, 3)
    A3 = np.array([[0.40682402, 0.01629284, 0.16722898, 0.10118111, 0.40682402]])
    logits = np.log(A3) - np.log1p(-A3)
    cost = layers.cross_entropy_from_logits(logits, Y) + layers.l2_penalty([W1, W2, W3], 0.1, 5)
    assert cost == pytest.approx(1.7864859451590758, rel=1e-6)


def test_inverted_dropout_keeps_the_expected_activation():
    A = np.full((200, 5000), 3.0)
    out, D = layers.dropout_forward(A, 0.8, np.random.default_rng(0))
    assert out.mean() == pytest.approx(3.0, rel=0.01)
    assert D.mean() == pytest.approx(0.8, abs=0.005)
    assert set(np.unique(out)) == {0.0, 3.0 / 0.8}


def test_dropout_backward_uses_the_same_mask_and_scale():
    dA = np.ones((3, 4))
    D = np.array([[1, 0, 1, 0]] * 3, dtype=bool)
    np.testing.assert_array_equal(layers.dropout_backward(dA, D, 0.5), D * 2.0)


def test_relu_backward_passes_gradient_only_where_active():
    A, cache = layers.relu_forward(np.array([[-1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(layers.relu_backward(np.array([[5.0, 5.0, 5.0]]), cache),
                                  [[0.0, 0.0, 5.0]])


def test_sigmoid_cross_entropy_gives_the_mean_loss_and_its_gradient():
    Z = np.array([[0.0, 2.0, -1.0, 0.5]])
    Y = np.array([[1.0, 0.0, 0.0, 1.0]])
    loss, dZ = layers.sigmoid_cross_entropy(Z, Y)
    assert loss == layers.cross_entropy_from_logits(Z, Y)
    np.testing.assert_allclose(dZ, (1 / (1 + np.exp(-Z)) - Y) / 4, rtol=1e-15)


@pytest.mark.parametrize(("lambd", "keep_prob"), [(0.0, 1.0), (0.7, 1.0), (0.2, (0.6, 1.0))])
def test_the_reference_network_passes_gradient_checking(lambd, keep_prob):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 7))
    Y = (rng.random((1, 7)) > 0.5).astype(float)
    params = initialize([3, 5, 4, 1], "he", np.random.default_rng(0))
    for l in (1, 2, 3):  # noqa: E741 - nonzero biases: with zero ones, an example whose units
        # are all dropped or inactive has Z = b = 0 exactly, on the ReLU's kink
        params[f"b{l}"] = rng.normal(size=params[f"b{l}"].shape)

    def f(p):  # the masks re-drawn from the same seed at every evaluation: a fixed function
        return layers.reference_cost_and_grads(p, X, Y, lambd, keep_prob,
                                               np.random.default_rng(2))

    result = gradient_check(f, params)
    assert result.passed and result.difference < 1e-8


def test_the_reference_cost_is_the_cost_of_the_course_formula():
    params = {"W1": np.array([[1.0, -1.0], [0.5, 2.0]]), "b1": np.array([[0.1], [-0.2]]),
              "W2": np.array([[1.0, -3.0]]), "b2": np.array([[0.3]])}
    X = np.array([[1.0, 2.0, -1.0], [0.0, 1.0, 1.0]])
    Y = np.array([[1.0, 0.0, 1.0]])
    A1 = np.maximum(0, params["W1"] @ X + params["b1"])
    A2 = 1 / (1 + np.exp(-(params["W2"] @ A1 + params["b2"])))
    naive = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
    l2 = 0.5 / (2 * 3) * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    cost, _ = layers.reference_cost_and_grads(params, X, Y, lambd=0.5)
    assert cost == pytest.approx(naive + l2, rel=1e-12)


def test_the_reference_refuses_a_keep_prob_per_layer_of_the_wrong_length():
    params = initialize([2, 3, 3, 1], "he", np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"keep_prob=\[0.5\] has 1 values; allowed: one float "
                                         r"or one per hidden layer \(2\)"):
        layers.reference_cost_and_grads(params, np.ones((2, 4)), np.ones((1, 4)),
                                        keep_prob=[0.5])


def test_the_reference_matches_pytorch_autograd_in_float64():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3, 9))
    Y = (rng.random((1, 9)) > 0.5).astype(float)
    params = initialize([3, 6, 4, 1], "he", np.random.default_rng(4))
    lambd, keep = 0.3, (0.7, 1.0)
    cost, grads = layers.reference_cost_and_grads(params, X, Y, lambd, keep,
                                                  np.random.default_rng(5))

    draws = np.random.default_rng(5)  # the masks: layer 1's, from the same stream
    D1 = torch.from_numpy(draws.random((6, 9)) < 0.7)
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    A1 = torch.relu(p["W1"] @ torch.from_numpy(X) + p["b1"]) * D1 / 0.7
    A2 = torch.relu(p["W2"] @ A1 + p["b2"])
    Z3 = p["W3"] @ A2 + p["b3"]
    loss = torch.nn.functional.binary_cross_entropy_with_logits(Z3, torch.from_numpy(Y))
    loss = loss + lambd / (2 * 9) * sum((p[f"W{l}"] ** 2).sum() for l in (1, 2, 3))  # noqa: E741
    loss.backward()
    assert cost == pytest.approx(loss.item(), rel=1e-13)
    for name, t in p.items():
        np.testing.assert_allclose(grads[name], t.grad.numpy(), rtol=1e-12, atol=1e-15,
                                   err_msg=name)
