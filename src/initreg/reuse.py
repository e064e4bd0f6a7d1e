"""The runs a resumed sweep reuses: FINISHED runs of earlier sweeps that held its configs.

    ids = reused_ids(job_records(sweep_dir), children)   # at the sweep's close, from the jobs
    record(mlflow, parent_id, ids)                       # the parent's artifact reused_runs.json
    found = sweep_runs(client, parent_id)                # the report: children + reused runs

With ``resume=true`` a job whose config a FINISHED run already holds is skipped, and its outcome
file names that run (``reused_run_id``). The sweep is still about every configuration it
planned, so the runs it reused count beside its children in its summary, its parent's aggregate
metrics, its selection and its report. The ids are kept as a JSON artifact on the parent run
(a tag is cut at 5000 characters: a 135-job sweep's ids do not fit); only run ids are read back,
each checked to look like one. A reused run deleted since is left out and named.
"""

import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mlflow.exceptions import MlflowException

from initreg import tracking

REUSED_FILE = "reused_runs.json"  # on the parent run: {"run_ids": [...]}
PROGRESS_BAR = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
RUN_ID = re.compile(r"[A-Za-z0-9][\w-]{0,255}")  # MLflow's own rule for a run id


def reused_ids(records: Iterable[dict], children: Iterable) -> list[str]:
    """The ``reused_run_id`` of the sweep's job ``records`` (``initreg_job.json``), in order and
    once each, without the sweep's own ``children`` (runs)."""
    own = {r.info.run_id for r in children}
    ids = [rec.get("reused_run_id") for rec in records if rec.get("status") == "skipped"]
    return list(dict.fromkeys(i for i in ids if isinstance(i, str) and RUN_ID.fullmatch(i)
                              and i not in own))


def record(mlflow, parent_id: str, ids: Sequence[str]) -> None:
    """``ids`` as the parent run's artifact :data:`REUSED_FILE` (nothing when there are none)."""
    if ids:
        tracking.retry(mlflow.log_text, parent_id, json.dumps({"run_ids": list(ids)}, indent=1),
                       REUSED_FILE)


def recorded_ids(client, parent_id: str) -> list[str]:
    """The run ids :func:`record` left on ``parent_id`` ([] when none, or unreadable); anything
    that is not a run id is dropped. Downloaded only when the parent has the file, and without
    MLflow's progress bar (the report's console is for the report)."""
    try:
        names = {a.path for a in tracking.retry(client.list_artifacts, parent_id)}
    except MlflowException:
        return []
    if REUSED_FILE not in names:
        return []
    with tempfile.TemporaryDirectory(prefix="initreg-") as tmp, _no_progress_bar():
        try:
            path = tracking.retry(client.download_artifacts, parent_id, REUSED_FILE, tmp)
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (MlflowException, OSError, ValueError):  # unreadable, or not JSON
            return []
    ids = data.get("run_ids") if isinstance(data, dict) else None
    return [i for i in ids if isinstance(i, str) and RUN_ID.fullmatch(i)] \
        if isinstance(ids, list) else []


@contextmanager
def _no_progress_bar():
    """MLflow's artifact progress bar off for one download (its switch is an environment
    variable, read at each download), as it was after."""
    before = os.environ.get(PROGRESS_BAR)
    os.environ[PROGRESS_BAR] = "false"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(PROGRESS_BAR, None)
        else:
            os.environ[PROGRESS_BAR] = before


def fetch(client, ids: Iterable[str]) -> tuple[list, list[str]]:
    """(the runs of ``ids`` still in the store, the ids that are not: deleted or gone)."""
    found, missing = [], []
    for run_id in ids:
        try:
            run = tracking.retry(client.get_run, run_id)
        except MlflowException:  # RESOURCE_DOES_NOT_EXIST: deleted for good (`mlflow gc`)
            run = None
        if run is None or run.info.lifecycle_stage != "active":
            missing.append(run_id)
        else:
            found.append(run)
    return found, missing


@dataclass(frozen=True)
class SweepRuns:
    """A sweep's runs: its children, the runs it reused, and the reused ids no longer there."""

    children: list
    reused: list = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def all(self) -> list:
        """The children, then the reused runs: every run the sweep is about."""
        return [*self.children, *self.reused]

    @property
    def reused_ids(self) -> set[str]:
        return {r.info.run_id for r in self.reused}


def sweep_runs(client, parent_id: str, experiment_id: str | None = None) -> SweepRuns:
    """The children of the sweep ``parent_id`` and the runs it reused (:func:`recorded_ids`)."""
    exp = experiment_id or tracking.retry(client.get_run, parent_id).info.experiment_id
    kids = tracking.children(client, exp, parent_id)
    own = {r.info.run_id for r in kids}
    found, missing = fetch(client, [i for i in recorded_ids(client, parent_id) if i not in own])
    return SweepRuns(kids, found, missing)
