import numpy as np
import pytest

from initreg.nn.init import SCHEMES, initialize


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_shapes_dtype_and_zero_biases(scheme):
    params = initialize([4, 7, 3, 1], scheme, np.random.default_rng(0))
    assert list(params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert params["W1"].shape == (7, 4) and params["b1"].shape == (7, 1)
    assert params["W2"].shape == (3, 7) and params["W3"].shape == (1, 3)
    for p in params.values():
        assert p.dtype == np.float64
    for l in (1, 2, 3):  # noqa: E741
        assert not params[f"b{l}"].any()


@pytest.mark.parametrize(
    ("scheme", "expected_std"),
    [
        ("he", np.sqrt(2 / 400)),
        ("lecun", np.sqrt(1 / 400)),
        ("xavier", np.sqrt(2 / (400 + 300))),
        ("random", 10.0),
        ("zeros", 0.0),
    ],
)
def test_weight_std_matches_formula_on_a_large_layer(scheme, expected_std):
    W = initialize([400, 300, 1], scheme, np.random.default_rng(1))["W1"]
    assert W.std() == pytest.approx(expected_std, rel=0.02, abs=1e-12)
    assert abs(W.mean()) < 0.02 * max(expected_std, 1e-12) + 1e-12 or scheme == "random"


def test_random_scale_is_configurable():
    W = initialize([300, 300, 1], "random", np.random.default_rng(1), scale=0.01)["W1"]
    assert W.std() == pytest.approx(0.01, rel=0.02)


def test_unknown_scheme_is_refused_with_the_allowed_names():
    with pytest.raises(ValueError, match=r"init='glorot' .*allowed: zeros, random, he, lecun"):
        initialize([2, 1], "glorot", np.random.default_rng(0))


def test_course_he_init_matches_the_assignment_draws():
    # The assignment: np.random.seed(3); W = randn(n, n_prev) * sqrt(2 / n_prev), layer by layer.
    rs = np.random.RandomState(3)
    W1 = rs.randn(10, 2) * np.sqrt(2.0 / 2)
    W2 = rs.randn(5, 10) * np.sqrt(2.0 / 10)
    params = initialize([2, 10, 5, 1], "he", np.random.RandomState(3))
    np.testing.assert_array_equal(params["W1"], W1)
    np.testing.assert_array_equal(params["W2"], W2)
