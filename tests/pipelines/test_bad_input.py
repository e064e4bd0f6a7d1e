"""Issue 16: bad input is refused in one line, before anything is written (folder, store, run)."""

import math
import re
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.io
from pipeline_utils import CONF, compose_cfg, run_pipeline

from initreg import checks, data, job, job_names, job_training, tracking
from initreg.callbacks import check_jobs
from initreg.config import ConfigError, validate, validate_sizes
from initreg.data import DataError
from initreg.overrides import check_overrides, expand_jobs

# --- the command line, before Hydra composes or creates a folder ---------------------------------

REFUSED_OVERRIDES = [
    (["~reg"], "~reg is not allowed; allowed: deleting only a loader's keyword"),
    (["~data"], "~data is not allowed"),
    (["~train.learning_rate"], "~train.learning_rate is not allowed"),
    (["+foo=bar"], "+foo='bar' is not allowed; allowed: only a loader's keyword may be added"),
    (["++foo=bar"], "++foo='bar' is not allowed"),
    (["+reg.x=1"], "+reg.x=1 is not allowed"),
    (["hydra.run.dir=/proc/x"], "hydra.run.dir='/proc/x' is not allowed; allowed: a folder that "
     "exists or can be created, and written"),
    (["-m", "init=he,zeros", "hydra.sweep.dir=/proc/x"], "hydra.sweep.dir='/proc/x' is not"),
    (["-m", "init=he,zeros", "hydra.launcher.n_jobs=0"],
     "hydra.launcher.n_jobs=0 is not allowed; allowed: an integer >= 1, or < 0"),
    (["hydra.launcher.n_jobs=1.5"], "hydra.launcher.n_jobs=1.5 is not allowed"),
    # a single run: the composed config goes through config.validate before Hydra starts
    (["seed=-1"], "seed=-1 is not allowed; allowed: an integer from 0 to 4294967295"),
    (["train.learning_rate=inf"], "train.learning_rate=inf is not allowed; allowed: a finite"),
    (["model=mlp", "model.depth=-1"], "model.layer_dims=[2, -1, 1] is not allowed"),
    (["model.layer_dims=[3,4,1]"], "a first size equal to the data's feature count (2 for"),
    (["data.loader.nosie=1"],
     "Could not override 'data.loader.nosie'. To append to your config use +data.loader.nosie=1"),
    (["data=moons", "+data.loader.shuffle=1"],
     "data.loader.shuffle: no such key; allowed keys in data.loader: n_samples, noise, seed"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), REFUSED_OVERRIDES,
                         ids=[" ".join(a) for a, _ in REFUSED_OVERRIDES])
def test_the_pre_check_refuses_in_one_line(args, message):
    with pytest.raises(ConfigError) as err:
        check_overrides(args, CONF)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("args", [
    ["~experiment"], ["~data.loader.split_seed"], ["++reg.lambd=0.5"],
    ["data=moons", "++data.loader.noise=0.1"],
    ["hydra.launcher.n_jobs=-1"], ["hydra.launcher.n_jobs=2"], ["experiment=course_init"],
    ["-m", "seed=-1"],  # a sweep's jobs are composed and checked by its callback, all of them
])  # fmt: skip
def test_the_pre_check_lets_good_overrides_through(args):
    check_overrides(args, CONF)


def test_folders_are_probed_not_created(tmp_path):
    check_overrides([f"hydra.run.dir={tmp_path}/a/b", f"tracking.uri=sqlite:///{tmp_path}/s/x.db"],
                    CONF)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="hydra.run.dir=.* is not allowed"):
        check_overrides([f"hydra.run.dir={tmp_path}/file/run"], CONF)
    (tmp_path / "db_dir.db").mkdir()
    cfg = compose_cfg([f"tracking.uri=sqlite:///{tmp_path}/db_dir.db"])
    with pytest.raises(ConfigError, match="a SQLite file that can be written"):
        validate(cfg)


def test_the_environments_tracking_uri_is_checked_and_named(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "foo://bar")
    cfg = compose_cfg()
    with pytest.raises(ConfigError, match=r"^MLFLOW_TRACKING_URI='foo://bar' is not allowed"):
        validate(cfg)
    validate(compose_cfg(["tracking.enabled=false"]))


@pytest.mark.parametrize("args", [["seed=-1"], ["~reg"],
                                  ["-m", "init=he,zeros", "hydra.launcher.n_jobs=0"]],
                         ids=["value", "deleted group", "sweep n_jobs"])
def test_the_command_line_writes_nothing_for_a_refused_value(tmp_path, args):
    proc = run_pipeline([*args, "train.num_iterations=10"], tmp_path, check=False, timeout=120,
                        make_store=False)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: ")
    assert list(tmp_path.iterdir()) == []  # no run or sweep folder, no store


# --- values only the job knows: -0.0, memory, the gate's work ------------------------------------


def test_negative_zero_gets_the_hash_of_zero_in_a_run_and_in_a_sweep():
    zero, negative = compose_cfg(["reg.lambd=0.0"]), compose_cfg(["reg.lambd=-0.0"])
    assert job_names.job_hash(zero) != job_names.job_hash(negative)  # what resume compared before
    validate(zero)
    validate(negative)  # run_job validates before it hashes
    assert job_names.job_hash(negative) == job_names.job_hash(zero)
    assert math.copysign(1.0, negative.reg.lambd) == 1.0
    jobs = expand_jobs([], {"reg.lambd": "-0.0,0.0"})
    configs = [compose_cfg(j) for j in jobs]
    assert check_jobs(list(zip(jobs, configs, strict=True))) == []  # the sweep's pre-check
    assert len({job_names.job_hash(c) for c in configs}) == 1


def _peak_bytes(cfg) -> tuple[int, int]:
    """The peak bytes a job's stages hold beyond its data (tracemalloc), and the examples."""
    ds = job.load_data(cfg)
    tracemalloc.start()
    try:
        model = job.build_model(cfg)
        cost0, _ = job.measure_start(model, ds)
        job.check_finite_start(model, cost0)
        job.gradcheck_gate(cfg, model, ds)
        job_training.train_model(cfg, model, ds, tracking.NoRun())
        job.evaluate(model, ds)
        return tracemalloc.get_traced_memory()[1], ds.X_train.shape[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(("dims", "n_samples"), [([2, 1000, 1000, 1], 1000),  # parameters
                                                 ([2, 200, 200, 1], 20_000)])  # activations
def test_the_memory_estimate_bounds_a_real_run(dims, n_samples):
    cfg = compose_cfg([f"model.layer_dims={dims}".replace(" ", ""), "data=moons",
                       f"data.loader.n_samples={n_samples}", "train.num_iterations=2",
                       "train.log_every=1", "train.learning_rate=1e-6"])
    peak, m = _peak_bytes(cfg)
    assert peak <= checks.run_bytes(dims, m) <= 2.5 * peak


def test_a_net_that_cannot_fit_is_refused_before_it_is_built():
    cfg = compose_cfg(["model.layer_dims=[2,100000000,1]"])
    with pytest.raises(ConfigError, match=r"model.layer_dims=\[2, 100000000, 1\] is not allowed; "
                       r"allowed: sizes whose run fits in memory \(these and 211 training "
                       r"examples need about 8\d\d GB"):
        validate(cfg, 2, n_examples=211)
    wide = [2, 20000, 20000, 1]  # 400 million weights: 3.2 GB a copy
    with pytest.raises(ConfigError, match="need about 25.9 GB; this machine has 16 GB available"):
        checks.check_memory(wide, 211, memory=16 * 10**9)
    checks.check_memory(wide, 211, memory=64 * 10**9)


@pytest.mark.parametrize(("overrides", "sizes", "message"), [
    (["model.layer_dims=[3,5,1]"], (2, 211), "a first size equal to the data's feature count"),
    (["model.layer_dims=[2,1000000,1]"], (2, 100_000), "sizes whose run fits in memory"),
])
def test_what_only_the_datas_sizes_refuse_is_refused_by_validate_sizes(overrides, sizes,
                                                                       message):
    cfg = compose_cfg(overrides)
    validate(cfg)  # a job checks its values before it loads the data: these pass
    for check in (lambda: validate(cfg, *sizes), lambda: validate_sizes(cfg, *sizes)):
        with pytest.raises(ConfigError, match=re.escape(message)):
            check()


@pytest.mark.parametrize(("mode", "directions"), [("directional", 3), ("directional", 1),
                                                  ("full", 3)])
def test_the_gates_evaluations_are_counted_as_the_checker_counts_them(mode, directions):
    cfg = compose_cfg([f"gradcheck.mode={mode}", f"gradcheck.directions={directions}"])
    ds = job.load_data(cfg)
    result = job.gradcheck_gate(cfg, job.build_model(cfg), ds)
    assert result.evaluations == checks.gate_evaluations(cfg.model.layer_dims, mode, directions)


def test_the_gates_work_is_bounded_at_the_limit_it_names():
    validate(compose_cfg(["gradcheck.directions=100"]))  # the checker's own limit
    with pytest.raises(ConfigError, match="allowed: an integer from 1 to 100$"):
        validate(compose_cfg(["gradcheck.directions=101"]))
    # a big net on a big batch: the multiply-adds bind before the checker's limit
    big = compose_cfg(["model.layer_dims=[2,3000,3000,1]", "gradcheck.directions=50",
                       "gradcheck.batch_size=2000"])
    with pytest.raises(ConfigError, match="allowed: an integer from 1 to 4 for this model"):
        validate(big, 2, n_examples=2000)
    huge_batch = compose_cfg(["gradcheck.batch_size=1000000000000"])
    with pytest.raises(ConfigError, match=r"gradcheck.batch_size=1000000000000 is not allowed"):
        validate(huge_batch)
    validate(huge_batch, 2, n_examples=211)  # the gate uses at most the training examples


# --- data: the loaders' own one-line refusals ---------------------------------------------------


@pytest.mark.parametrize(("overrides", "message"), [
    (["data=moons", "data.loader.noise=-1"], "noise must be >= 0, got -1"),
    (["data=fraud", "++data.loader.fraud_rate=2"], "fraud_rate must be in (0, 1), got 2"),
])  # fmt: skip
def test_bad_loader_parameters_are_one_line_and_nothing_is_tracked(tmp_path, overrides, message):
    cfg = compose_cfg([*overrides, f"tracking.uri=sqlite:///{tmp_path}/mlruns/mlflow.db"])
    with pytest.raises(DataError) as err:
        job.run_job(cfg)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ["data=moons", "data.loader.noise=-1"],  # a loader parameter
    ["data.loader.path=/nonexistent/data.mat"],  # a data file
])
def test_a_data_problem_on_the_command_line_writes_no_folder_and_no_store(tmp_path, args):
    proc = run_pipeline([*args, "train.num_iterations=10"], tmp_path, check=False, timeout=120,
                        make_store=False)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: ")
    assert list(tmp_path.iterdir()) == []  # Hydra's run folder was never made


def _course_mat(path, **replaced):
    arrays = {k: v for k, v in scipy.io.loadmat(data.DEFAULT_FOOTBALL_PATH).items()
              if not k.startswith("__")}
    scipy.io.savemat(path, {**arrays, **replaced})
    return path


def _cells(X: np.ndarray) -> np.ndarray:
    cells = np.empty((X.shape[0], 1), dtype=object)
    for i, row in enumerate(X):
        cells[i, 0] = row
    return cells


@pytest.mark.parametrize(("key", "value", "kind"), [
    ("X", lambda X: _cells(X), "cell array"),
    ("X", lambda X: X * (1 + 1j), "complex matrix"),
    ("X", lambda X: {"a": X}, "struct"),
])  # fmt: skip
def test_a_mat_file_that_is_not_a_real_matrix_is_refused(tmp_path, key, value, kind):
    X = scipy.io.loadmat(data.DEFAULT_FOOTBALL_PATH)["X"]
    path = _course_mat(tmp_path / "bad.mat", **{key: value(X)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # complex X was cast to real with a ComplexWarning
        with pytest.raises(DataError) as err:
            data.load_football(path)
    assert str(err.value) == f"{path}: {key} is a MATLAB {kind}; allowed: a real numeric matrix"


def test_validate_xy_refuses_complex_arrays():
    with pytest.raises(DataError, match="X and Y must be real, got complex128 and float64"):
        data.validate_xy(np.ones((2, 3)) * 1j, np.zeros((1, 3)), "arrays")
