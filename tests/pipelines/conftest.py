"""Fixtures for pipeline tests."""

import pytest

from initreg import tracking


@pytest.fixture
def store(tmp_path):
    """An MLflow client on the temporary store that run_pipeline writes to (created now, under
    the store's lock, so no test races a pipeline to create it)."""
    return tracking.client(tracking.resolve_uri(f"sqlite:///{tmp_path}/mlruns/mlflow.db"))
