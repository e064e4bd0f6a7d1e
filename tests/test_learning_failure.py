"""Tests for initreg.diagnosis.learning_failure: each rule on hand-made measurements, then on
real (short, seeded) football trainings, where the recommendations' fixes are shown to work."""

import math

import numpy as np
import pytest

from initreg import diagnosis
from initreg.data import load_football
from initreg.diagnosis import FLAT_OUTPUT, Failure, learning_failure
from initreg.metrics import accuracy
from initreg.nn import Network, mask_rng, stats, train


def row(*values) -> np.ndarray:
    return np.array([values], dtype=np.float64)


Y = row(1, 1, 0, 1, 0)  # 3 of 5 are class 1
ALL_ONES, ALL_ZEROS = row(1, 1, 1, 1, 1), row(0, 0, 0, 0, 0)


def layer_stats(act=((0.5, 0.4), (0.9, 1.2), (0.55, 0.3)), grads=(0.1, 0.2, 0.05), sym=3.5):
    """Stats of a [n_x, n_1, n_2, 1] net as initreg.nn.stats.layer_stats names them."""
    s = {}
    for l, (mean, std) in enumerate(act, start=1):  # noqa: E741
        s[f"act_mean_l{l}"], s[f"act_std_l{l}"] = mean, std
    for l, g in enumerate(grads, start=1):  # noqa: E741
        s[f"grad_norm_l{l}"] = g
    s["symmetry_l1"] = sym
    return s


DEAD_L2 = layer_stats(act=((2.3, 4.5), (0.0, 0.0), (0.6, 0.0)), grads=(0.0, 0.0, 0.0))
ZEROS = layer_stats(act=((0.0, 0.0), (0.0, 0.0), (0.6, 0.0)), grads=(0.0, 0.0, 0.0), sym=0.0)


# --- the rules, on hand-made measurements -------------------------------------------------------

def test_a_model_that_predicts_both_classes_has_not_failed_whatever_its_stats():
    for s in (ZEROS, DEAD_L2, layer_stats(act=((1, 1), (1, 1), (0.5, 0.0)))):
        assert learning_failure(Y, row(1, 0, 0, 1, 1), s, [0.7, 0.7], units_l1=20) is None


def test_a_training_set_of_one_class_has_nothing_to_learn():
    assert learning_failure(ALL_ONES, ALL_ONES, ZEROS, units_l1=20) is None
    assert learning_failure(ALL_ZEROS, ALL_ZEROS, ZEROS, units_l1=20) is None


def test_constant_predictions_state_the_class_share():
    f = learning_failure(Y, ALL_ONES)
    assert f.mode == "constant_predictor"
    assert f.evidence.startswith("Every training prediction is class 1, so the train accuracy "
                                 "0.600 is exactly the share of class 1 in the training set "
                                 "(3 of 5).")
    assert "No layer statistics were given." in f.evidence
    minority = learning_failure(Y, ALL_ZEROS)  # the minority class: 2 of 5
    assert "class 0, so the train accuracy 0.400 is exactly the share of class 0" in \
        minority.evidence
    assert "(2 of 5)" in minority.evidence


def test_symmetry_takes_precedence_and_the_dead_layers_are_stated_too():
    f = learning_failure(Y, ALL_ONES, ZEROS, [0.6931, 0.6931], units_l1=20)
    assert f.mode == "symmetry_not_broken"
    assert "symmetry_l1 = 0: the 20 units of hidden layer 1 have identical" in f.evidence
    assert "hidden layers 1, 2 outputs 0 on every training example" in f.evidence


def test_symmetry_needs_two_units_known():
    # a single unit is trivially "symmetric" (symmetry_l1 = 0): that says nothing
    assert learning_failure(Y, ALL_ONES, ZEROS, units_l1=1).mode == "dead_units"
    assert learning_failure(Y, ALL_ONES, ZEROS).mode == "dead_units"  # units_l1 not known
    alive = layer_stats(act=((1, 1), (1, 1), (0.6, 0.2)), sym=0.0)
    assert learning_failure(Y, ALL_ONES, alive, units_l1=20).mode == "symmetry_not_broken"


def test_dead_units_need_a_whole_hidden_layer_at_zero():
    f = learning_failure(Y, ALL_ONES, DEAD_L2, units_l1=20)
    assert f.mode == "dead_units"
    assert "Every ReLU unit of hidden layer 2 outputs 0 on every training example" in f.evidence
    assert "Last gradient norms: l1 0, l2 0, l3 0." in f.evidence
    # a mean above 0 means some unit fired on some example: alive
    barely = layer_stats(act=((2.3, 4.5), (1e-12, 3e-12), (0.6, 0.2)))
    assert learning_failure(Y, ALL_ONES, barely).mode == "constant_predictor"
    # the output layer (sigmoid) at a constant is not a dead hidden layer
    flat = layer_stats(act=((2.3, 4.5), (1.0, 2.0), (0.6, 0.0)))
    assert learning_failure(Y, ALL_ONES, flat).mode == "collapsed"


def test_collapsed_is_a_flat_output_with_live_hidden_layers():
    def mode(out_std):
        return learning_failure(Y, ALL_ONES, layer_stats(act=((0.09, 0.09), (0.07, 0.07),
                                                               (0.6, out_std)))).mode
    assert mode(0.0) == mode(4e-8) == mode(FLAT_OUTPUT) == "collapsed"  # the limit is included
    assert mode(2 * FLAT_OUTPUT) == mode(math.nan) == "constant_predictor"
    f = learning_failure(Y, ALL_ONES, layer_stats(act=((0.0015, 0.002), (1.1e-4, 1e-4),
                                                       (0.6, 2.7e-9))))
    assert "varies by 2.7e-09 (its std over the training examples, limit 1e-06)" in f.evidence
    assert "mean activation by layer: l1 0.0015, l2 0.00011." in f.evidence
    with_limit = learning_failure(Y, ALL_ONES, layer_stats(act=((1, 1), (1, 1), (0.6, 1e-4))),
                                  flat_output=1e-3)
    assert with_limit.mode == "collapsed"


def test_costs_are_stated_against_the_best_constant_predictor():
    f = learning_failure(Y, ALL_ONES, DEAD_L2, [596.4, 12.0, 0.7])
    h = -(0.6 * math.log(0.6) + 0.4 * math.log(0.4))  # 0.6730: P(y = 1) = 0.6 everywhere
    assert (f"The cost went from 596.4 to 0.7 (lowest 0.7); predicting the training share of "
            f"class 1 (0.600) for every example costs {h:.4g}.") in f.evidence


def test_a_cost_below_the_best_constant_means_it_is_learning():
    h = -(0.6 * math.log(0.6) + 0.4 * math.log(0.4))
    live = layer_stats(act=((0.5, 0.4), (0.9, 1.2), (0.6, 2e-4)))
    assert learning_failure(Y, ALL_ONES, live, [0.71, h * (1 - 1e-4)]) is None
    assert learning_failure(Y, ALL_ONES, live, [0.71, h]).mode == "constant_predictor"
    assert learning_failure(Y, ALL_ONES, None, [0.71, h * 0.9]) is None
    # a structural cause wins: such a model cannot beat the constant (its output is one value)
    assert learning_failure(Y, ALL_ONES, DEAD_L2, [0.71, h * 0.9]).mode == "dead_units"


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((Y, row(1, 1, 1)), {}, "Y has 5 examples but Y_hat has 3"),
        ((Y, row(1, 1, 0.7, 1, 1)), {}, "Y_hat must hold 0/1 labels"),
        ((Y.T, ALL_ONES), {}, r"Y must have shape \(1, m\)"),
        ((Y, ALL_ONES), {"units_l1": 0}, "units_l1 must be a whole number >= 1 or None, got 0"),
        ((Y, ALL_ONES), {"units_l1": 2.0}, "units_l1 must be a whole number"),
        ((Y, ALL_ONES), {"flat_output": -1.0}, "flat_output must be finite and >= 0, got -1.0"),
        ((Y, ALL_ONES), {"costs": []}, "costs must hold at least one cost, or be None"),
    ],
)
def test_bad_inputs(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        learning_failure(*args, **kwargs)


# --- real football trainings: the job's measurements, the rules' verdicts, the fixes -----------

@pytest.fixture(scope="module")
def football():
    return load_football()


def fit(ds, init="he", lambd=0.0, keep_prob=1.0, lr=0.3, iters=1000, dims=(20, 3), seed=0,
        scale=10.0):
    """Train as pipelines/train.py does; the model and learning_failure of its measurements."""
    net = Network([2, *dims, 1], init=init, lambd=lambd, keep_prob=keep_prob, seed=seed,
                  init_scale=scale)
    recorder, last = stats.GradRecorder(net), {}

    def on_log(i, cost, _model):
        last["stats"] = stats.layer_stats(net.params, ds.X_train, recorder.grads)

    rng = mask_rng("default", seed) if keep_prob < 1 else None
    history = train(recorder, ds.X_train, ds.Y_train, learning_rate=lr, num_iterations=iters,
                    rng=rng, log_every=500, callback=on_log)
    failure = learning_failure(ds.Y_train, net.predict(ds.X_train), last["stats"],
                               history.costs, units_l1=net.params["W1"].shape[0])
    return net, failure


def test_zeros_never_breaks_symmetry_and_he_does(football):
    net, f = fit(football, init="zeros", iters=300)
    assert f.mode == "symmetry_not_broken"
    assert stats.symmetry_l1(net.params["W1"]) == 0.0  # still identical after training
    # the class-1 share of football's training set: 106 of 211
    assert "class 1, so the train accuracy 0.502 is exactly the share" in f.evidence
    assert fit(football, init="he", iters=300)[1] is None  # the recommended fix


def test_equal_weights_get_equal_updates(football):
    # the claim behind symmetry_not_broken, with weights that are equal but not zero
    net = Network([2, 20, 3, 1], init="he", seed=0)
    for name in ("W1", "W2", "W3"):
        net.params[name][:] = 0.5
    train(net, football.X_train, football.Y_train, learning_rate=0.3, num_iterations=300)
    assert stats.symmetry_l1(net.params["W1"]) == 0.0
    assert accuracy(football.Y_train, net.predict(football.X_train)) < 0.85  # one unit's worth
    # equal incoming rows alone are not enough: different outgoing weights tell the units apart
    net = Network([2, 20, 3, 1], init="he", seed=0)
    net.params["W1"][:] = net.params["W1"][0]
    train(net, football.X_train, football.Y_train, learning_rate=0.3, num_iterations=300)
    assert stats.symmetry_l1(net.params["W1"]) > 1.0


def test_random_x10_kills_layer_2_within_two_steps(football):
    # the sweep's random runs: initial logits up to ~5000 (cost 596) make steps so large that
    # every unit of hidden layer 2 ends up below 0 on every training example
    net, f = fit(football, init="random", iters=3)  # the stats of iteration 2: after 2 steps
    assert f.mode == "dead_units"
    assert "hidden layer 2 outputs 0 on every training example" in f.evidence
    assert "The cost went from 596.4" in f.evidence
    # ... and no gradient flows through it any more: every weight below and at it is stuck
    _, grads = net.cost_and_grads(football.X_train, football.Y_train)
    assert all(np.all(grads[k] == 0) for k in ("W1", "b1", "W2", "b2", "W3"))
    assert fit(football, init="random", iters=1000)[1].mode == "dead_units"


def test_dead_units_fixes_lower_learning_rate_or_he(football):
    assert fit(football, init="random", lr=0.1, iters=1000)[1] is None
    assert fit(football, init="he", lr=3.0, iters=300)[1].mode == "dead_units"
    assert fit(football, init="he", lr=0.3, iters=300)[1] is None


def test_strong_l2_collapses_the_output_and_less_of_it_learns(football):
    net, f = fit(football, lambd=20.0, iters=300)
    assert f.mode == "collapsed"
    # the output no longer depends on the input, on data it never saw either
    assert float(np.std(net.predict_proba(football.X_dev))) <= FLAT_OUTPUT
    assert fit(football, lambd=0.7, iters=300)[1] is None


def test_a_small_init_collapses_a_deep_net_and_he_does_not(football):
    assert fit(football, init="random", scale=0.01, dims=(20, 20, 20, 20))[1].mode == "collapsed"
    assert fit(football, init="he", dims=(20, 20, 20, 20))[1] is None


def test_a_he_run_on_its_early_plateau_is_learning_not_failed(football):
    # seed 1 predicts class 1 everywhere at iteration 100, with a cost just below ln 2
    net, f = fit(football, seed=1, iters=100)
    assert np.all(net.predict(football.X_train) == 1)
    assert f is None
    later, _ = fit(football, seed=1, iters=1000)
    assert accuracy(football.Y_train, later.predict(football.X_train)) > 0.9


def test_dropout_runs_dead_or_on_a_plateau(football):
    # xavier, seed 1, dropout: layer 2 dies and stays dead at lr 0.3 (checked to 30000 steps)
    assert fit(football, init="xavier", lambd=0.1, keep_prob=0.86, seed=1)[1].mode == \
        "dead_units"
    # at lr 0.1 the same layer is dead at step 3000, but dropout's noise revives it by 10000
    slower = {"init": "xavier", "lambd": 0.1, "keep_prob": 0.86, "seed": 1, "lr": 0.1}
    assert fit(football, iters=3000, **slower)[1].mode == "dead_units"
    assert fit(football, iters=10000, **slower)[1] is None
    # He, seed 1, dropout: one class everywhere at 1000 steps, with no cause in the stats and a
    # cost (with dropout) above ln 2; "train longer if it is still falling" is the way out
    net, f = fit(football, init="he", lambd=0.1, keep_prob=0.86, seed=1)
    assert f.mode == "constant_predictor" and "The layer statistics show no cause." in f.evidence
    assert "train longer if it is still falling" in diagnosis.FAILURE_RECOMMENDATIONS[f.mode]
    later, f = fit(football, init="he", lambd=0.1, keep_prob=0.86, seed=1, iters=3000)
    assert f is None and accuracy(football.Y_train, later.predict(football.X_train)) > 0.9


@pytest.mark.parametrize("init", ["he", "xavier", "lecun"])
@pytest.mark.parametrize("lambd, keep_prob", [(0.0, 1.0), (0.1, 0.86), (0.7, 0.7)])
def test_runs_that_learned_are_never_failed(football, init, lambd, keep_prob):
    for seed in (0, 2, 3):
        net, f = fit(football, init=init, lambd=lambd, keep_prob=keep_prob, seed=seed)
        assert accuracy(football.Y_train, net.predict(football.X_train)) > 0.75
        assert f is None


@pytest.mark.slow
def test_the_default_sweep(football):
    # init x lambd x keep_prob as conf/experiment/default_sweep.yaml, 30000 steps at lr 0.3
    modes = {}
    for init in ("zeros", "random", "he"):
        for lambd in (0.0, 0.1, 0.7):
            for keep_prob in (1.0, 0.86, 0.7):
                f = fit(football, init=init, lambd=lambd, keep_prob=keep_prob, iters=30000)[1]
                modes[init, lambd, keep_prob] = f and f.mode
    assert all(m == "symmetry_not_broken" for k, m in modes.items() if k[0] == "zeros")
    random_failed = {k[1:]: m for k, m in modes.items() if k[0] == "random" and m}
    assert random_failed == dict.fromkeys(
        [(0.0, 1.0), (0.1, 1.0), (0.1, 0.86), (0.7, 1.0), (0.7, 0.86), (0.7, 0.7)], "dead_units")
    assert all(m is None for k, m in modes.items() if k[0] == "he")


def test_the_job_gets_failed_to_learn_with_the_failure(football):
    net, f = fit(football, init="zeros", iters=300)
    train_err = 1 - accuracy(football.Y_train, net.predict(football.X_train))
    dev_err = 1 - accuracy(football.Y_dev, net.predict(football.X_dev))
    d = diagnosis.diagnose(train_err, dev_err, football.bayes_error, failure=f)
    assert (d.verdict, d.failure_mode) == ("failed_to_learn", "symmetry_not_broken")
    assert isinstance(f, Failure) and d.evidence == f.evidence
    assert diagnosis.diagnose(train_err, dev_err, football.bayes_error).verdict == \
        "high_bias_high_variance"  # what the sweep said before


def test_bad_inputs_are_refused_also_when_the_run_learned():
    with pytest.raises(ValueError, match="units_l1 must be"):
        learning_failure(Y, row(1, 0, 0, 1, 1), units_l1=-3)
    with pytest.raises(ValueError, match="costs must hold at least one cost"):
        learning_failure(Y, row(1, 0, 0, 1, 1), costs=[])
