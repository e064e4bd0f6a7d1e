"""The reproduction's comparison logic on synthetic numbers, and the real runner at small scale."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from initreg import reproduction as rp

ROOT = Path(__file__).resolve().parents[1]
BASELINES = yaml.safe_load((ROOT / "reproductions" / "baselines.yaml").read_text())
COURSE = {  # the published counts: (train correct, published-test correct)
    "circles/zeros": (150, 50), "circles/random": (249, 86), "circles/he": (298, 96),
    "football/none": (200, 183), "football/l2": (198, 186), "football/dropout": (196, 190),
}
TOTALS = {"circles": (300, 100), "football": (211, 200)}
# per seed published-test correct, default convention: near the measured means
SEEDS = {
    "circles/zeros": [50, 50, 50, 50, 50], "circles/random": [69, 87, 72, 80, 69],
    "circles/he": [94, 97, 95, 94, 96], "football/none": [179, 188, 185, 188, 185],
    "football/l2": [186, 188, 190, 186, 188], "football/dropout": [183, 186, 185, 186, 185],
}
TRAIN_RATE = {"circles/zeros": 0.5, "circles/random": 0.79, "circles/he": 0.989,
              "football/none": 0.952, "football/l2": 0.931, "football/dropout": 0.944}


def result(key, convention, seed, train, test):
    m_train, m_test = TOTALS[key.split("/")[0]]
    return rp.Result(key, convention, seed, train, m_train, test, m_test)


def synthetic(course=COURSE, seeds=SEEDS):
    out = [result(k, "course", 3, *v) for k, v in course.items()]
    for key, tests in seeds.items():
        m_train = TOTALS[key.split("/")[0]][0]
        out += [result(key, "default", s, round(TRAIN_RATE[key] * m_train), t)
                for s, t in enumerate(tests)]
    return out


def failed(checks):
    return [c for c in checks if not c.passed]


def test_the_measured_numbers_pass_the_baselines():
    checks = rp.compare(synthetic(), BASELINES)
    assert len(checks) == 12 + 6 * 3 and not failed(checks)
    he = next(c for c in checks if c.claim == "course circles/he: published-test correct")
    assert (he.expected, he.got, he.verdict) == ("96/100", "96/100", "ok")


def test_one_example_off_a_published_count_is_drift():
    checks = rp.compare(synthetic(course={**COURSE, "football/dropout": (196, 189)}), BASELINES)
    (bad,) = failed(checks)
    assert bad.claim == "course football/dropout: published-test correct"
    assert (bad.expected, bad.got, bad.verdict) == ("190/200", "189/200", "DRIFT")


def test_a_seed_mean_outside_its_band_is_drift():
    worse = {**SEEDS, "football/l2": [t - 4 for t in SEEDS["football/l2"]]}  # mean 0.918
    bad = failed(rp.compare(synthetic(seeds=worse), BASELINES))
    assert [c.claim for c in bad] == ["default football/l2: published_test_accuracy mean "
                                      "over 5 seeds"]
    assert bad[0].expected == "0.925 to 0.950" and bad[0].got == "0.918"


def test_a_collapsed_spread_is_drift():
    # every seed giving the same result means the seed no longer reaches the weights
    same = {**SEEDS, "circles/he": [95] * 5}
    bad = failed(rp.compare(synthetic(seeds=same), BASELINES))
    assert [c.claim for c in bad] == ["default circles/he: published_test_accuracy std "
                                      "over 5 seeds"]


def test_a_missing_run_or_seed_is_drift():
    results = [r for r in synthetic()
               if not (r.setting == "circles/he" and r.convention == "course")
               and not (r.setting == "football/none" and r.seed == 4)]
    bad = {c.claim: c for c in failed(rp.compare(results, BASELINES))}
    assert set(bad) == {"course circles/he: run", "default football/none: seeds"}
    assert bad["default football/none: seeds"].got == "finished seeds [0, 1, 2, 3]"


def test_a_gated_run_does_not_count_as_finished():
    results = [r if not (r.setting == "circles/random" and r.convention == "course")
               else rp.Result(r.setting, "course", 3, 0, 300, 0, 0, status="gated")
               for r in synthetic()]
    assert [c.claim for c in failed(rp.compare(results, BASELINES))] == [
        "course circles/random: run"]


def test_claims_are_judged_from_the_numbers_seed_by_seed():
    claims = {cr.claim.key: cr for cr in rp.judge_claims(synthetic())}
    he = claims["he_beats_random"]
    assert he.course_holds and he.wins == 5 and he.verdict == "holds across seeds"
    l2 = claims["l2_beats_none"]  # 186-179, 188-188, 190-185, 186-188, 188-185
    assert (l2.wins, l2.ties, l2.seeds) == (3, 1, 5)
    assert l2.mean_diff == pytest.approx(13 / 5 / 200)
    assert l2.verdict == "holds on average only"
    d = claims["dropout_beats_l2"]
    assert d.course_holds and d.wins == 0 and d.verdict == "does not hold"
    assert "with the course's convention it holds (+0.020)" in rp.claim_sentence(d)
    assert "across seeds it does not hold" in rp.claim_sentence(d)


def test_an_exact_tie_on_average_does_not_hold():
    tie = {**SEEDS, "football/dropout": [185, 185, 185, 185, 185],
           "football/none": [184, 186, 185, 185, 185]}
    (cr,) = [c for c in rp.judge_claims(synthetic(seeds=tie)) if c.claim.key ==
             "dropout_beats_none"]
    assert (cr.wins, cr.ties) == (1, 3) and cr.verdict == "does not hold"


def test_counts_come_from_accuracies_and_split_sizes():
    r = rp.result_from_metrics("circles/he", "course", 3,
                               {"train_accuracy": 298 / 300, "dev_accuracy": 0.96,
                                "test_accuracy": 0.96}, {"train": 300, "dev": 50, "test": 50})
    assert (r.train_correct, r.test_correct, r.test_total) == (298, 96, 100)


def test_setting_of_maps_params_to_the_six_settings():
    assert rp.setting_of("circles", "he", 0.0, 1.0) == "circles/he"
    assert rp.setting_of("football", "lecun", 0.7, 1.0) == "football/l2"
    assert rp.setting_of("football", "lecun", 0.0, 0.86) == "football/dropout"
    assert rp.setting_of("football", "lecun", 0.7, 0.86) is None
    assert rp.setting_of("moons", "he", 0.0, 1.0) is None


def test_the_markdown_report_has_the_table_and_every_claim():
    results = synthetic(course={**COURSE, "circles/he": (297, 96)})
    checks = rp.compare(results, BASELINES)
    md = rp.render_markdown(checks, rp.judge_claims(results), rp.summarize(results))
    assert "**DRIFT: 1 of 30 checks drifted.**" in md
    assert "| course circles/he: train correct | 298/300 | 297/300 | DRIFT |" in md
    assert "| circles/he | 5 | 0.990 ± 0.000 | 0.952 ± 0.013 | 0.940 to 0.970 | 0.960 |" in md
    for c in rp.CLAIMS:
        assert f"- {c.text}: " in md
    payload = json.loads(rp.render_json(checks, rp.judge_claims(results), rp.summarize(results),
                                        results))
    assert payload["passed"] is False and len(payload["runs"]) == len(results)


@pytest.mark.slow
def test_reproduce_end_to_end_at_small_scale_reports_drift(tmp_path):
    """The real runner: 4 Hydra multiruns through pipelines/train.py, 2 seeds, 300 iterations.

    So few iterations cannot reproduce the trained counts, so it must exit 1 with a table that
    says DRIFT, while zeros (which never breaks symmetry) still gives exactly 150/300 and 50/100.
    """
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    cmd = [sys.executable, str(ROOT / "pipelines" / "reproduce.py"), "--seeds", "0", "1",
           "--uri", uri, "--out", str(tmp_path / "out"), "--sweep-root", str(tmp_path / "mr"),
           "--set", "train.num_iterations=300", "--set", "train.log_every=100"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    row = next(x for x in lines if x.startswith("course circles/zeros: published-test"))
    assert row.split()[-3:] == ["50/100", "50/100", "ok"]
    row = next(x for x in lines if x.startswith("course circles/he: train correct"))
    assert row.split()[-1] == "DRIFT"
    assert "DRIFT:" in lines[-1]
    assert all(any(line.startswith(c.text) for line in lines) for c in rp.CLAIMS)

    report = json.loads((tmp_path / "out" / "reproduction.json").read_text())
    assert report["passed"] is False and len(report["runs"]) == 6 + 6 * 2
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("reproductions")
    runs = client.search_runs([exp.experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("reproduction") == "true"]
    assert parent.info.status == "FAILED" and parent.data.tags["verdict"] == "drift"
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} == {
        "reproduction.md", "reproduction.json"}
    sweeps = [r for r in runs if r.data.tags.get("sweep") == "true"]
    assert len(sweeps) == 4
    assert {s.data.tags["reproduction_run"] for s in sweeps} == {parent.info.run_id}
    kids = [r for r in runs if r.data.tags.get("mlflow.parentRunId")]
    assert len(kids) == 18 and all(k.data.tags["gradcheck"] == "passed" for k in kids)
