"""Copy an MLflow store's history into another store, e.g. the local SQLite store to a team server.

    python pipelines/migrate.py --from sqlite:///mlruns/mlflow.db --to http://127.0.0.1:5000

MLflow 3.17 has no store-to-store copy (``mlflow migrate-filestore`` only turns a file store
into SQLite; ``mlflow db upgrade`` only upgrades a schema), so this walks the source through
``MlflowClient``: experiments by name, then every active run, parents before children, with its
params, tags (the ``mlflow.parentRunId`` link remapped to the new ids), the full history of every
metric (value, timestamp, step), its artifacts, status and start/end times. Each copy carries the
tag ``migrated_from`` = the source run id, so running it again copies only what is missing.
"""

import argparse
import sys
import tempfile

from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from initreg import tracking

MIGRATED_FROM = "migrated_from"


def all_runs(mlflow: MlflowClient, experiment_id: str, filter_string: str = "") -> list:
    """Every active run of an experiment, page by page."""
    return tracking.search_runs(mlflow, [experiment_id], filter_string)


def parents_first(runs: list) -> list:
    """Runs ordered so that a parent always comes before its children."""
    by_id = {r.info.run_id: r for r in runs}
    ordered, seen = [], set()

    def visit(run):
        if run.info.run_id in seen:
            return
        seen.add(run.info.run_id)
        parent = by_id.get(run.data.tags.get(MLFLOW_PARENT_RUN_ID))
        if parent is not None:
            visit(parent)
        ordered.append(run)

    for run in sorted(runs, key=lambda r: r.info.start_time or 0):
        visit(run)
    return ordered


def copy_run(src: MlflowClient, dst: MlflowClient, run, experiment_id: str,
             new_ids: dict[str, str]) -> str:
    """Copy one run into ``experiment_id`` of ``dst``; returns the new run id."""
    info, data = run.info, run.data
    tags = {k: v for k, v in data.tags.items() if k != MLFLOW_PARENT_RUN_ID}
    old_parent = data.tags.get(MLFLOW_PARENT_RUN_ID)
    if old_parent:
        tags[MLFLOW_PARENT_RUN_ID] = new_ids.get(old_parent, old_parent)
    tags[MIGRATED_FROM] = info.run_id
    new = dst.create_run(experiment_id, start_time=info.start_time, tags=tags,
                         run_name=info.run_name)
    new_id = new.info.run_id
    params = [Param(k, v) for k, v in data.params.items()]
    for i in range(0, len(params), 100):
        dst.log_batch(new_id, params=params[i:i + 100])
    history = [Metric(m.key, m.value, m.timestamp, m.step)
               for key in data.metrics for m in src.get_metric_history(info.run_id, key)]
    for i in range(0, len(history), tracking.MAX_BATCH):
        dst.log_batch(new_id, metrics=history[i:i + tracking.MAX_BATCH])
    with tempfile.TemporaryDirectory(prefix="initreg-migrate-") as tmp:
        if src.list_artifacts(info.run_id):
            local = src.download_artifacts(info.run_id, "", tmp)
            dst.log_artifacts(new_id, local)
    if info.status == "RUNNING":  # keep it visible as unfinished, but never leave it open
        dst.set_tag(new_id, "migrated_status", "RUNNING")
        dst.set_terminated(new_id, "KILLED", end_time=info.end_time)
    else:
        dst.set_terminated(new_id, info.status, end_time=info.end_time)
    return new_id


def migrate(source_uri: str, dest_uri: str, log=print) -> dict[str, str]:
    """Copy every experiment and run of ``source_uri`` into ``dest_uri``; old -> new run ids."""
    source_uri, dest_uri = tracking.resolve_uri(source_uri), tracking.resolve_uri(dest_uri)
    if source_uri == dest_uri:
        raise ValueError(f"--from and --to are the same store: {source_uri}")
    src, dst = tracking.client(source_uri), tracking.client(dest_uri)
    new_ids: dict[str, str] = {}
    for exp in src.search_experiments():
        runs = all_runs(src, exp.experiment_id)
        if not runs:
            continue
        dest_exp = tracking.experiment_id(dst, exp.name, dest_uri)
        for done in all_runs(dst, dest_exp, f"tags.{MIGRATED_FROM} != ''"):
            new_ids[done.data.tags[MIGRATED_FROM]] = done.info.run_id
        copied = 0
        for run in parents_first(runs):
            if run.info.run_id in new_ids:
                continue
            new_ids[run.info.run_id] = copy_run(src, dst, run, dest_exp, new_ids)
            copied += 1
        log(f"experiment {exp.name!r}: {copied} runs copied, {len(runs) - copied} already there")
    return new_ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", default=tracking.DEFAULT_URI,
                        help="source tracking URI (default: %(default)s)")
    parser.add_argument("--to", dest="dest", required=True,
                        help="destination tracking URI, e.g. http://127.0.0.1:5000")
    args = parser.parse_args(argv)
    db = tracking.sqlite_path(tracking.resolve_uri(args.source))
    if db is not None and not db.exists():
        print(f"error: --from {args.source}: no such store ({db})", file=sys.stderr)
        return 2
    try:
        ids = migrate(args.source, args.dest)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{len(ids)} runs in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
