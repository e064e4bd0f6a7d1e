"""Fixtures for pipeline tests."""

import pytest
from mlflow.tracking import MlflowClient


@pytest.fixture
def store(tmp_path):
    """An MLflow client on the temporary store that run_pipeline writes to."""
    return MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlruns/mlflow.db")
