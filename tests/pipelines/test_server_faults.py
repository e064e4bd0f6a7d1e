"""A tracking server that goes away mid-sweep: the wait is bounded, the error names the server,
the summary lists every job, and `doctor` ends what was left RUNNING once the server is back."""

import os
import signal
import subprocess
import sys
import time

from pipeline_utils import ROOT, TRAIN
from test_mlflow_server import MLFLOW, free_port, wait_healthy

from initreg import tracking


def _serve(tmp_path, port):
    log = tmp_path / "server.log"
    (tmp_path / "server").mkdir(exist_ok=True)
    cmd = [str(MLFLOW), "server", "--host", "127.0.0.1", "--port", str(port),
           "--backend-store-uri", f"sqlite:///{tmp_path}/server/mlflow.db",
           "--artifacts-destination", str(tmp_path / "server" / "artifacts"), "--workers", "1"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=log.open("a"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, proc, log)
    return base, proc


def _stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def _training(client):
    exp = client.get_experiment_by_name("football")
    if exp is None:
        return []
    return [r for r in client.search_runs([exp.experiment_id])
            if r.info.status == "RUNNING" and "cost" in r.data.metrics]


def test_a_server_killed_mid_sweep_fails_fast_and_every_job_is_listed(tmp_path):
    port = free_port()
    base, server = _serve(tmp_path, port)
    sweep = None
    try:
        env = {**os.environ, "MLFLOW_TRACKING_URI": base}
        sweep = subprocess.Popen(
            [sys.executable, str(TRAIN), "-m", "init=zeros,he", "reg.lambd=0.0,0.7",
             "hydra.launcher.n_jobs=2", "train.num_iterations=10000000", "train.log_every=200",
             "tracking.timeout_s=6", "tracking.flush_seconds=0.2",
             f"hydra.sweep.dir={tmp_path}/multirun"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        client = tracking.client(base)
        deadline = time.monotonic() + 120
        while len(_training(client)) < 2:
            assert time.monotonic() < deadline and sweep.poll() is None
            time.sleep(0.5)
        _stop(server)
        killed_at = time.monotonic()
        out, _ = sweep.communicate(timeout=240)
        waited = time.monotonic() - killed_at
        # ~6 s for the failing write, the same for each run's end and for the summary's read
        assert waited < 90, f"the sweep took {waited:.0f} s to give up"
        assert sweep.returncode != 0
        assert f"the tracking server {base} did not answer" in out
        assert "the tracking store is out of reach" in out
        listed = [line for line in out.splitlines() if line.startswith("  ")]
        # every one of the 4 jobs is accounted for, whether or not it reached the store
        for name in ("zeros l0 ", "zeros l0.7", "he l0 ", "he l0.7"):  # the runs' names
            assert sum(name in line for line in listed) == 1, out[-3000:]
        # the server comes back on the same store: doctor ends what was left RUNNING
        base, server = _serve(tmp_path, port)
        doc = subprocess.run([sys.executable, str(ROOT / "pipelines" / "doctor.py"), "--uri",
                              base], capture_output=True, text=True, timeout=120)
        assert doc.returncode == 0, doc.stdout + doc.stderr
        client = tracking.client(base)
        exp = client.get_experiment_by_name("football").experiment_id
        assert {r.info.status for r in client.search_runs([exp])} == {"KILLED"}
    finally:
        if sweep is not None and sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
        _stop(server)
