"""Runs and models read back from the store: every page of a search, a sweep's children, the
config hashes already FINISHED (and the runs that hold them), a run's logged model."""

from collections.abc import Iterable

from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from initreg.tracking.store import retry

SEARCH_PAGE = 1000  # runs per search_runs call


def search_runs(mlflow: MlflowClient, experiment_ids: Iterable[str], filter_string: str = "",
                order_by: list[str] | None = None, limit: int | None = None) -> list:
    """Every run of the experiments that matches ``filter_string`` (the first ``limit`` when
    given), in ``order_by`` order: MLflow's pages of at most 1000 runs, followed to the last."""
    runs, token, ids = [], None, list(experiment_ids)
    if not ids or limit == 0:
        return runs
    while True:
        size = SEARCH_PAGE if limit is None else min(SEARCH_PAGE, limit - len(runs))
        page = retry(mlflow.search_runs, ids, filter_string=filter_string, order_by=order_by,
                     max_results=size, page_token=token)
        runs.extend(page)
        token = page.token
        if not token or (limit is not None and len(runs) >= limit):
            return runs


def children(mlflow: MlflowClient, experiment: str, parent_id: str) -> list:
    """Every child run of ``parent_id``."""
    return search_runs(mlflow, [experiment],
                       f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{parent_id}'")


def finished_runs(mlflow: MlflowClient, experiment: str) -> dict[str, str]:
    """``{config_hash: run id}`` of the experiment's FINISHED runs, in one search: for a hash
    several runs FINISHED (runs without ``resume``), the one that started last."""
    runs = search_runs(mlflow, [experiment], "attributes.status = 'FINISHED'",
                       order_by=["attributes.start_time ASC"])
    return {r.data.tags["config_hash"]: r.info.run_id for r in runs
            if r.data.tags.get("config_hash")}


def finished_hashes(mlflow: MlflowClient, experiment: str) -> set[str]:
    """``config_hash`` tags of the experiment's FINISHED runs."""
    return set(finished_runs(mlflow, experiment))


def logged_model(mlflow: MlflowClient, experiment: str, run_id: str, name: str = "model"):
    """The LoggedModel ``name`` that run ``run_id`` logged (``runs:/<id>/<name>``), or None."""
    models = retry(mlflow.search_logged_models, [experiment], filter_string=f"name = '{name}'"
                   f" AND source_run_id = '{run_id}'", max_results=10)
    return models[0] if models else None
