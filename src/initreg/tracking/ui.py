"""What MLflow's UI shows of a run beyond its numbers: its Source, Version and User tags, its
description (``NOTE_TAG``), and the links to its page and its experiment's table."""

import os
import subprocess
from pathlib import Path

NOTE_TAG = "mlflow.note.content"  # a run's description in the UI (Markdown)


def git_commit(cwd: Path | None = None) -> str | None:
    """The checkout's HEAD commit, or None outside git."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


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
