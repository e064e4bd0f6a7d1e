"""The benchmark's contenders compute the step initreg computes (a fair race), and its helpers."""

import sys
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

from initreg.data import load_football
from initreg.nn import Network, train
from initreg.nn.layers import reference_cost_and_grads
from initreg.progress import duration

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import contenders  # noqa: E402
import estimate  # noqa: E402
import run as bench  # noqa: E402


def reference_descent(params, X, Y, learning_rate, iterations):
    """Gradient descent on ``layers.reference_cost_and_grads``, the readable oracle."""
    for _ in range(iterations):
        _, grads = reference_cost_and_grads(params, X, Y)
        params = {k: params[k] - learning_rate * grads[k] for k in params}
    return params


@pytest.fixture(scope="module")
def trained():
    ds = load_football()
    net = Network([2, 20, 3, 1], seed=0)
    p0 = {k: v.copy() for k, v in net.params.items()}
    train(net, ds.X_train, ds.Y_train, learning_rate=0.3, num_iterations=40, log_every=1000,
          engine="numpy")  # the reference's bits; the compiled engine's to rounding, below
    return ds, p0, net.params, reference_descent(p0, ds.X_train, ds.Y_train, 0.3, 40)


def test_initreg_and_the_hand_written_loop_give_the_references_bits(trained):
    ds, p0, params, ref = trained
    hand = contenders.hand_loop(p0, ds.X_train, ds.Y_train, 0.3)(40)
    for name in ref:
        np.testing.assert_array_equal(hand[name], ref[name], err_msg=name)
        np.testing.assert_array_equal(params[name], ref[name], err_msg=name)


def test_the_compiled_engine_and_the_lean_loop_compute_the_same_training(trained):
    ds, p0, _, ref = trained
    net = Network([2, 20, 3, 1], seed=0)
    train(net, ds.X_train, ds.Y_train, learning_rate=0.3, num_iterations=40, log_every=1000)
    lean = contenders.lean_loop(p0, ds.X_train, ds.Y_train, 0.3)(40)
    for name in ref:
        np.testing.assert_allclose(net.params[name], ref[name], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(lean[name], ref[name], rtol=1e-10, atol=1e-14)


def test_the_lean_loop_draws_initregs_dropout_masks():
    ds = load_football()
    net = Network([2, 20, 3, 1], seed=0, keep_prob=0.86)
    p0 = {k: v.copy() for k, v in net.params.items()}
    train(net, ds.X_train, ds.Y_train, learning_rate=0.3, num_iterations=30, log_every=1000,
          rng=np.random.default_rng(5), engine="numpy")
    lean = contenders.lean_loop(p0, ds.X_train, ds.Y_train, 0.3, 0.86,
                                np.random.default_rng(5))(30)
    for name in lean:  # other masks would differ far beyond rounding
        np.testing.assert_allclose(lean[name], net.params[name], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("make", ["torch_steps", "jax_steps"])
def test_pytorch_and_jax_compute_the_same_training(trained, make):
    pytest.importorskip("torch" if make == "torch_steps" else "jax")
    ds, p0, _, ref = trained
    out = getattr(contenders, make)(p0, ds.X_train, ds.Y_train, 0.3)(40)
    for name in ref:
        np.testing.assert_allclose(out[name], ref[name], rtol=1e-10, atol=1e-12)


def test_flop_count_of_one_step():
    # forward 2*m*(2*3 + 3*1), dW the same, dA of the last layer only 2*m*3
    assert contenders.flops_per_iteration([2, 3, 1], 10) == 180 + 180 + 60


def test_the_estimate_benchmark_reads_the_console_and_measures_each_tenth():
    for s in (0.04, 4.24, 42, 185, 3720):  # what the console prints, read back
        assert estimate.seconds(duration(s)) == pytest.approx(s, abs=max(0.05, s * 0.005))
    console = "\n".join(
        [f"[done {k}/20] he l0 kp1  FINISHED  dev 0.950  in 1.0s  (elapsed {10 + k}s, "
         f"~{said}s left)" for k, said in ((2, 30), (4, 16), (6, 13))]
        + ["[start 7/20] he l0.7 kp1", "[done 20/20] he l0.7 kp1  FINISHED  dev 0.9  in 1.0s  "
           "(elapsed 30s, all done)"])
    rows = estimate.done_lines(console)
    assert [r[0] for r in rows] == [2, 4, 6, 20] and rows[-1][3] is None
    # the tenths of 20 jobs are 2, 4, ..., 18: only 2, 4 and 6 are in this console
    assert estimate.misses(rows) == [(2, 30.0, 18.0, pytest.approx(12 / 18)),
                                     (4, 16.0, 16.0, 0.0), (6, 13.0, 14.0, pytest.approx(1 / 14))]
    # with the jobs' end times (one per job): the truth from them, not the rounded console
    ends = [100.0 + 1.5 * k for k in range(1, 21)]  # job k ended at 100 + 1.5 k
    assert estimate.misses(rows, ends)[0] == (2, 30.0, 27.0, pytest.approx(3 / 27))
    assert estimate.misses(rows, ends[:5]) == estimate.misses(rows)  # not one per job: console
    with pytest.raises(ValueError, match="not a duration"):
        estimate.seconds("soon")


def test_sweep_job_overheads_reads_each_workers_jobs_in_order(tmp_path):
    """Two workers' runs with known times: each job's time outside training is measured from
    the end of its worker's previous run; each worker's first job is kept apart."""
    db = tmp_path / "mlflow.db"
    client = MlflowClient(f"sqlite:///{db}")
    exp = client.create_experiment("e")
    parent = client.create_run(exp, start_time=0).info.run_id
    # (pid, start ms, end ms, train_seconds): worker 1 runs 3 jobs, worker 2 runs 2
    jobs = [("1", 1000, 4000, 2.0), ("1", 4500, 6000, 1.0), ("1", 6100, 7600, 1.25),
            ("2", 1200, 3200, 1.5), ("2", 3300, 5300, 1.5)]
    for pid, start, end, train_s in jobs:
        run = client.create_run(exp, start_time=start,
                                tags={"mlflow.parentRunId": parent, "pid": pid}).info.run_id
        client.log_metric(run, "train_seconds", train_s)
        client.set_terminated(run, end_time=end)
    out = bench.sweep_job_overheads(db)
    assert sorted(out["first"]) == pytest.approx([0.5, 1.0])  # 3.0 - 2.0 and 2.0 - 1.5
    # worker 1: 6.0 - 4.0 - 1.0 and 7.6 - 6.0 - 1.25; worker 2: 5.3 - 3.2 - 1.5
    assert sorted(out["steady"]) == pytest.approx([0.35, 0.6, 1.0])


def test_every_stage_the_job_scripts_wrap_is_a_function_the_job_calls():
    import job_memory
    import job_stages

    for mod_name, attr in job_stages.STAGES:
        assert callable(getattr(job_stages.owner_of(mod_name), attr, None)), (mod_name, attr)
    # the mappings' resident pages add up to the process's resident set
    total = sum(mib for _, mib in job_memory.by_mapping(top=None))
    assert abs(total - job_memory.status()["VmRSS"]) < 0.03 * total  # read at other moments
