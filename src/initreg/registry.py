"""A sweep's selected model in MLflow's Model Registry: ``initreg-<data set>``, alias ``champion``.

    version = register_champion(client, sweep_id, run_id)     # make report calls register()
    mlflow.pyfunc.load_model("models:/initreg-football@champion").predict(X_rows)

The version's source is the selected run's logged model (``runs:/<run id>/model``, a pyfunc:
:mod:`initreg.mlflow_model`); its tags name the sweep and the run, and registering the same
run again (``make report`` twice) reuses its version.
"""

import json

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode
from mlflow.utils.mlflow_tags import MLFLOW_MODEL_VERSIONS

from initreg import tracking

ALIAS = "champion"


def model_name(dataset: str) -> str:
    """The registered model of a data set: ``initreg-football``."""
    return f"initreg-{dataset}"


def register_champion(client, sweep_id: str, run_id: str, dataset: str | None = None,
                      alias: str = ALIAS):
    """Register run ``run_id``'s model as a version of ``initreg-<dataset>`` (default: the
    run's ``data.name``) and point ``alias`` at it; the ``ModelVersion``, or None when the run
    logged no model (a run from before models were logged, a model class of your own)."""
    run = tracking.retry(client.get_run, run_id)
    dataset = dataset or run.data.params.get("data.name") or "unknown"
    model = tracking.logged_model(client, run.info.experiment_id, run_id)
    if model is None:
        return None
    name = model_name(dataset)
    try:
        tracking.retry(client.create_registered_model, name,
                       description=f"The selected run of initreg's sweeps on {dataset} (alias "
                                   f"`{alias}`: the latest `make report`).")
    except MlflowException as err:
        if err.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
            raise
    versions = tracking.retry(client.search_model_versions,
                              f"name = '{name}' AND run_id = '{run_id}'")
    if versions:
        version = versions[0]
    else:
        # the model's own location: a `models:/<id>` source is resolved through MLflow's
        # global tracking URI, not this client's (mlflow 3.17's SQL registry store)
        version = tracking.retry(
            client.create_model_version, name, source=model.artifact_location, run_id=run_id,
            model_id=model.model_id,
            tags={"sweep_id": sweep_id, "run_name": run.info.run_name or run_id,
                  **{k: v for k in ("dev_accuracy", "test_accuracy")
                     if (v := run.data.metrics.get(k)) is not None}},
            description=f"Selected by sweep {sweep_id} on dev accuracy: run "
                        f"{run.info.run_name} ({run_id}).")
    tracking.retry(client.set_registered_model_alias, name, alias, version.version)
    _link(client, model, name, str(version.version))
    return version


def _link(client, model, name: str, version: str) -> None:
    """Name the version on the logged model (``mlflow.modelVersions``), as a tracking server
    does when it creates a version, so the model's page links to it; SQL stores don't."""
    versions = json.loads(model.tags.get(MLFLOW_MODEL_VERSIONS, "[]"))
    if {"name": name, "version": version} not in versions:
        versions.append({"name": name, "version": version})
        tracking.retry(client.set_logged_model_tags, model.model_id,
                       {MLFLOW_MODEL_VERSIONS: json.dumps(versions)})


def register(client, sweep_id: str, run_id: str) -> str:
    """:func:`register_champion`, and the line that says what it did."""
    version = register_champion(client, sweep_id, run_id)
    if version is None:
        return f"not registered: run {run_id} logged no MLflow model"
    return (f"registered {version.name} version {version.version} (alias {ALIAS}): "
            f"mlflow.pyfunc.load_model('models:/{version.name}@{ALIAS}')")
