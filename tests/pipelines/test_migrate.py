"""pipelines/migrate.py moves a store's whole history, parent links included, without loss."""

import subprocess
import sys

import pytest
from mlflow.tracking import MlflowClient
from pipeline_utils import ROOT, all_runs

from initreg import tracking

MIGRATE = ROOT / "pipelines" / "migrate.py"


def make_source(uri: str, artifacts) -> None:
    """A small store: a sweep parent with three children (one FAILED) and a lone run."""
    mlflow = tracking.client(uri)
    exp = tracking.experiment_id(mlflow, "football", uri)
    parent = tracking.Run.start(mlflow, exp, "sweep x", tags={"sweep": "true"})
    (artifacts / "config.yaml").write_text("seed: 0\n")
    for i, status in enumerate(["FINISHED", "FINISHED", "FAILED"]):
        kid = tracking.Run.start(mlflow, exp, f"kid {i}", parent_id=parent.run_id,
                                 tags={"config_hash": f"h{i}"})
        kid.log_params({"reg.lambd": 0.1 * i, "init.name": "he"})
        for step in range(0, 1000 + 100 * i, 100):  # 10, 11 and 12 points
            kid.add_metric("cost", 1.0 / (step + 1 + i), step)
        kid.add_metric("dev_accuracy", 0.9 + 0.01 * i)
        kid.log_artifacts(artifacts)
        kid.end(status)
    parent.add_metric("best_dev_accuracy", 0.92)
    parent.end("FINISHED")
    lone_exp = tracking.experiment_id(mlflow, "circles", uri)
    lone = tracking.Run.start(mlflow, lone_exp, "single")
    lone.add_metric("cost", 0.5, 0)
    lone.end("FINISHED")


def migrate(src: str, dst: str):
    return subprocess.run([sys.executable, str(MIGRATE), "--from", src, "--to", dst],
                          capture_output=True, text=True, timeout=300, check=True)


def snapshot(client: MlflowClient, id_of=lambda run: run.info.run_id) -> dict:
    """Everything a run carries, keyed by its (source) id, with parent links as (source) ids."""
    runs = all_runs(client)
    key = {r.info.run_id: id_of(r) for r in runs}
    out = {}
    for r in runs:
        tags = {k: v for k, v in r.data.tags.items() if k != "migrated_from"}
        parent = tags.pop("mlflow.parentRunId", None)
        out[key[r.info.run_id]] = {
            "experiment": client.get_experiment(r.info.experiment_id).name,
            "status": r.info.status, "start": r.info.start_time, "end": r.info.end_time,
            "params": r.data.params, "tags": tags,
            "parent": key[parent] if parent in key else parent and f"not in store: {parent}",
            "history": {k: [(m.step, m.value, m.timestamp)
                            for m in client.get_metric_history(r.info.run_id, k)]
                        for k in r.data.metrics},
            "artifacts": sorted(a.path for a in client.list_artifacts(r.info.run_id)),
        }
    return out


@pytest.mark.slow
def test_migration_moves_runs_metrics_artifacts_and_parent_links(tmp_path):
    (tmp_path / "art").mkdir()
    src = f"sqlite:///{tmp_path}/local/mlflow.db"
    dst = f"sqlite:///{tmp_path}/team/mlflow.db"
    make_source(src, tmp_path / "art")

    proc = migrate(src, dst)
    assert "experiment 'football': 4 runs copied" in proc.stdout

    before = snapshot(MlflowClient(src))
    dest = MlflowClient(dst)
    after = snapshot(dest, id_of=lambda r: r.data.tags["migrated_from"])
    assert len(before) == len(after) == 5
    assert after == before
    kids = [r for r in before.values() if r["parent"]]
    assert sorted(len(k["history"]["cost"]) for k in kids) == [10, 11, 12]
    new_parent = {r.data.tags.get("mlflow.parentRunId") for r in all_runs(dest)} - {None}
    assert len(new_parent) == 1 and dest.get_run(new_parent.pop()).data.tags["sweep"] == "true"

    again = migrate(src, dst)  # a second pass copies nothing
    assert "0 runs copied, 4 already there" in again.stdout
    assert len(all_runs(dest)) == 5


@pytest.mark.slow
def test_migration_refuses_a_missing_source_and_the_same_store(tmp_path):
    src = f"sqlite:///{tmp_path}/nothing/mlflow.db"
    proc = subprocess.run([sys.executable, str(MIGRATE), "--from", src, "--to", src],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no such store" in proc.stderr
