"""The trained network as an MLflow model: logged through the run's client alone, loaded with
``mlflow.pyfunc.load_model`` in a fresh process that predicts with the shipped NumPy code."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from stores import new_store
from trained import trained_run

from initreg import tracking
from initreg.data import load_football
from initreg.mlflow_model import network_from_weights


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    return trained_run(tmp_path_factory.mktemp("model"))


@pytest.fixture
def store_uri(logged):
    """MLflow's global tracking URI on the store, for the fluent calls (load_model and the
    artifact downloads resolve `runs:/` through it alone), reset afterwards."""
    import mlflow

    mlflow.set_tracking_uri(logged[0])
    yield logged[0]
    mlflow.set_tracking_uri(None)


FRESH = textwrap.dedent("""
    import json, sys
    import mlflow, numpy as np, pandas as pd
    mlflow.set_tracking_uri(sys.argv[1])
    model = mlflow.pyfunc.load_model(f"runs:/{sys.argv[2]}/model")
    X = np.load(sys.argv[3])
    import initreg
    print(json.dumps({
        "labels": model.predict(X).tolist(),
        "frame": model.predict(pd.DataFrame(X)).tolist(),
        "proba": model.predict(X, params={"output": "probability"}).tolist(),
        "initreg": initreg.__file__,
    }))
""")


def test_a_fresh_process_loads_the_runs_model_and_predicts_like_the_network(logged, tmp_path):
    uri, _, run_id, _, net, ds = logged
    np.save(tmp_path / "X.npy", ds.X_dev.T)  # rows: one example each
    # a new interpreter, started elsewhere, without this checkout on its path
    proc = subprocess.run([sys.executable, "-c", FRESH, uri, run_id, str(tmp_path / "X.npy")],
                          cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["labels"] == net.predict(ds.X_dev).ravel().tolist()
    assert out["frame"] == out["labels"]
    np.testing.assert_allclose(out["proba"], net.predict_proba(ds.X_dev).ravel(), rtol=1e-12)
    # the forward pass came with the model (its code/ folder), not from an installed initreg
    assert "/code/initreg/" in out["initreg"]


def test_the_model_is_listed_as_the_runs_output_with_a_signature_and_no_pickle(logged, store_uri,
                                                                              tmp_path):
    _, client, run_id, model_id, _, _ = logged
    run = client.get_run(run_id)
    assert [o.model_id for o in run.outputs.model_outputs] == [model_id]
    model = client.get_logged_model(model_id)
    assert model.name == "model" and model.source_run_id == run_id
    assert str(model.status) in ("READY", "LoggedModelStatus.READY")
    assert model.params == {"init.name": "he"}
    import mlflow

    folder = Path(mlflow.artifacts.download_artifacts(f"runs:/{run_id}/model",
                                                      dst_path=str(tmp_path)))
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert "artifacts/model.npz" in files and "mlflow_model.py" in files
    assert "code/initreg/nn/network.py" in files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".cloudpickle"))]
    info = mlflow.models.get_model_info(f"runs:/{run_id}/model")
    assert info.signature.inputs.to_dict() == [{"type": "tensor", "tensor-spec":
                                                {"dtype": "float64", "shape": (-1, 2)}}]
    assert "input_example.json" in files


def test_rows_of_the_wrong_width_are_refused(logged, store_uri):
    import mlflow

    model = mlflow.pyfunc.load_model(f"runs:/{logged[2]}/model")
    with pytest.raises(Exception, match="shape"):
        model.predict(np.zeros((3, 5)))
    with pytest.raises(Exception, match="output"):
        model.predict(np.zeros((3, 2)), params={"output": "logits"})


def test_weights_that_are_not_a_chain_of_layers_are_refused():
    with pytest.raises(ValueError, match="W1, b1"):
        network_from_weights({"W1": np.zeros((3, 2)), "b2": np.zeros((3, 1))})
    with pytest.raises(ValueError, match="b1 has shape"):
        network_from_weights({"W1": np.zeros((1, 2)), "b1": np.zeros((2, 1))})
    net = network_from_weights({"W1": np.ones((1, 2)), "b1": np.zeros((1, 1))})
    assert net.layer_dims == [2, 1]
    assert net.predict(np.array([[1.0], [1.0]])).tolist() == [[1.0]]


def test_a_run_without_a_model_has_none(tmp_path):
    uri = new_store(tmp_path / "mlflow.db").tracking_uri
    client = MlflowClient(tracking_uri=uri)
    exp = tracking.experiment_id(client, "x", uri)
    run = tracking.Run.start(client, exp, "no model")
    assert tracking.logged_model(client, exp, run.run_id) is None


def test_data_splits_are_logged_as_dataset_inputs_with_their_context(tmp_path):
    client = new_store(tmp_path / "mlflow.db")
    uri = client.tracking_uri
    exp = tracking.experiment_id(client, "football", uri)
    ds = load_football()
    run = tracking.Run.start(client, exp, "he l0 kp1")
    run.log_inputs(tracking.dataset_inputs(ds, "football", {"_target_": "load_football"}))
    inputs = client.get_run(run.run_id).inputs.dataset_inputs
    by_context = {i.tags[0].value: i.dataset for i in inputs}
    assert sorted(by_context) == ["dev", "test", "train"]
    for split, d in by_context.items():
        X, _ = ds.split(split)
        assert d.name == "football" and len(d.digest) == 8
        assert json.loads(d.profile)["features_shape"] == [X.shape[1], X.shape[0]]
        assert json.loads(d.source) == {"tags": {"_target_": "load_football"}}
    assert len({d.digest for d in by_context.values()}) == 3
    # the same splits again: the same digests (MLflow's dataset filter relies on it)
    again = tracking.dataset_inputs(ds, "football", {"_target_": "load_football"})
    assert [i.dataset.digest for i in again] == [by_context[s].digest
                                                 for s in ("train", "dev", "test")]


def test_a_frame_with_named_columns_predicts_too(logged, store_uri):
    import mlflow

    _, _, run_id, _, net, ds = logged
    model = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    frame = pd.DataFrame(ds.X_test.T, columns=["x1", "x2"])
    assert model.predict(frame).tolist() == net.predict(ds.X_test).ravel().tolist()
