"""What a run is called and what it records about itself: short names that tell a sweep's runs
apart, the params that mean something, the cost's logging schedule."""

import sys
from pathlib import Path

import pytest

from initreg import callbacks, job_training, tracking
from initreg.job_names import run_name
from initreg.overrides import expand_jobs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "pipelines"))
from pipeline_utils import compose_cfg  # noqa: E402


@pytest.mark.parametrize("overrides, name", [
    ([], "he l0 kp1"),
    (["init=random", "reg.lambd=0.7", "reg.keep_prob=0.86"], "random l0.7 kp0.86"),
    (["model=mlp", "model.depth=10"], "he l0 kp1 d10"),
])
def test_a_run_outside_a_sweep_is_named_by_init_lambd_and_keep_prob(overrides, name):
    assert run_name(compose_cfg(overrides)) == name


def test_a_sweep_names_its_runs_by_the_keys_that_vary():
    cfg = compose_cfg(["model=mlp", "model.depth=10", "model.width=50", "reg.lambd=0.1"])
    assert run_name(cfg, ["model.depth", "model.width"]) == "d10 w50"
    # a group shows the option chosen (Hydra's runtime.choices), not its `name` field
    assert run_name(cfg, ["init", "reg.lambd"], {"init": "random_small"}) == \
        "random_small l0.1"
    assert run_name(cfg, ["train.divergence_factor"]) == "divergence_factor=10"
    assert run_name(cfg, ["model.layer_dims"]) == "layer_dims=2-50-50-50-50-50-50-50-50-50-" \
        "50-1"


def test_the_default_sweeps_27_names_are_short_and_all_different():
    jobs = expand_jobs(["experiment=default_sweep"], {"init": "zeros,random,he",
                                                     "reg.lambd": "0.0,0.1,0.7",
                                                     "reg.keep_prob": "1.0,0.86,0.7"})
    keys = callbacks.varying_keys(jobs)
    assert keys == ["init", "reg.lambd", "reg.keep_prob"]
    names = [run_name(compose_cfg(ov), keys) for ov in jobs]
    assert len(set(names)) == 27 and max(len(n) for n in names) <= 18
    assert "he l0.7 kp0.86" in names and "zeros l0 kp1" in names


def test_varying_keys_are_those_with_more_than_one_value():
    assert callbacks.varying_keys([["init=he", "seed=1"], ["init=he", "seed=2"]]) == ["seed"]
    # a key that only some jobs set varies too
    assert callbacks.varying_keys([["init=he"], ["init=he", "+x=1"]]) == ["x"]
    assert callbacks.varying_keys([["init=he"]]) == []


def test_params_leave_out_what_does_not_change_a_run():
    params = tracking.run_params({"resume": True, "tracking": {"uri": None, "enabled": True},
                                  "reg": {"lambd": 0.7}, "model": {"depth": None},
                                  "hydra": {"x": 1}})
    assert params == {"reg.lambd": 0.7}


def test_a_sweeps_fixed_params_are_those_every_job_shares():
    a, b = compose_cfg(["reg.lambd=0.0"]), compose_cfg(["reg.lambd=0.7"])
    fixed = callbacks.fixed_params([a, b])
    assert "reg.lambd" not in fixed and fixed["init.name"] == "he"
    assert fixed["train.num_iterations"] == 30000
    assert not [k for k in fixed if k.startswith("tracking.") or k == "resume"]


def test_the_cost_is_logged_densely_where_it_moves():
    steps = sorted(job_training.cost_steps(30000, 1000))
    assert steps[:6] == list(range(0, 101, 20))  # the first 100 iterations, every 20
    assert set(range(0, 30000, 1000)) | {29999} <= set(steps)
    assert len(steps) < 100
    # each decade gets about as many points as the others
    per_decade = [sum(lo <= s < 10 * lo for s in steps) for lo in (100, 1000)]
    assert per_decade[0] >= 15 and per_decade[1] >= 15
    assert all(s % 20 == 0 for s in steps[:-1])  # the loop computes the cost every 10 steps
    assert job_training.cost_steps(1, 1000) == {0}


def test_the_readme_states_the_cost_schedule_the_code_uses():
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    assert f"every {job_training.COST_EVERY} iterations up to 100, then log-spaced, about " \
           f"{job_training.COST_PER_DECADE} points a decade, and every `train.log_every`" in readme
    steps = job_training.cost_steps(30000, 1000)
    assert set(range(0, 101, job_training.COST_EVERY)) <= steps
