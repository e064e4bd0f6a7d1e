"""The MLflow UI path end to end: a real `mlflow server`, a real multirun, checked over REST."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from pipeline_utils import run_pipeline

from initreg import job_training

MLFLOW = Path(sys.executable).with_name("mlflow")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(base: str, path: str, **params) -> dict:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    with urllib.request.urlopen(f"{base}{path}?{query}", timeout=30) as resp:
        return json.loads(resp.read())


def post(base: str, path: str, body: dict) -> dict:
    req = urllib.request.Request(f"{base}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def wait_healthy(base: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"mlflow server exited {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # a refused connection costs next to nothing: go on once it is up
    raise AssertionError(f"mlflow server not healthy after {timeout}s:\n{log.read_text()}")


@pytest.fixture
def server(tmp_path):
    """A real tracking server on 127.0.0.1 over a temporary SQLite store, stopped by its pgid."""
    port = free_port()
    log = tmp_path / "server.log"
    cmd = [str(MLFLOW), "server", "--host", "127.0.0.1", "--port", str(port),
           "--backend-store-uri", f"sqlite:///{tmp_path}/server/mlflow.db",
           "--artifacts-destination", str(tmp_path / "server" / "artifacts"),
           "--workers", "1"]
    (tmp_path / "server").mkdir()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own group: workers stop with it
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, log)
        yield base
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.mark.slow
def test_a_multirun_reaches_the_server_with_every_run_metric_and_cost_point(server, tmp_path):
    iterations, log_every = 200, 50
    run_pipeline(["-m", "init=zeros,he", "reg.lambd=0.0,0.7", "hydra.launcher.n_jobs=2",
                  f"train.num_iterations={iterations}", f"train.log_every={log_every}"],
                 tmp_path, extra_env={"MLFLOW_TRACKING_URI": server})
    exp = get(server, "/api/2.0/mlflow/experiments/get-by-name",
              experiment_name="football")["experiment"]
    runs = post(server, "/api/2.0/mlflow/runs/search",
                {"experiment_ids": [exp["experiment_id"]], "max_results": 100})["runs"]

    def tags(run):
        return {t["key"]: t["value"] for t in run["data"].get("tags", [])}

    parents = [r for r in runs if tags(r).get("sweep") == "true"]
    kids = [r for r in runs if "mlflow.parentRunId" in tags(r)]
    assert len(parents) == 1 and len(kids) == 4 and len(runs) == 5
    parent_id = parents[0]["info"]["run_id"]
    assert parents[0]["info"]["status"] == "FINISHED"
    assert {tags(k)["mlflow.parentRunId"] for k in kids} == {parent_id}

    combos = set()
    for kid in kids:
        info, data = kid["info"], kid["data"]
        params = {p["key"]: p["value"] for p in data["params"]}
        metrics = {m["key"]: m["value"] for m in data["metrics"]}
        combos.add((params["init.name"], float(params["reg.lambd"])))
        assert info["status"] == "FINISHED" and tags(kid)["gradcheck"] == "passed"
        assert {"train_accuracy", "dev_accuracy", "test_accuracy", "variance",
                "avoidable_bias", "cost"} <= set(metrics)
        assert 0.0 <= metrics["dev_accuracy"] <= 1.0
        history = get(server, "/api/2.0/mlflow/metrics/get-history", run_id=info["run_id"],
                      metric_key="cost")["metrics"]
        steps = sorted(m["step"] for m in history)
        assert steps == sorted(job_training.cost_steps(iterations, log_every))
        assert all(m["value"] > 0 for m in history)
    assert combos == {("zeros", 0.0), ("zeros", 0.7), ("he", 0.0), ("he", 0.7)}
    # artifacts went through the server to its artifacts destination
    art = get(server, "/api/2.0/mlflow/artifacts/list", run_id=kids[0]["info"]["run_id"])
    assert {"config.yaml", "cost_curve.png"} <= {f["path"] for f in art["files"]}
