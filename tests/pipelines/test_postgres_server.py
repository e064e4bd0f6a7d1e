"""A team's tracking server: `mlflow server` on PostgreSQL, fed by a real sweep, read over REST.

The PostgreSQL server comes from $INITREG_TEST_PG (`.ci/run` starts one with
`scripts/postgres.sh start`); without it a local server on 127.0.0.1:5432 is tried, and the test
is skipped when there is none, except in CI (CI=true), where it fails.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
import pytest
from mlflow.tracking import MlflowClient
from pipeline_utils import ROOT, run_pipeline
from test_migrate import MIGRATE, make_source

from initreg import job_training

PG_ENV = "INITREG_TEST_PG"
LOCAL_PG = ("postgresql://postgres@127.0.0.1:5432/postgres",)
FAST = ["train.num_iterations=300", "train.log_every=100"]
MLFLOW = Path(sys.executable).parent / "mlflow"

pytestmark = pytest.mark.slow


def admin_uri() -> str:
    """A reachable PostgreSQL superuser URI, else skip (fail in CI) naming what was tried."""
    given = os.environ.get(PG_ENV)
    errors = []
    for uri in [given] if given else LOCAL_PG:
        try:
            psycopg.connect(uri, connect_timeout=5).close()
            return uri
        except psycopg.OperationalError as err:
            errors.append(f"{redact(uri)}: {str(err).strip().splitlines()[0]}")
    reason = (f"no PostgreSQL server reachable ({'; '.join(errors)}); set {PG_ENV}="
              "postgresql://USER:PASSWORD@127.0.0.1:PORT/postgres, or start a throwaway one "
              'with: eval "$(scripts/postgres.sh start)"')
    if given or os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def redact(uri: str) -> str:
    parts = urllib.parse.urlsplit(uri)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return parts.geturl()


def with_database(uri: str, name: str) -> str:
    return urllib.parse.urlsplit(uri)._replace(path=f"/{name}").geturl()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def database():
    """A fresh database on the PostgreSQL server, dropped afterwards."""
    admin = admin_uri()
    name = f"initreg_test_{secrets.token_hex(4)}"
    conn = psycopg.connect(admin)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield with_database(admin, name)
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):
    """`mlflow server` on the database, artifacts proxied to a temporary folder; its URL."""
    tmp = tmp_path_factory.mktemp("server")
    port = free_port()
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen(
        [str(MLFLOW), "server", "--backend-store-uri", database, "--serve-artifacts",
         "--artifacts-destination", str(tmp / "artifacts"), "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1"],
        cwd=tmp, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited {proc.returncode}:\n"
                            + (tmp / "server.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("mlflow server did not answer /health within 180 s:\n"
                            + (tmp / "server.log").read_text()[-3000:])
            time.sleep(1)
        yield url
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen) -> None:
    """Stop the server's whole process group (gunicorn/uvicorn workers included)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def rest(url: str, path: str, body: dict | None = None, **query) -> dict:
    """One call of MLflow's REST API: POST with a JSON body, else GET with a query."""
    full = f"{url}/api/2.0/mlflow/{path}"
    if body is None:
        req = urllib.request.Request(f"{full}?{urllib.parse.urlencode(query)}")
    else:
        req = urllib.request.Request(full, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def search(url: str, experiment_id: str, filter_string: str = "") -> list[dict]:
    runs, token = [], None
    while True:
        body = {"experiment_ids": [experiment_id], "filter": filter_string, "max_results": 1000}
        if token:
            body["page_token"] = token
        page = rest(url, "runs/search", body)
        runs.extend(page.get("runs", []))
        token = page.get("next_page_token")
        if not token:
            return runs


def tags(run: dict) -> dict:
    return {t["key"]: t["value"] for t in run["data"].get("tags", [])}


def params(run: dict) -> dict:
    return {p["key"]: p["value"] for p in run["data"].get("params", [])}


def test_a_sweep_over_two_workers_lands_in_the_postgres_server(server, database, tmp_path):
    run_pipeline(["-m", "init=zeros,he", "reg.lambd=0.0,0.7", "reg.keep_prob=1.0,0.86",
                  "hydra.launcher.n_jobs=2", *FAST], tmp_path,
                 extra_env={"MLFLOW_TRACKING_URI": server})
    exp = rest(server, "experiments/get-by-name", experiment_name="football")["experiment"]
    runs = search(server, exp["experiment_id"])
    parents = [r for r in runs if tags(r).get("sweep") == "true"]
    kids = [r for r in runs if "mlflow.parentRunId" in tags(r)]
    assert len(parents) == 1 and len(kids) == 8 and len(runs) == 9
    parent_id = parents[0]["info"]["run_id"]
    assert parents[0]["info"]["status"] == "FINISHED"
    assert {tags(k)["mlflow.parentRunId"] for k in kids} == {parent_id}
    combos = {(params(k)["init.name"], params(k)["reg.lambd"], params(k)["reg.keep_prob"])
              for k in kids}
    assert len(combos) == 8
    for kid in kids:
        info = kid["info"]
        assert info["status"] == "FINISHED", tags(kid)
        latest = {m["key"] for m in kid["data"]["metrics"]}
        assert {"dev_accuracy", "train_error", "variance", "gradcheck_difference"} <= latest
        history = rest(server, "metrics/get-history", run_id=info["run_id"],
                       metric_key="cost")["metrics"]
        assert sorted(m["step"] for m in history) == sorted(job_training.cost_steps(300, 100))
        files = {f["path"] for f in rest(server, "artifacts/list",
                                         run_id=info["run_id"]).get("files", [])}
        assert {"model.npz", "config.yaml", "gradcheck.json"} <= files

    with psycopg.connect(database) as conn, conn.cursor() as cur:  # really in PostgreSQL
        cur.execute("SELECT count(*) FROM runs WHERE experiment_id = %s",
                    (int(exp["experiment_id"]),))
        assert cur.fetchone()[0] == 9
        cur.execute("SELECT count(*) FROM metrics WHERE key = 'cost'")
        assert cur.fetchone()[0] == 8 * len(job_training.cost_steps(300, 100))


def test_make_migrate_moves_a_local_store_to_the_server(server, tmp_path):
    (tmp_path / "art").mkdir()
    local = f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    make_source(local, tmp_path / "art")
    subprocess.run([sys.executable, str(MIGRATE), "--from", local, "--to", server],
                   check=True, capture_output=True, text=True, timeout=300, cwd=ROOT)
    src, dst = MlflowClient(local), MlflowClient(server)
    for exp in src.search_experiments():
        dest_exp = rest(server, "experiments/get-by-name", experiment_name=exp.name)
        moved = {tags(r)["migrated_from"]: r
                 for r in search(server, dest_exp["experiment"]["experiment_id"],
                                 "tags.migrated_from != ''")
                 if tags(r)["migrated_from"] in
                 {r.info.run_id for r in src.search_runs([exp.experiment_id])}}
        for old in src.search_runs([exp.experiment_id]):
            new = moved[old.info.run_id]
            assert new["info"]["status"] == old.info.status
            parent = old.data.tags.get("mlflow.parentRunId")
            if parent:
                assert tags(moved[parent])["sweep"] == "true"
                assert tags(new)["mlflow.parentRunId"] == moved[parent]["info"]["run_id"]
            for key in old.data.metrics:
                assert (len(dst.get_metric_history(new["info"]["run_id"], key))
                        == len(src.get_metric_history(old.info.run_id, key)))
