"""A job's life around its run: the sweep it belongs to, its outcome, its claim, its watch.

- ``mlflow_parent.json`` (written by the sweep's callback into ``hydra.sweep.dir``) tells every
  job of a sweep its parent run, under any launcher;
- ``initreg_job.json`` (written by each job into its own Hydra folder) records how the job
  ended, so the sweep's summary lists every job even when the store is out of reach;
- with ``resume=true`` a run is the claim on its config (``rival_run``);
- in a worker process, :class:`SubmitterWatch` ends the job when the submitter dies.
"""

import json
import logging
import math
import os
import signal
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from initreg import doctor, tracking

log = logging.getLogger("initreg.train")
PARENT_FILE = "mlflow_parent.json"  # written by the sweep's callback into hydra.sweep.dir
STATUS_FILE = "initreg_job.json"  # each job's outcome, in its own Hydra output folder
WATCH_EVERY_S = 0.5  # how often a sweep's worker checks that its submitting process lives


def read_parent(sweep_dir: str | Path) -> dict | None:
    """The parent run written for this sweep directory, if any."""
    path = Path(sweep_dir) / PARENT_FILE
    return json.loads(path.read_text()) if path.exists() else None


def in_sweep() -> bool:
    """Whether this job runs as part of a Hydra multirun."""
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def job_parent(cfg) -> dict | None:
    """The parent run of the multirun this job belongs to (None for a single run)."""
    if not in_sweep():
        return None
    return read_parent(Path(str(HydraConfig.get().sweep.dir)).resolve())


def overrides_text() -> str:
    """The job's Hydra overrides as one string ("" outside Hydra)."""
    if not HydraConfig.initialized():
        return ""
    return " ".join(HydraConfig.get().overrides.task)


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended: ``FINISHED``, ``FAILED``, ``KILLED`` or ``skipped``, with its run.

    A job skipped by ``resume`` because a FINISHED run already holds its config names that run
    as ``reused_run_id``: the sweep reuses it (its summary and report count it as the job's run).
    """

    status: str
    dev_accuracy: float = math.nan
    run_id: str | None = None
    reason: str = ""
    reused_run_id: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in ("FAILED", "KILLED")


def write_status(name: str, outcome: JobOutcome) -> None:
    """The job's outcome as ``initreg_job.json`` in its Hydra output folder (when under Hydra).

    The sweep's summary reads these files, so it can list every job even when the tracking
    store is out of reach.
    """
    if not HydraConfig.initialized():
        return
    folder = Path(HydraConfig.get().runtime.output_dir)
    record = {"name": name, "overrides": overrides_text(), **asdict(outcome),
              "worker": f"{socket.gethostname()}:{os.getpid()}"}  # the sweep's time estimate
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / STATUS_FILE).write_text(json.dumps(record, indent=2, default=str))
    except OSError as err:
        log.warning("could not write %s: %s", folder / STATUS_FILE, err)


class SubmitterWatch:
    """In a sweep's worker process: when the submitting process dies, the worker dies too.

    Loky workers outlive a submitter killed by SIGKILL: they would finish their jobs unseen and
    then idle for minutes. One thread per worker process (started with its first job, kept for
    the process's life) checks every ``WATCH_EVERY_S`` that the submitter (``parent
    ["submitter"]``: host, pid, start time) lives. When it is gone, the thread ends the sweep's
    parent run KILLED, sends a running job SIGTERM (which ends its run KILLED from inside) and
    waits for it, then exits the process.
    """

    _by_submitter: dict[str, "SubmitterWatch"] = {}  # one watch per process and submitter

    def __init__(self, parent: dict):
        self.parent = parent
        self.busy = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        threading.Thread(target=self._watch, name="initreg-submitter-watch", daemon=True).start()

    @classmethod
    def of(cls, parent: dict | None) -> "SubmitterWatch | None":
        """The watch for this process, or None where nothing is to be watched: a single run,
        the submitting process itself, a submitter on another host."""
        submitter = (parent or {}).get("submitter")
        if not submitter or str(submitter.get("pid")) == str(os.getpid()) or \
                doctor.process_gone(submitter) is None:
            return None
        key = f"{submitter.get('pid')}:{submitter.get('pid_started')}"
        if key not in cls._by_submitter:
            cls._by_submitter[key] = cls(parent)
        return cls._by_submitter[key]

    @contextmanager
    def job(self):
        """Mark a job as running in this process while the block runs."""
        self.idle.clear()
        self.busy.set()
        try:
            yield
        finally:
            self.busy.clear()
            self.idle.set()

    def _watch(self) -> None:
        while not doctor.process_gone(self.parent["submitter"]):
            time.sleep(WATCH_EVERY_S)
        log.warning("the sweep's submitting process %s is gone: this worker stops",
                    self.parent["submitter"].get("pid"))
        self._end_parent()
        if self.busy.is_set():
            os.kill(os.getpid(), signal.SIGTERM)
            self.idle.wait(30)
        os._exit(143)

    def _end_parent(self) -> None:
        try:
            mlflow = tracking.client(self.parent["tracking_uri"], self.parent.get("timeout_s", 60))
            if tracking.retry(mlflow.get_run, self.parent["run_id"]).info.status == "RUNNING":
                parent = tracking.Run(mlflow, self.parent["run_id"])
                parent.set_tags({"failure_reason": "interrupted",
                                 "error_message": "its submitting process died"})
                parent.end("KILLED")
        except Exception as err:  # the worker must still stop
            log.error("could not end the sweep's parent run: %s", err)


@contextmanager
def die_with_submitter(parent: dict | None):
    """Run the block as a job watched by this process's :class:`SubmitterWatch` (if any)."""
    watch = SubmitterWatch.of(parent)
    if watch is None:
        yield
        return
    with watch.job():
        yield


def rival_run(mlflow, exp: str, config_hash: str, mine: str):
    """Another run (the MLflow run) that holds ``config_hash``: FINISHED, or RUNNING, alive and
    older; None when there is none."""
    runs = tracking.search_runs(mlflow, [exp], f"tags.config_hash = '{config_hash}'")
    me = next((r for r in runs if r.info.run_id == mine), None)
    key = (me.info.start_time, mine) if me else (math.inf, mine)
    for r in runs:
        if r.info.run_id == mine:
            continue
        if r.info.status == "FINISHED":
            return r
        alive = doctor.process_gone(r.data.tags) is not True  # unknown counts as alive
        if r.info.status == "RUNNING" and alive and (r.info.start_time, r.info.run_id) < key:
            return r
    return None
