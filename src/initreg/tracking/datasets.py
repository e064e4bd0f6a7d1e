"""A data set's splits as a run's MLflow dataset inputs (the UI's Dataset column)."""

import hashlib
from collections.abc import Mapping
from typing import Any


def dataset_inputs(ds, name: str, source: Mapping[str, Any]) -> list:
    """The train, dev and test splits of ``ds`` as MLflow dataset inputs (context ``train``,
    ``dev``, ``test``), each with its size (``profile``), its schema and a digest of every
    value; ``source``: how the data is made (the loader and its arguments)."""
    import mlflow.data
    from mlflow.data.code_dataset_source import CodeDatasetSource
    from mlflow.entities import Dataset as DatasetEntity
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    inputs = []
    for split in ("train", "dev", "test"):
        X, Y = ds.split(split)
        digest = hashlib.sha256(X.tobytes() + Y.tobytes() + str(X.shape).encode()).hexdigest()
        # rows are examples, as MLflow (and the logged model's input) expects
        spec = mlflow.data.from_numpy(X.T, targets=Y.ravel(), name=name, digest=digest[:8],
                                      source=CodeDatasetSource({k: str(v)
                                                                for k, v in source.items()}))
        inputs.append(DatasetInput(DatasetEntity(**spec.to_dict()),
                                   tags=[InputTag(MLFLOW_DATASET_CONTEXT, split)]))
    return inputs
