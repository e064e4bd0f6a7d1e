"""Fixtures for pipeline tests."""

import pytest
from stores import new_store


@pytest.fixture
def store(tmp_path):
    """A client on the (empty, migrated) temporary store that run_pipeline writes to."""
    return new_store(tmp_path / "mlruns" / "mlflow.db")
