"""Helpers for pipeline tests: compose configs and to run the real pipeline in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from stores import new_store

import initreg.config  # noqa: F401  (registers the schema)

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "conf"
TRAIN = ROOT / "pipelines" / "train.py"
# A pipeline started by a test imports this checkout's code (also from another git worktree
# sharing one venv) and the planted-bug models of tests/helpers.
SUBPROCESS_PATH = os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests" / "helpers")])


def compose_cfg(overrides=()):
    """The job config that `pipelines/train.py` would see (without the hydra node)."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def run_pipeline(args, tmp_path, extra_env=None, check=True, timeout=600, make_store=True):
    """Run pipelines/train.py for real into stores and folders under tmp_path (with
    ``make_store``, an empty migrated store is put there first when absent: creating one is
    not what these tests check)."""
    if make_store:
        new_store(tmp_path / "mlruns" / "mlflow.db")
    env = {**os.environ, "PYTHONPATH": SUBPROCESS_PATH,
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlruns/mlflow.db", **(extra_env or {})}
    flags = [a for a in args if a in ("-m", "--multirun")]
    cmd = [sys.executable, str(TRAIN), *flags, f"hydra.run.dir={tmp_path}/outputs",
           f"hydra.sweep.dir={tmp_path}/multirun",
           *[a for a in args if a not in flags]]  # a test's own hydra.* wins
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        out, err = proc.stdout[-4000:], proc.stderr[-4000:]
        raise AssertionError(f"exit {proc.returncode}\n{out}\n{err}")
    return proc


def all_runs(client):
    """Every run in every experiment of the store."""
    exps = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(exps, max_results=10000) if exps else []


def run_in_process(overrides, tmp_path):
    """One job through ``initreg.job.run_job`` in this process, into the store under tmp_path
    (what ``pipelines/train.py`` runs for a single run, without a new interpreter)."""
    from initreg import job

    new_store(tmp_path / "mlruns" / "mlflow.db")
    return job.run_job(compose_cfg([*overrides,
                                    f"tracking.uri=sqlite:///{tmp_path}/mlruns/mlflow.db"]))
