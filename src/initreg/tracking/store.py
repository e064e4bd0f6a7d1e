"""The tracking store: its URI, the client (a SQLite store created under a file lock), the
retry on "database is locked", the bound on a server that does not answer, experiments.

SQLite stores get a busy timeout and every write is retried on "database is locked", so parallel
writers never lose a run.
"""

import functools
import os
import re
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from initreg import interrupts
from initreg.locks import exclusive

DEFAULT_URI = "sqlite:///mlruns/mlflow.db"
SQLITE_TIMEOUT_S = 60


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
    """Call ``fn``, retrying with backoff while SQLite reports a lock; Ctrl-C and SIGTERM
    raise once a call has ended (:mod:`initreg.interrupts`), never inside one.

    A tracking server that did not answer (MLflow has already retried, within the bound set
    by ``bound_http_wait``) raises ``TrackingUnavailable`` naming the server.
    """
    for attempt in range(attempts):
        try:
            with interrupts.held():  # Ctrl-C / SIGTERM raise after the call, not inside it
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
    with exclusive(db.parent / f"{db.name}.lock"):
        yield


@functools.cache
def client(uri: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> MlflowClient:
    """A client for the (already resolved) tracking URI, its store ready to use.

    A SQLite store is created (or migrated) under a file lock, so concurrent first starts are
    safe; a server that does not answer within ``timeout_s`` raises ``TrackingUnavailable``.
    One client per URI and process (cached): a sweep worker's jobs share it instead of each
    locking and checking the store again (an error is not cached; the next call retries).
    """
    if uri.startswith(("http://", "https://")):
        bound_http_wait(timeout_s)
    db = sqlite_path(uri)
    if db is None:
        return MlflowClient(tracking_uri=uri)
    # the client's constructor creates and migrates the store: under the lock, and not stopped
    # half-way by Ctrl-C (an interrupted migration leaves the store unusable)
    with _store_lock(db), interrupts.held():
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
