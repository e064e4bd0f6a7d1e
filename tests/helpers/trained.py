"""A temporary MLflow store with one run that logged a (briefly) trained network as its model."""

import numpy as np
from stores import new_store

from initreg import tracking
from initreg.data import load_football
from initreg.nn import Network, train


def trained_run(tmp_path, name="he l0 kp1"):
    """A run of a temporary store that logged a (briefly) trained network as its model."""
    client = new_store(tmp_path / "mlflow.db")
    uri = client.tracking_uri
    exp = tracking.experiment_id(client, "football", uri)
    ds = load_football()
    net = Network([2, 20, 3, 1], init="he", seed=0)
    train(net, ds.X_train, ds.Y_train, learning_rate=0.3, num_iterations=300)
    np.savez(tmp_path / "model.npz", **net.params)
    run = tracking.Run.start(client, exp, name)
    model_id = run.log_model(tmp_path / "model.npz", ds.X_dev.T[:5], params={"init.name": "he"})
    run.end()
    return uri, client, run.run_id, model_id, net, ds
