"""One MLflow run written through explicit, batched and retried client calls (``Run``), and
its stand-in when tracking is off (``NoRun``)."""

import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

from initreg.tracking.model import save_network_model
from initreg.tracking.store import retry

MAX_BATCH = 1000  # MLflow's limit of metrics (and of all entries) per log_batch call
MAX_TAGS = 100  # MLflow's limit of tags per log_batch call


class Run:
    """One MLflow run, written through explicit, batched and retried client calls."""

    def __init__(self, mlflow: MlflowClient, run_id: str, flush_every: int = MAX_BATCH,
                 flush_seconds: float | None = None):
        """``flush_every``: buffered metric points that trigger a batched write (<= MAX_BATCH);
        ``flush_seconds``: also written once the oldest buffered point has waited this long."""
        self.mlflow, self.run_id = mlflow, run_id
        self.flush_every = min(flush_every, MAX_BATCH)
        self.flush_seconds = flush_seconds
        self._metrics: list[Metric] = []
        self._tags: dict[str, RunTag] = {}
        self._oldest = 0.0  # time.monotonic() of the oldest buffered point

    @classmethod
    def start(cls, mlflow: MlflowClient, experiment: str, name: str,
              parent_id: str | None = None, tags: Mapping[str, str] | None = None,
              flush_every: int = MAX_BATCH, flush_seconds: float | None = None) -> "Run":
        """Create a RUNNING run, a child of ``parent_id`` when given; ``flush_every``,
        ``flush_seconds``: when buffered metrics are written (see ``Run``)."""
        # strings only: the REST store (a tracking server) refuses other types, None included
        all_tags = {MLFLOW_RUN_NAME: name,
                    **{k: str(v) for k, v in (tags or {}).items() if v is not None}}
        if parent_id:
            all_tags[MLFLOW_PARENT_RUN_ID] = parent_id
        run = retry(mlflow.create_run, experiment, tags=all_tags, run_name=name)
        started = cls(mlflow, run.info.run_id, flush_every, flush_seconds)
        started.experiment_id = experiment
        return started

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Params as strings, 100 a call (MLflow's limit)."""
        items = [Param(k, str(v)) for k, v in params.items()]
        for i in range(0, len(items), 100):
            retry(self.mlflow.log_batch, self.run_id, params=items[i:i + 100])

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Tags in one call (values as strings, cut to MLflow's length limit); a value of the
        same tag buffered by :meth:`add_tags` is dropped: this one is the newer."""
        items = _tags(tags)
        for tag in items:  # else the next flush (a failing run's end) would overwrite it
            self._tags.pop(tag.key, None)
        if items:
            retry(self.mlflow.log_batch, self.run_id, tags=items)

    def add_tags(self, tags: Mapping[str, Any]) -> None:
        """Buffer tags (as :meth:`set_tags` writes them), written with the next batch of
        metrics (:meth:`flush`, at the latest when the run ends): one write fewer than
        :meth:`set_tags` where they need not show before then."""
        self._tags.update((tag.key, tag) for tag in _tags(tags))

    def add_metric(self, key: str, value: float, step: int = 0) -> None:
        """Buffer one metric point; written in a batch once ``flush_every`` points wait or the
        oldest has waited ``flush_seconds``."""
        if not self._metrics:
            self._oldest = time.monotonic()
        self._metrics.append(Metric(key, float(value), int(time.time() * 1000), step))
        if len(self._metrics) >= self.flush_every or (
                self.flush_seconds is not None
                and time.monotonic() - self._oldest >= self.flush_seconds):
            self.flush()

    def add_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        """Buffer several metrics at one step."""
        for k, v in metrics.items():
            self.add_metric(k, v, step)

    def flush(self) -> None:
        """Write buffered tags and metrics, within MLflow's limits per call."""
        while self._metrics or self._tags:
            tags = list(self._tags.values())[:MAX_TAGS]
            room = MAX_BATCH - len(tags)
            batch, rest = self._metrics[:room], self._metrics[room:]
            retry(self.mlflow.log_batch, self.run_id, metrics=batch, tags=tags)
            self._metrics = rest
            for tag in tags:
                del self._tags[tag.key]

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


def _tags(tags: Mapping[str, Any]) -> list[RunTag]:
    """``tags`` as MLflow's: values as strings cut to its length limit, None left out."""
    return [RunTag(k, str(v)[:5000]) for k, v in tags.items() if v is not None]


class NoRun:
    """Stands in for a :class:`Run` when tracking is off (``tracking.enabled=false``): every
    call is accepted and does nothing."""

    run_id = None

    def __getattr__(self, name):
        return lambda *args, **kwargs: None
