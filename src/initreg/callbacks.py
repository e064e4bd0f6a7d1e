"""Hydra callbacks: the sweep's MLflow parent run, created once in the submitting process.

``on_multirun_start`` runs before any job: it creates the store, the experiment and the parent
run, so parallel workers never race to migrate a fresh SQLite store or to create the experiment,
and writes ``mlflow_parent.json`` into the sweep directory, which every job finds through its
own config (``hydra.sweep.dir``), under any launcher. Hydra skips ``on_multirun_end`` when a job
raised, so the parent is also closed by an ``atexit`` hook; both paths are idempotent.
"""

import atexit
import json
import logging
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from initreg import tracking
from initreg.summary import close_sweep

log = logging.getLogger(__name__)
PARENT_FILE = "mlflow_parent.json"


def experiment_name(cfg) -> str:
    """``tracking.experiment``, defaulting to the data set's name."""
    return cfg.tracking.experiment or cfg.data.name


def read_parent(sweep_dir: str | Path) -> dict | None:
    """The parent run written for this sweep directory, if any."""
    path = Path(sweep_dir) / PARENT_FILE
    return json.loads(path.read_text()) if path.exists() else None


class SweepCallback(Callback):
    """Owns a multirun's MLflow parent run."""

    def __init__(self) -> None:
        self._parent: dict | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        if not config.tracking.enabled:
            return
        uri = tracking.resolve_uri(config.tracking.uri)
        mlflow = tracking.client(uri)
        exp = tracking.experiment_id(mlflow, experiment_name(config), uri)
        sweep_dir = Path(str(config.hydra.sweep.dir)).resolve()
        overrides = list(config.hydra.overrides.task)
        run = tracking.Run.start(mlflow, exp, f"sweep {sweep_dir.name}", tags={
            "sweep": "true",
            "sweep_overrides": " ".join(overrides),
            "hydra_sweep_dir": str(sweep_dir),
            "git_commit": tracking.git_commit(),
        })
        self._parent = {"tracking_uri": uri, "experiment_id": exp, "run_id": run.run_id}
        sweep_dir.mkdir(parents=True, exist_ok=True)
        (sweep_dir / PARENT_FILE).write_text(json.dumps(self._parent, indent=2))
        log.info("sweep parent run %s in experiment %r (%s)", run.run_id,
                 experiment_name(config), uri)
        atexit.register(self._finish)

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        self._finish(job_raised=False)

    def _finish(self, job_raised: bool = True) -> None:
        """Close the parent; reached through atexit alone only when a job raised."""
        if self._parent is None:
            return
        parent, self._parent = self._parent, None
        close_sweep(parent, job_raised=job_raised)


def job_parent(cfg) -> dict | None:
    """The parent run of the multirun this job belongs to (None for a single run)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hc = HydraConfig.get()
    if hc.mode != RunMode.MULTIRUN:
        return None
    return read_parent(Path(str(hc.sweep.dir)).resolve())



