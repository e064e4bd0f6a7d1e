"""MLflow at the edge: the store, experiments, parent/child runs, batched metrics, artifacts.

Everything goes through ``MlflowClient`` with explicit run ids (no fluent global active run), so
parallel jobs and callbacks never share hidden state. SQLite stores get a busy timeout and every
write is retried on "database is locked", so parallel writers never lose a run.

Its parts: ``store`` (the URI, ``client`` with the SQLite lock, ``retry``, the bound on a server
that does not answer, ``experiment_id``), ``run`` (``Run``: params, tags, batched metrics,
artifacts, the model; ``NoRun``), ``search`` (every page of a search, ``children``,
``finished_hashes``, ``finished_runs``, ``logged_model``), ``params`` (``run_params``,
``config_hash``), ``ui`` (the Source/Version/User tags, ``NOTE_TAG``, links into the UI),
``datasets`` (a data set as the run's inputs) and ``model`` (the pyfunc ``save_network_model``
writes). Everything public is importable from ``initreg.tracking``.
"""

from initreg.tracking.datasets import dataset_inputs
from initreg.tracking.model import MODEL_CODE, save_network_model
from initreg.tracking.params import NOT_HASHED, config_hash, flatten, params_of, run_params
from initreg.tracking.run import MAX_BATCH, NoRun, Run
from initreg.tracking.search import (
    children,
    finished_hashes,
    finished_runs,
    logged_model,
    search_runs,
)
from initreg.tracking.store import (
    DEFAULT_TIMEOUT_S,
    DEFAULT_URI,
    SQLITE_TIMEOUT_S,
    TrackingUnavailable,
    bound_http_wait,
    client,
    experiment_id,
    resolve_uri,
    retry,
    sqlite_path,
)
from initreg.tracking.ui import NOTE_TAG, experiment_url, git_commit, source_tags, ui_base, ui_url

__all__ = [
    "DEFAULT_TIMEOUT_S", "DEFAULT_URI", "MAX_BATCH", "MODEL_CODE", "NOTE_TAG", "NOT_HASHED",
    "SQLITE_TIMEOUT_S", "NoRun", "Run", "TrackingUnavailable", "bound_http_wait", "children",
    "client", "config_hash", "dataset_inputs", "experiment_id", "experiment_url",
    "finished_hashes", "finished_runs", "flatten", "git_commit", "logged_model", "params_of",
    "resolve_uri",
    "retry", "run_params", "save_network_model", "search_runs", "source_tags", "sqlite_path",
    "ui_base", "ui_url",
]
