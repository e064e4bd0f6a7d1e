"""The trained network as an MLflow ``pyfunc`` model, logged "from code" (no pickle).

MLflow runs this file when a model is loaded (``mlflow.pyfunc.load_model("runs:/<id>/model")``)
and takes the model that :func:`mlflow.models.set_model` names at the end. The weights are the
run's ``model.npz`` (an artifact of the model, read with ``allow_pickle=False``); the forward
pass is initreg's own NumPy ``Network``, shipped with the model (its ``code/`` folder holds
``initreg/nn``), so a process that has only NumPy, threadpoolctl and MLflow can predict.

Input: one example per **row**, ``(m, n_x)`` float64 (a NumPy array or a DataFrame with the
``n_x`` feature columns), as every pyfunc consumer and MLflow's serving send it; the network
itself works on the course's columns, ``(n_x, m)``, and the model transposes. Output: the 0/1
labels as float64 (as ``Network.predict`` gives them), shape ``(m,)``; with
``params={"output": "probability"}``, P(y = 1 | x) instead.
"""

import mlflow
import numpy as np
from mlflow.pyfunc import PythonModel

OUTPUTS = ("label", "probability")


def network_from_weights(params: dict[str, np.ndarray]):
    """A ``Network`` holding ``params`` (``W1, b1, ..., WL, bL``), its sizes read from them."""
    from initreg.nn import Network

    L = len(params) // 2
    names = [f"{p}{l}" for l in range(1, L + 1) for p in ("W", "b")]  # noqa: E741
    if len(params) % 2 or sorted(names) != sorted(params):
        raise ValueError(f"weights {sorted(params)} are not W1, b1, ..., WL, bL")
    dims = [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]  # noqa: E741
    net = Network(dims, init="zeros")
    for key, value in params.items():
        if value.shape != net.params[key].shape:
            raise ValueError(f"{key} has shape {value.shape}; layer sizes {dims} need "
                             f"{net.params[key].shape}")
        net.params[key] = np.asarray(value, dtype=np.float64)
    return net


class NetworkModel(PythonModel):
    """initreg's ``Network`` behind MLflow's ``predict``; rows in, labels (or P(y = 1)) out."""

    def load_context(self, context) -> None:
        with np.load(context.artifacts["weights"], allow_pickle=False) as f:
            self.network = network_from_weights({k: f[k] for k in f.files})

    # np.ndarray: MLflow validates the input against the logged signature, infers nothing
    def predict(self, context, model_input: np.ndarray, params: dict | None = None):
        X = np.asarray(model_input, dtype=np.float64)
        n_x = self.network.layer_dims[0]
        if X.ndim != 2 or X.shape[1] != n_x:
            raise ValueError(f"model input has shape {X.shape}; expected (m, {n_x}): one "
                             "example per row")
        output = (params or {}).get("output", "label")
        if output not in OUTPUTS:
            raise ValueError(f"output={output!r}; allowed: {', '.join(OUTPUTS)}")
        if output == "probability":
            return self.network.predict_proba(X.T).ravel()
        return self.network.predict(X.T).ravel()


mlflow.models.set_model(NetworkModel())
