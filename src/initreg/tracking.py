"""MLflow at the edge: the store, experiments, parent/child runs, batched metrics, artifacts.

Everything goes through ``MlflowClient`` with explicit run ids (no fluent global active run), so
parallel jobs and callbacks never share hidden state. SQLite stores get a busy timeout and every
write is retried on "database is locked", so parallel writers never lose a run.
"""

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

DEFAULT_URI = "sqlite:///mlruns/mlflow.db"
SQLITE_TIMEOUT_S = 60
NOT_HASHED = ("tracking", "resume")  # keys that do not change what a run computes
MAX_BATCH = 1000  # MLflow's limit of metrics per log_batch call
SEARCH_PAGE = 1000  # runs per search_runs call


def resolve_uri(uri: str | None = None) -> str:
    """The tracking URI: ``uri``, else $MLFLOW_TRACKING_URI, else the embedded SQLite store.

    Relative SQLite paths are made absolute against the current directory, the folder is created
    and a busy timeout is added, so jobs in any process agree on one file and wait for the lock.
    """
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI
    if not uri.startswith("sqlite:///"):
        return uri
    path, _, query = uri[len("sqlite:///"):].partition("?")
    db = Path(path).expanduser()
    db = db if db.is_absolute() else Path.cwd() / db
    db.parent.mkdir(parents=True, exist_ok=True)
    query = query or f"timeout={SQLITE_TIMEOUT_S}"
    return f"sqlite:///{db}?{query}"


def sqlite_path(uri: str) -> Path | None:
    """The database file of a SQLite URI, else None."""
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri[len("sqlite:///"):].partition("?")[0])


class TrackingUnavailable(RuntimeError):
    """The tracking server did not answer within ``tracking.timeout_s``."""


_UNREACHABLE = re.compile(r"API request to (https?://[^/\s]+)\S* failed with exception")


def retry(fn: Callable, *args, attempts: int = 8, **kwargs):
    """Call ``fn``, retrying with backoff while SQLite reports a lock.

    A tracking server that did not answer (MLflow has already retried, within the bound set
    by ``bound_http_wait``) raises ``TrackingUnavailable`` naming the server.
    """
    for attempt in range(attempts):
        try:
            return fn(*args, **kwargs)
        except MlflowException as err:
            gone = _UNREACHABLE.search(str(err))
            if gone:
                wait = os.environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT", "120")
                raise TrackingUnavailable(
                    f"the tracking server {gone.group(1)} did not answer (3 tries, {wait} s "
                    "each at most; tracking.timeout_s bounds the wait)") from None
            if "locked" not in str(err) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    return None


DEFAULT_TIMEOUT_S = 60.0


def bound_http_wait(timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
    """Bound how long one MLflow HTTP call may wait for a server that does not answer.

    MLflow retries a failed request 7 times with exponential backoff (about 4 minutes) and
    waits up to 120 s for each answer. Its own settings (read at every request from the
    environment) are set so that one call, retries included, gives up after about
    ``timeout_s``: each attempt waits at most a third of it, with two retries 1 s and 2 s apart.
    """
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(max(1, int(timeout_s / 3)))
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "2"
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "1"
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"] = "0"


@contextmanager
def _store_lock(db: Path):
    """An exclusive lock beside a SQLite store, held while the store is created or migrated.

    MLflow creates and migrates a new SQLite store on first use; two processes doing it at once
    both fail (``table _alembic_tmp_experiments already exists``) and leave it unusable.
    """
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.parent / f"{db.name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def client(uri: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> MlflowClient:
    """A client for the (already resolved) tracking URI, its store ready to use.

    A SQLite store is created (or migrated) under a file lock, so concurrent first starts are
    safe; a server that does not answer within ``timeout_s`` raises ``TrackingUnavailable``.
    """
    if uri.startswith(("http://", "https://")):
        bound_http_wait(timeout_s)
    db = sqlite_path(uri)
    if db is None:
        return MlflowClient(tracking_uri=uri)
    with _store_lock(db):  # the client's constructor creates and migrates the store
        mlflow = MlflowClient(tracking_uri=uri)
        retry(mlflow.search_experiments, max_results=1)
    return mlflow


def experiment_id(mlflow: MlflowClient, name: str, uri: str) -> str:
    """The id of experiment ``name``, created if absent (artifacts beside a SQLite store)."""
    exp = retry(mlflow.get_experiment_by_name, name)
    if exp is not None:
        return exp.experiment_id
    db = sqlite_path(uri)
    location = (db.parent / "artifacts" / name).as_uri() if db else None
    try:
        return retry(mlflow.create_experiment, name, artifact_location=location)
    except MlflowException:  # another process created it first
        return retry(mlflow.get_experiment_by_name, name).experiment_id


def flatten(d: Mapping, prefix: str = "") -> dict[str, Any]:
    """Dotted keys for every leaf of a nested mapping: {"reg": {"lambd": 0}} -> {"reg.lambd": 0}."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def config_hash(cfg: Mapping) -> str:
    """A stable hash of what a run computes: the resolved config without tracking keys."""
    kept = {k: v for k, v in cfg.items() if k not in NOT_HASHED}
    blob = json.dumps(kept, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def git_commit(cwd: Path | None = None) -> str | None:
    """The checkout's HEAD commit, or None outside git."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


class Run:
    """One MLflow run, written through explicit, batched and retried client calls."""

    def __init__(self, mlflow: MlflowClient, run_id: str, flush_every: int = MAX_BATCH):
        """``flush_every``: buffered metric points that trigger a batched write (<= MAX_BATCH)."""
        self.mlflow, self.run_id = mlflow, run_id
        self.flush_every = min(flush_every, MAX_BATCH)
        self._metrics: list[Metric] = []

    @classmethod
    def start(cls, mlflow: MlflowClient, experiment: str, name: str,
              parent_id: str | None = None, tags: Mapping[str, str] | None = None,
              flush_every: int = MAX_BATCH) -> "Run":
        """Create a RUNNING run, a child of ``parent_id`` when given."""
        # strings only: the REST store (a tracking server) refuses other types, None included
        all_tags = {MLFLOW_RUN_NAME: name,
                    **{k: str(v) for k, v in (tags or {}).items() if v is not None}}
        if parent_id:
            all_tags[MLFLOW_PARENT_RUN_ID] = parent_id
        run = retry(mlflow.create_run, experiment, tags=all_tags, run_name=name)
        started = cls(mlflow, run.info.run_id, flush_every)
        started.experiment_id = experiment
        return started

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Params as strings, 100 a call (MLflow's limit)."""
        items = [Param(k, str(v)) for k, v in params.items()]
        for i in range(0, len(items), 100):
            retry(self.mlflow.log_batch, self.run_id, params=items[i:i + 100])

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Tags in one call (values as strings, cut to MLflow's length limit)."""
        items = [RunTag(k, str(v)[:5000]) for k, v in tags.items() if v is not None]
        if items:
            retry(self.mlflow.log_batch, self.run_id, tags=items)

    def add_metric(self, key: str, value: float, step: int = 0) -> None:
        """Buffer one metric point; written in a batch once ``flush_every`` points wait."""
        self._metrics.append(Metric(key, float(value), int(time.time() * 1000), step))
        if len(self._metrics) >= self.flush_every:
            self.flush()

    def add_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        """Buffer several metrics at one step."""
        for k, v in metrics.items():
            self.add_metric(k, v, step)

    def flush(self) -> None:
        """Write buffered metrics, up to 1000 a call."""
        while self._metrics:
            batch, self._metrics = self._metrics[:MAX_BATCH], self._metrics[MAX_BATCH:]
            retry(self.mlflow.log_batch, self.run_id, metrics=batch)

    def log_artifacts(self, folder: Path) -> None:
        """Upload every file of ``folder`` to the run's artifact root."""
        retry(self.mlflow.log_artifacts, self.run_id, str(folder))

    def end(self, status: str = "FINISHED") -> None:
        """Flush and mark the run FINISHED, FAILED or KILLED."""
        self.flush()
        retry(self.mlflow.set_terminated, self.run_id, status)

    def log_inputs(self, inputs: list) -> None:
        """Log dataset inputs (:func:`dataset_inputs`) in one call."""
        if inputs:
            retry(self.mlflow.log_inputs, self.run_id, datasets=inputs)

    def log_model(self, weights: Path, input_example, params: Mapping[str, Any] | None = None,
                  name: str = "model") -> str:
        """Log the network whose ``W1, b1, ...`` are in ``weights`` (.npz) as this run's MLflow
        model ``name`` (a pyfunc: :mod:`initreg.mlflow_model`); its LoggedModel id.

        Through this run's client alone (no active run): the LoggedModel is created as a
        child of the run, the pyfunc saved beside it, uploaded as its artifacts, recorded as the
        run's output and marked READY (FAILED if any step fails), so
        ``mlflow.pyfunc.load_model(f"runs:/{run_id}/{name}")`` finds it.
        """
        from mlflow.entities import LoggedModelOutput, LoggedModelStatus

        experiment = getattr(self, "experiment_id", None) or \
            retry(self.mlflow.get_run, self.run_id).info.experiment_id
        model = retry(self.mlflow.create_logged_model, experiment, name=name,
                      source_run_id=self.run_id,
                      params={k: str(v) for k, v in (params or {}).items()})
        try:
            with tempfile.TemporaryDirectory(prefix="initreg-model-") as tmp:
                save_network_model(Path(tmp) / name, weights, input_example, model,
                                   self.run_id)
                retry(self.mlflow.log_model_artifacts, model.model_id, str(Path(tmp) / name))
            retry(self.mlflow.log_outputs, self.run_id, [LoggedModelOutput(model.model_id, 0)])
        except BaseException:
            retry(self.mlflow.finalize_logged_model, model.model_id, LoggedModelStatus.FAILED)
            raise
        retry(self.mlflow.finalize_logged_model, model.model_id, LoggedModelStatus.READY)
        return model.model_id


class NoRun:
    """Stands in for a :class:`Run` when tracking is off (``tracking.enabled=false``): every
    call is accepted and does nothing."""

    run_id = None

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


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


def finished_hashes(mlflow: MlflowClient, experiment: str) -> set[str]:
    """``config_hash`` tags of the experiment's FINISHED runs."""
    runs = search_runs(mlflow, [experiment], "attributes.status = 'FINISHED'")
    return {r.data.tags.get("config_hash") for r in runs} - {None}


def params_of(cfg: Mapping, skip: Iterable[str] = ("hydra",)) -> dict[str, Any]:
    """Every leaf of the resolved config as a dotted param (``reg.lambd``, ``model.layer_dims``)."""
    return flatten({k: v for k, v in cfg.items() if k not in skip})


# --- what MLflow's UI reads: params, standard tags, inputs, models, links ------------------------

def run_params(cfg: Mapping) -> dict[str, Any]:
    """The params that mean something for a run: :func:`params_of` without the keys that do not
    change what it computes (``resume``, ``tracking.*``: :data:`NOT_HASHED`) and without unset
    ones (``model.depth: null`` outside ``model=mlp``; ``data.bayes_error: null``, whose value
    is the metric ``bayes_error``)."""
    return {k: v for k, v in params_of(cfg, skip=("hydra", *NOT_HASHED)).items()
            if v is not None}


def logged_model(mlflow: MlflowClient, experiment: str, run_id: str, name: str = "model"):
    """The LoggedModel ``name`` that run ``run_id`` logged (``runs:/<id>/<name>``), or None."""
    models = retry(mlflow.search_logged_models, [experiment], filter_string=f"name = '{name}'"
                   f" AND source_run_id = '{run_id}'", max_results=10)
    return models[0] if models else None


def source_tags(script: str | None = None, commit: str | None = None) -> dict[str, str]:
    """The tags MLflow's UI shows as a run's Source, Version and User: ``mlflow.source.name``
    (the entry point, ``script`` or ``sys.argv[0]``), ``mlflow.source.type`` (LOCAL),
    ``mlflow.source.git.commit`` (``commit``, else the HEAD of the entry point's checkout, else
    of the current folder's) and ``mlflow.user``."""
    import getpass
    import sys

    from mlflow.utils.mlflow_tags import (
        MLFLOW_GIT_COMMIT,
        MLFLOW_SOURCE_NAME,
        MLFLOW_SOURCE_TYPE,
        MLFLOW_USER,
    )

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = None
    script = script or sys.argv[0]
    commit = commit or git_commit(Path(script).resolve().parent) or git_commit()
    tags = {MLFLOW_SOURCE_NAME: script, MLFLOW_SOURCE_TYPE: "LOCAL", MLFLOW_GIT_COMMIT: commit,
            MLFLOW_USER: user}
    return {k: v for k, v in tags.items() if v}


NOTE_TAG = "mlflow.note.content"  # a run's description in the UI (Markdown)


def dataset_inputs(ds, name: str, source: Mapping[str, Any]) -> list:
    """The train, dev and test splits of ``ds`` as MLflow dataset inputs (context ``train``,
    ``dev``, ``test``), each with its size (``profile``), its schema and a digest of every
    value; ``source``: how the data is made (the loader and its arguments)."""
    import mlflow.data
    from mlflow.data.code_dataset_source import CodeDatasetSource
    from mlflow.entities import Dataset as DatasetEntity
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    inputs = []
    for split in ("train", "dev", "test"):
        X, Y = ds.split(split)
        digest = hashlib.sha256(X.tobytes() + Y.tobytes() + str(X.shape).encode()).hexdigest()
        # rows are examples, as MLflow (and the logged model's input) expects
        spec = mlflow.data.from_numpy(X.T, targets=Y.ravel(), name=name, digest=digest[:8],
                                      source=CodeDatasetSource({k: str(v)
                                                                for k, v in source.items()}))
        inputs.append(DatasetInput(DatasetEntity(**spec.to_dict()),
                                   tags=[InputTag(MLFLOW_DATASET_CONTEXT, split)]))
    return inputs


def ui_base(base: str | None = None) -> str:
    """Where the MLflow UI is: ``base``, else $MLFLOW_UI_URL, else http://127.0.0.1:5000 (where
    ``make ui`` serves it)."""
    return (base or os.environ.get("MLFLOW_UI_URL") or "http://127.0.0.1:5000").rstrip("/")


def ui_url(run_id: str, experiment_id: str, base: str | None = None) -> str:
    """The page of a run in the MLflow UI (:func:`ui_base`)."""
    return f"{ui_base(base)}/#/experiments/{experiment_id}/runs/{run_id}"


def experiment_url(experiment_id: str, base: str | None = None) -> str:
    """An experiment's runs table in the MLflow UI. ``workflowType=machine_learning``: MLflow 3's
    UI otherwise opens an experiment on its GenAI overview (traces), where runs are not shown."""
    return f"{ui_base(base)}/#/experiments/{experiment_id}?workflowType=machine_learning"



MODEL_CODE = Path(__file__).with_name("mlflow_model.py")  # the pyfunc, logged as code


def save_network_model(path: Path, weights: Path, input_example, logged=None,
                       run_id: str | None = None) -> None:
    """Save the pyfunc of :mod:`initreg.mlflow_model` into ``path`` (a new folder): the weights
    as its artifact, initreg's ``nn`` package as its code, a tensor signature ``(-1, n_x)``
    float64 -> ``(-1,)`` and ``input_example`` (rows) beside it; ``logged``: the LoggedModel it
    will be uploaded to (its id and location go into the MLmodel file, as ``log_model`` does).

    The requirements are given, not inferred (inference imports the model in a subprocess:
    seconds per run).
    """
    import mlflow.pyfunc
    import numpy as np
    import threadpoolctl
    from mlflow.models import Model, ModelSignature
    from mlflow.types import ParamSchema, ParamSpec, Schema, TensorSpec

    example = np.asarray(input_example, dtype=np.float64)
    signature = ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.float64), (-1, example.shape[1]))]),
        outputs=Schema([TensorSpec(np.dtype(np.float64), (-1,))]),
        params=ParamSchema([ParamSpec("output", "string", "label")]))
    meta = None if logged is None else Model(
        artifact_path=logged.artifact_location, model_uuid=logged.model_id, run_id=run_id,
        model_id=logged.model_id)
    with tempfile.TemporaryDirectory(prefix="initreg-code-") as code, _quiet_mlflow():
        package = Path(code) / "initreg"  # initreg/__init__.py and initreg/nn, nothing else
        source = Path(__file__).parent
        shutil.copytree(source / "nn", package / "nn",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(source / "__init__.py", package / "__init__.py")
        mlflow.pyfunc.save_model(
            str(path), python_model=str(MODEL_CODE), artifacts={"weights": str(weights)},
            code_paths=[str(package)], signature=signature, input_example=example,
            mlflow_model=meta,
            pip_requirements=[f"mlflow=={mlflow.__version__}", f"numpy=={np.__version__}",
                              f"threadpoolctl=={threadpoolctl.__version__}"])


@contextmanager
def _quiet_mlflow():
    """MLflow's INFO lines and artifact progress bars off while the block runs: a sweep's
    console is no place for "Validating input example against model signature" per job."""
    import logging

    logger = logging.getLogger("mlflow")
    level, bar = logger.level, os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR")
    logger.setLevel(logging.WARNING)
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    try:
        yield
    finally:
        logger.setLevel(level)
        if bar is None:
            os.environ.pop("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", None)
        else:
            os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = bar
