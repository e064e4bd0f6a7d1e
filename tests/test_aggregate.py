"""Aggregation over seeds on hand-made runs: known means, spreads, selection, paired claims."""

import math
import statistics

import pytest
from scipy import stats

from initreg.aggregate import (
    Config,
    SeedRun,
    claim_sentence,
    judge,
    over_seeds,
    paired_t_p_value,
    parent_metrics,
    replicates,
    select,
    stat,
    summarize,
)

HE = Config("he", 0.0, 1.0)
HE_L2 = Config("he", 0.7, 1.0)
HE_DROP = Config("he", 0.0, 0.86)
HE_BOTH = Config("he", 0.7, 0.86)
ZEROS_L2 = Config("zeros", 0.7, 1.0)
RANDOM_L2 = Config("random x10", 0.7, 1.0)

# dev accuracy per seed 0, 1, 2 (train = dev + 0.03, test = dev - 0.01)
DEV = {
    HE: [0.90, 0.92, 0.94],        # mean 0.92, std 0.02
    HE_L2: [0.93, 0.91, 0.96],     # mean 0.9333: selected
    HE_DROP: [0.88, 0.90, 0.89],   # below no regularization in every seed
    ZEROS_L2: [0.50, 0.50, 0.50],  # no spread
    RANDOM_L2: [0.94, 0.90, 0.95],  # mean 0.93: just below HE_L2
}


def run(config, seed, dev, status="finished", gate="passed"):
    metrics = {} if status != "finished" else {
        "dev_accuracy": dev, "train_accuracy": dev + 0.03, "test_accuracy": dev - 0.01,
        "avoidable_bias": 0.01, "variance": 0.03}
    return SeedRun(config, (seed,), status, gate, metrics, f"{config.label}/{seed}")


def sweep(extra=()):
    return [run(c, s, d) for c, devs in DEV.items() for s, d in enumerate(devs)] + list(extra)


def by_config(summaries):
    return {s.config: s for s in summaries}


def test_means_and_sample_stds_per_configuration():
    s = by_config(summarize(sweep()))
    assert s[HE].stat("dev_accuracy").mean == pytest.approx(0.92)
    assert s[HE].stat("dev_accuracy").std == pytest.approx(0.02)  # ddof=1: sqrt(0.0008/2)
    assert s[HE].stat("train_accuracy").mean == pytest.approx(0.95)
    assert s[HE].stat("test_accuracy").mean == pytest.approx(0.91)
    assert s[HE_L2].stat("dev_accuracy").mean == pytest.approx(2.8 / 3)
    # by hand: deviations -1/300, -7/300, 8/300; squares sum 114/90000, over n-1 = 2
    assert s[HE_L2].stat("dev_accuracy").std == pytest.approx(math.sqrt(114 / 90000 / 2))
    assert s[ZEROS_L2].stat("dev_accuracy").std == pytest.approx(0.0)
    assert s[HE].stat("dev_accuracy").text() == "0.920 ± 0.020"
    assert all(x.complete and x.finished == 3 and x.failures == "—" for x in s.values())


def test_one_value_has_no_spread_and_none_has_no_mean():
    assert stat([0.5]).std is None and stat([0.5]).text() == "0.500"
    assert stat([]).n == 0 and math.isnan(stat([]).mean) and stat([]).text() == "—"
    assert stat([0.5, math.nan, 0.7]).n == 2  # a non-finite value is not a seed's result


def test_selection_is_on_mean_dev_accuracy_and_ranks_every_configuration():
    summaries = summarize(sweep())
    assert select(summaries).config == HE_L2
    assert [s.config for s in summaries] == [HE_L2, RANDOM_L2, HE, HE_DROP, ZEROS_L2]


def test_a_configuration_that_failed_in_a_seed_is_never_selected_and_counts_its_failures():
    extra = [run(HE_BOTH, 0, 0.99), run(HE_BOTH, 1, math.nan, "diverged"),
             run(HE_BOTH, 2, math.nan, "gated", gate="failed")]
    summaries = summarize(sweep(extra))
    both = by_config(summaries)[HE_BOTH]
    assert both.stat("dev_accuracy").mean == pytest.approx(0.99)  # best mean, one seed
    assert not both.complete and both.finished == 1 and both.runs == 3
    assert both.failures == "1 diverged, 1 gated"
    assert both.gate == {"passed": 2, "failed": 1}
    assert select(summaries).config == HE_L2
    assert summaries[-1].config == HE_BOTH


def test_ties_in_mean_dev_go_to_the_smaller_mean_variance():
    a, b = Config("he", 0.1, 1.0), Config("lecun", 0.1, 1.0)
    recs = [SeedRun(a, (s,), "finished", "passed", {"dev_accuracy": 0.9, "variance": 0.05})
            for s in (0, 1)] + [
        SeedRun(b, (s,), "finished", "passed", {"dev_accuracy": 0.9, "variance": 0.01})
        for s in (0, 1)]
    assert select(summarize(recs)).config == b


def claims_of(records):
    return {(c.better, c.worse): c for c in judge(records, summarize(records))}


def test_init_pairs_at_the_selected_regularization_are_stated_best_first():
    claims = claims_of(sweep())
    inits = [k for k, c in claims.items() if c.kind == "init"]
    assert inits == [(HE_L2, RANDOM_L2), (HE_L2, ZEROS_L2), (RANDOM_L2, ZEROS_L2)]
    he_zeros = claims[(HE_L2, ZEROS_L2)]
    assert he_zeros.result.diffs == pytest.approx([0.43, 0.41, 0.46])
    assert he_zeros.verdict == "holds across seeds"
    assert he_zeros.text == "he beats zeros (lambd=0.7)"
    he_random = claims[(HE_L2, RANDOM_L2)]
    assert he_random.result.diffs == pytest.approx([-0.01, 0.01, 0.01])
    assert (he_random.result.wins, he_random.result.seeds) == (2, 3)
    assert he_random.verdict == "holds on average only"


def test_each_regularization_against_none_at_the_selected_init():
    claims = claims_of(sweep())
    regs = {k: c for k, c in claims.items() if c.kind == "regularization"}
    assert set(regs) == {(HE_L2, HE), (HE_DROP, HE)}
    l2 = regs[(HE_L2, HE)]
    assert l2.result.diffs == pytest.approx([0.03, -0.01, 0.02])
    assert l2.result.mean_diff == pytest.approx(0.04 / 3)
    assert l2.verdict == "holds on average only"
    assert l2.text == "lambd=0.7 beats no regularization (init he)"
    drop = regs[(HE_DROP, HE)]
    assert drop.result.diffs == pytest.approx([-0.02, -0.02, -0.05])
    assert drop.verdict == "does not hold" and drop.result.wins == 0


def test_p_values_are_scipy_paired_t_tests():
    claims = claims_of(sweep())
    for (better, worse), c in claims.items():
        if c.p_value is None:
            continue
        expected = stats.ttest_rel(DEV[better], DEV[worse]).pvalue
        assert c.p_value == pytest.approx(expected, rel=1e-9)
    assert claims[(HE_L2, HE)].p_value == pytest.approx(
        stats.ttest_rel([0.93, 0.91, 0.96], [0.90, 0.92, 0.94]).pvalue, rel=1e-9)


def test_p_value_undefined_for_one_pair_or_no_spread():
    assert paired_t_p_value([0.1]) is None
    assert paired_t_p_value([0.2, 0.2, 0.2]) is None  # the same difference in every seed
    assert paired_t_p_value([0.0, 0.0]) is None
    # a hand-computed case: d = (1, 2, 3): t = 2 / (1 / sqrt 3) = 2 sqrt 3 on 2 df
    t = 2 * math.sqrt(3)
    assert paired_t_p_value([1.0, 2.0, 3.0]) == pytest.approx(1 - t / math.sqrt(t * t + 2))


def test_only_seeds_where_both_finished_are_paired():
    extra = [run(HE_BOTH, 0, 0.80), run(HE_BOTH, 1, math.nan, "diverged"),
             run(HE_BOTH, 2, 0.95)]
    records = sweep(extra)
    c = claims_of(records)[(HE_BOTH, HE)]
    assert c.result.seeds == 2 and c.unpaired == 1
    assert c.result.diffs == pytest.approx([0.80 - 0.90, 0.95 - 0.94])
    assert c.verdict == "does not hold"  # mean -0.045
    sentence = claim_sentence(c)
    assert "does not hold" in sentence and "better in 1 of 2 seeds" in sentence
    assert "1 seeds left out" in sentence


def test_exact_ties_are_ties_not_wins():
    a, b = Config("he", 0.0, 1.0), Config("zeros", 0.0, 1.0)
    recs = [SeedRun(a, (s,), "finished", "passed", {"dev_accuracy": 0.5 + 0.1 * (s == 0)})
            for s in range(3)] + [
        SeedRun(b, (s,), "finished", "passed", {"dev_accuracy": 0.5}) for s in range(3)]
    (c,) = judge(recs, summarize(recs))
    assert (c.result.wins, c.result.ties) == (1, 2)
    assert c.verdict == "holds on average only"


def test_no_claims_when_nothing_finished_in_every_seed():
    recs = [run(HE, 0, 0.9), run(HE, 1, math.nan, "gated", "failed")]
    assert select(summarize(recs)) is None and judge(recs, summarize(recs)) == []


def test_a_seed_sweep_is_a_configuration_run_with_several_seeds():
    assert over_seeds(sweep())
    assert not over_seeds([run(HE, 0, 0.9), run(HE_L2, 1, 0.9)])  # one seed each
    assert not over_seeds([])


def test_replicates_sort_numerically_and_split_seeds_pair_too():
    recs = [SeedRun(HE, (s, k), "finished", "", {"dev_accuracy": 0.9}) for s in (10, 2)
            for k in (1, 0)]
    assert replicates(recs) == [(2, 0), (2, 1), (10, 0), (10, 1)]


def test_parent_metrics_are_the_selected_configurations_aggregates():
    m = parent_metrics(sweep())
    assert m["seeds"] == 3 and m["configurations"] == 5 and m["configurations_complete"] == 5
    assert m["selected_dev_accuracy_mean"] == pytest.approx(statistics.fmean(DEV[HE_L2]))
    assert m["selected_dev_accuracy_std"] == pytest.approx(statistics.stdev(DEV[HE_L2]))
    assert m["selected_test_accuracy_mean"] == pytest.approx(statistics.fmean(DEV[HE_L2]) - 0.01)
    assert m["claims"] == 5 and m["claims_holding_across_seeds"] == 2  # he>zeros, random>zeros
    assert parent_metrics([]) == {}
