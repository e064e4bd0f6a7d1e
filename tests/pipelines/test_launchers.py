"""The same sweep through Hydra's submitit and Ray launchers, every one into ONE MLflow store.

Each sweep must keep the joblib contract: one parent FINISHED with tag sweep=true, created in
the submitting process, and four FINISHED children linked to it through `mlflow.parentRunId`,
with params, metrics and the cost history. The sweeps run without a `hydra.sweep.dir` override,
so the jobs (other processes, Ray workers started in another folder) must find the parent
through the absolute default sweep dir of conf/config.yaml.
"""

import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from pipeline_utils import CONF, TRAIN, all_runs

from initreg import job_training

SWEEP = ["-m", "init=zeros,he", "reg.lambd=0.0,0.7", "train.num_iterations=300",
         "train.log_every=100"]
COMBOS = {("zeros", 0.0), ("zeros", 0.7), ("he", 0.0), ("he", 0.7)}
METRICS = {"cost", "train_accuracy", "dev_accuracy", "test_accuracy", "variance",
           "gradcheck_difference"}
HAS_RAY = importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is not None
NO_RAY = ("the `ray` extra is not installed (hydra-ray-launcher, ray[default]); "
          "install it with `make setup-ray`")
# Ray on loopback only (its default is every interface), with token authentication.
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "token",
           "RAY_DEDUP_LOGS": "0"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The one store every sweep of this module writes to: (uri, client)."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('store')}/mlflow.db"
    return uri, MlflowClient(uri)


def sweep(args, cwd: Path, uri: str, env=None, timeout=900) -> subprocess.CompletedProcess:
    cwd.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "MLFLOW_TRACKING_URI": uri, **(env or {})}
    proc = subprocess.run([sys.executable, str(TRAIN), *SWEEP, *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n" \
                                 f"{proc.stderr[-3000:]}"
    return proc


def sweep_parent(cwd: Path) -> tuple[Path, dict]:
    """The sweep dir made under ``cwd`` (the absolute default) and its mlflow_parent.json."""
    found = list(cwd.glob("multirun/*/*/mlflow_parent.json"))
    assert len(found) == 1, found
    return found[0].parent, json.loads(found[0].read_text())


def check_sweep(client: MlflowClient, cwd: Path) -> str:
    """The joblib test's contract for the sweep run from ``cwd``; returns its parent's id."""
    sweep_dir, parent_file = sweep_parent(cwd)
    parent = client.get_run(parent_file["run_id"])
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["sweep"] == "true"
    assert parent.data.tags["hydra_sweep_dir"] == str(sweep_dir)
    kids = [r for r in all_runs(client)
            if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(kids) == 4
    combos = {(k.data.params["init.name"], float(k.data.params["reg.lambd"])) for k in kids}
    assert combos == COMBOS
    for kid in kids:
        assert kid.info.status == "FINISHED", kid.data.tags
        assert kid.data.tags["gradcheck"] == "passed"
        assert METRICS <= set(kid.data.metrics)
        steps = sorted(m.step for m in client.get_metric_history(kid.info.run_id, "cost"))
        # log-spaced early, then every 100
        assert steps == sorted(job_training.cost_steps(300, 100))
        for job_dir in sweep_dir.glob("[0-9]*"):  # each job wrote its own output folder
            assert (job_dir / ".hydra" / "config.yaml").exists()
    return parent.info.run_id


def check_store(client: MlflowClient, sweeps: int) -> None:
    """``sweeps`` parents, each with its own four children, and no other runs."""
    runs = all_runs(client)
    parents = {r.info.run_id for r in runs if r.data.tags.get("sweep") == "true"}
    by_parent: dict[str, int] = {}
    for r in runs:
        if r.info.run_id not in parents:
            by_parent[r.data.tags.get("mlflow.parentRunId")] = \
                by_parent.get(r.data.tags.get("mlflow.parentRunId"), 0) + 1
    assert len(parents) == sweeps and by_parent == {p: 4 for p in parents}


@pytest.mark.slow
def test_submitit_local(store, tmp_path):
    uri, client = store
    before = len([r for r in all_runs(client) if r.data.tags.get("sweep") == "true"])
    proc = sweep(["hydra/launcher=submitit_local"], tmp_path / "submit", uri)
    assert "Submitit 'local' sweep output dir" in proc.stdout + proc.stderr
    check_sweep(client, tmp_path / "submit")
    sweep_dir, _ = sweep_parent(tmp_path / "submit")
    assert list(sweep_dir.glob(".submitit/*")), "the jobs did not go through submitit"
    check_store(client, before + 1)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_RAY, reason=NO_RAY)
def test_ray_local_cluster(store, tmp_path):
    uri, client = store
    before = len([r for r in all_runs(client) if r.data.tags.get("sweep") == "true"])
    env = {**RAY_ENV, "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    proc = sweep(["hydra/launcher=ray", "hydra.launcher.ray.init.address=local",
                  "+hydra.launcher.ray.init.num_cpus=2",
                  "+hydra.launcher.ray.init.include_dashboard=false"],
                 tmp_path / "ray", uri, env=env)
    assert "Ray Launcher is launching 4 jobs" in proc.stdout + proc.stderr
    check_sweep(client, tmp_path / "ray")
    check_store(client, before + 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_cluster(tmp_path):
    """A running Ray head on 127.0.0.1 started from another folder, as a cluster would be."""
    port = free_port()
    home = tmp_path / "ray_home"
    home.mkdir()
    env = {**os.environ, **RAY_ENV, "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    log = open(tmp_path / "ray_head.log", "w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "ray"), "start", "--head", f"--port={port}",
         "--num-cpus=2", "--include-dashboard=false", "--block"],
        cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in (tmp_path / "ray_head.log").read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("ray head did not start:\n"
                            + (tmp_path / "ray_head.log").read_text()[-3000:])
            time.sleep(1)
        yield f"127.0.0.1:{port}", env, home
    finally:
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 20)):
            if proc.poll() is None:
                os.killpg(proc.pid, sig)
                try:
                    proc.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    continue
        log.close()


@pytest.mark.slow
@pytest.mark.skipif(not HAS_RAY, reason=NO_RAY)
def test_ray_existing_cluster_in_another_folder(store, tmp_path, ray_cluster):
    uri, client = store
    address, env, ray_home = ray_cluster
    before = len([r for r in all_runs(client) if r.data.tags.get("sweep") == "true"])
    proc = sweep(["hydra/launcher=ray_cluster", f"hydra.launcher.ray.init.address={address}"],
                 tmp_path / "driver", uri, env=env)
    assert "Connected to Ray cluster" in proc.stderr
    check_sweep(client, tmp_path / "driver")
    assert not (ray_home / "multirun").exists()  # nothing resolved against the workers' cwd
    check_store(client, before + 1)


def test_slurm_config_reaches_sbatch(tmp_path):
    """hydra/launcher=slurm: the overrides become the #SBATCH lines submitit writes.

    (No SLURM here: the names are mapped as submitit's AutoExecutor maps them.)
    """
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf
    from submitit.slurm.slurm import _make_sbatch_string

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="config", return_hydra_config=True, overrides=[
            "hydra/launcher=slurm", "hydra.launcher.partition=cpu",
            "hydra.launcher.timeout_min=30", "hydra.launcher.cpus_per_task=2",
            "hydra.launcher.array_parallelism=3"])
    launcher = OmegaConf.to_container(cfg.hydra.launcher)
    assert launcher["_target_"].endswith("SlurmLauncher")
    text = _make_sbatch_string(command="python job.py", folder=tmp_path, map_count=8,
                               partition=launcher["partition"], time=launcher["timeout_min"],
                               cpus_per_task=launcher["cpus_per_task"],
                               mem=f"{launcher['mem_gb']}GB",
                               array_parallelism=launcher["array_parallelism"])
    for line in ("#SBATCH --partition=cpu", "#SBATCH --time=30", "#SBATCH --cpus-per-task=2",
                 "#SBATCH --array=0-7%3", "#SBATCH --mem=2GB"):
        assert line in text
