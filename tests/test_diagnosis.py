"""Tests for initreg.diagnosis: every verdict, its boundaries, and input checks."""

import math

import pytest

from initreg.diagnosis import (
    FAILURE_MODES,
    FAILURE_RECOMMENDATIONS,
    RECOMMENDATIONS,
    VERDICTS,
    Diagnosis,
    Failure,
    diagnose,
)


@pytest.mark.parametrize(
    "train, dev, bayes, verdict",
    [
        (0.15, 0.16, 0.0, "high_bias"),
        (0.01, 0.11, 0.0, "high_variance"),
        (0.15, 0.30, 0.0, "high_bias_high_variance"),
        (0.005, 0.01, 0.0, "good_fit"),
        (0.15, 0.16, 0.14, "good_fit"),  # high error, but close to the Bayes error
        (0.15, 0.16, 0.10, "high_bias"),
    ],
)
def test_verdicts(train, dev, bayes, verdict):
    d = diagnose(train, dev, bayes_error=bayes)
    assert d.verdict == verdict
    assert d.avoidable_bias == pytest.approx(train - bayes)
    assert d.variance == pytest.approx(dev - train)
    assert d.recommendation == RECOMMENDATIONS[verdict]


def test_every_verdict_and_failure_mode_has_a_one_sentence_recommendation():
    assert set(RECOMMENDATIONS) == set(VERDICTS) - {"failed_to_learn"}
    assert set(FAILURE_RECOMMENDATIONS) == set(FAILURE_MODES)
    for text in [*RECOMMENDATIONS.values(), *FAILURE_RECOMMENDATIONS.values()]:
        assert text.endswith(".") and text.count(". ") == 0


@pytest.mark.parametrize("mode", FAILURE_MODES)
def test_a_failure_overrides_the_bias_variance_verdict(mode):
    # the sweep's zeros runs: train 0.502, dev 0.436 was "high_bias_high_variance"
    d = diagnose(0.498, 0.564, 0.06, failure=Failure(mode, "measured: x"))
    assert d.verdict == "failed_to_learn" and d.failure_mode == mode
    assert d.recommendation == FAILURE_RECOMMENDATIONS[mode]
    assert d.evidence == "measured: x"
    # the numbers stay the differences of the errors given
    assert d.avoidable_bias == pytest.approx(0.438) and d.variance == pytest.approx(0.066)


def test_without_a_failure_nothing_changes():
    d = diagnose(0.498, 0.564, 0.06, failure=None)
    assert d.verdict == "high_bias_high_variance"
    assert d.failure_mode is None and d.evidence == ""
    assert diagnose(0.498, 0.564, 0.06) == d


def test_failure_recommendations_name_the_fix_of_their_cause():
    assert "init" in FAILURE_RECOMMENDATIONS["symmetry_not_broken"]
    assert "learning rate" in FAILURE_RECOMMENDATIONS["dead_units"]
    assert "lambd" in FAILURE_RECOMMENDATIONS["collapsed"]
    for mode in FAILURE_MODES:  # none of them is the bias/variance recipe's "bigger network"
        assert "bigger network" not in FAILURE_RECOMMENDATIONS[mode]


@pytest.mark.parametrize("failure", [Failure("unknown_mode", ""), "dead_units"])
def test_bad_failure_is_refused(failure):
    with pytest.raises(ValueError, match="failure must be a Failure with a mode in"):
        diagnose(0.1, 0.1, failure=failure)


def test_recommendations_follow_the_basic_recipe():
    assert "bigger network" in RECOMMENDATIONS["high_bias"]
    assert "more training data" in RECOMMENDATIONS["high_variance"]
    assert "dropout" in RECOMMENDATIONS["high_variance"]
    both = RECOMMENDATIONS["high_bias_high_variance"]
    assert both.index("bias") < both.index("variance")  # bias first


def test_tolerance_is_a_strict_threshold():
    assert diagnose(0.125, 0.375, tolerance=0.125).verdict == "high_variance"  # bias == tol
    assert diagnose(0.25, 0.375, tolerance=0.125).verdict == "high_bias"  # variance == tol
    assert diagnose(0.1, 0.1, tolerance=0.0).verdict == "high_bias"


def test_negative_gaps_are_kept():
    # The course's dropout model on football: train 92.9% and test 95% accuracy.
    d = diagnose(0.071, 0.05, bayes_error=0.06)
    assert d.variance == pytest.approx(-0.021) and d.verdict == "good_fit"
    assert diagnose(0.04, 0.05, bayes_error=0.06).avoidable_bias == pytest.approx(-0.02)


def test_course_football_without_regularization_overfits():
    # The course's unregularized model: 94.8% train and 91.5% test accuracy.
    assert diagnose(0.052, 0.085, bayes_error=0.06).verdict == "high_variance"


def test_result_is_frozen():
    d = diagnose(0.1, 0.1)
    assert isinstance(d, Diagnosis)
    with pytest.raises(AttributeError):
        d.verdict = "good_fit"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"train_error": -0.1}, r"train_error must be an error rate in \[0, 1\], got -0.1"),
        ({"dev_error": 1.5}, r"dev_error must be an error rate in \[0, 1\], got 1.5"),
        ({"bayes_error": math.nan}, "bayes_error must be an error rate .* got nan"),
        ({"tolerance": -0.01}, "tolerance must be finite and >= 0, got -0.01"),
        ({"tolerance": math.inf}, "tolerance must be finite and >= 0, got inf"),
    ],
)
def test_bad_inputs(kwargs, message):
    args = {"train_error": 0.1, "dev_error": 0.1, **kwargs}
    with pytest.raises(ValueError, match=message):
        diagnose(**args)
