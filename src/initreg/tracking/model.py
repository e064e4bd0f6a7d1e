"""initreg's ``Network`` saved as an MLflow pyfunc model (:mod:`initreg.mlflow_model`), its
code and requirements given, MLflow's own console lines kept quiet."""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

PACKAGE = Path(__file__).parent.parent  # initreg/, whose __init__.py and nn/ the model carries
MODEL_CODE = PACKAGE / "mlflow_model.py"  # the pyfunc, logged as code


def save_network_model(path: Path, weights: Path, input_example, logged=None,
                       run_id: str | None = None) -> None:
    """Save the pyfunc of :mod:`initreg.mlflow_model` into ``path`` (a new folder): the weights
    as its artifact, initreg's ``nn`` package as its code, a tensor signature ``(-1, n_x)``
    float64 -> ``(-1,)`` and ``input_example`` (rows) beside it; ``logged``: the LoggedModel it
    will be uploaded to (its id and location go into the MLmodel file, as ``log_model`` does).

    The requirements are given, not inferred (inference imports the model in a subprocess:
    seconds per run).
    """
    import mlflow.pyfunc
    import numpy as np
    import threadpoolctl
    from mlflow.models import Model, ModelSignature
    from mlflow.types import ParamSchema, ParamSpec, Schema, TensorSpec

    example = np.asarray(input_example, dtype=np.float64)
    signature = ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.float64), (-1, example.shape[1]))]),
        outputs=Schema([TensorSpec(np.dtype(np.float64), (-1,))]),
        params=ParamSchema([ParamSpec("output", "string", "label")]))
    meta = None if logged is None else Model(
        artifact_path=logged.artifact_location, model_uuid=logged.model_id, run_id=run_id,
        model_id=logged.model_id)
    with tempfile.TemporaryDirectory(prefix="initreg-code-") as code, _quiet_mlflow():
        package = Path(code) / "initreg"  # initreg/__init__.py and initreg/nn, nothing else
        shutil.copytree(PACKAGE / "nn", package / "nn",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(PACKAGE / "__init__.py", package / "__init__.py")
        mlflow.pyfunc.save_model(
            str(path), python_model=str(MODEL_CODE), artifacts={"weights": str(weights)},
            code_paths=[str(package)], signature=signature, input_example=example,
            mlflow_model=meta,
            pip_requirements=[f"mlflow=={mlflow.__version__}", f"numpy=={np.__version__}",
                              f"threadpoolctl=={threadpoolctl.__version__}"])


@contextmanager
def _quiet_mlflow():
    """MLflow's INFO lines and artifact progress bars off while the block runs: a sweep's
    console is no place for "Validating input example against model signature" per job."""
    import logging

    logger = logging.getLogger("mlflow")
    level, bar = logger.level, os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR")
    logger.setLevel(logging.WARNING)
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    try:
        yield
    finally:
        logger.setLevel(level)
        if bar is None:
            os.environ.pop("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", None)
        else:
            os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = bar
