"""A sweep's selected model in the Model Registry: ``initreg-<data set>`` at alias champion."""

import json

import mlflow
import pytest
from trained import trained_run

from initreg import registry, tracking


@pytest.fixture
def store(tmp_path):
    uri, client, run_id, model_id, net, ds = trained_run(tmp_path)
    mlflow.set_tracking_uri(uri)  # for load_model("models:/...") below
    yield client, run_id, model_id, net, ds, tmp_path
    mlflow.set_tracking_uri(None)


def test_the_selected_run_becomes_the_champion_of_its_data_set(store):
    client, run_id, model_id, net, ds, _ = store
    version = registry.register_champion(client, "sweep-1", run_id, "football")
    assert version.name == "initreg-football" and str(version.version) == "1"
    assert version.run_id == run_id
    assert version.source == client.get_logged_model(model_id).artifact_location
    # the logged model names its version, so its page in the UI links to the registry
    assert json.loads(client.get_logged_model(model_id).tags["mlflow.modelVersions"]) == \
        [{"name": "initreg-football", "version": "1"}]
    assert version.tags["sweep_id"] == "sweep-1" and version.tags["run_name"] == "he l0 kp1"
    champion = client.get_model_version_by_alias("initreg-football", "champion")
    assert str(champion.version) == "1"
    loaded = mlflow.pyfunc.load_model("models:/initreg-football@champion")
    assert loaded.predict(ds.X_dev.T).tolist() == net.predict(ds.X_dev).ravel().tolist()


def test_registering_again_reuses_the_version_and_a_new_champion_moves_the_alias(store):
    client, run_id, _, _, _, tmp_path = store
    first = registry.register_champion(client, "sweep-1", run_id, "football")
    assert str(registry.register_champion(client, "sweep-1", run_id, "football").version) == \
        str(first.version)
    _, _, other, _, _, _ = trained_run(tmp_path, name="he l0.7 kp1")  # the same store
    second = registry.register_champion(client, "sweep-2", other, "football")
    assert str(second.version) == "2"
    assert client.get_model_version_by_alias("initreg-football", "champion").run_id == other
    assert len(client.search_model_versions("name = 'initreg-football'")) == 2


def test_the_data_set_defaults_to_the_runs_data_name_and_the_line_says_what_was_done(store):
    client, run_id, *_ = store
    client.log_param(run_id, "data.name", "moons")
    line = registry.register(client, "sweep-1", run_id)
    assert line == ("registered initreg-moons version 1 (alias champion): "
                    "mlflow.pyfunc.load_model('models:/initreg-moons@champion')")


def test_a_run_without_a_model_is_not_registered(store):
    client, run_id, *_ = store
    exp = client.get_run(run_id).info.experiment_id
    bare = tracking.Run.start(client, exp, "no model")
    assert registry.register_champion(client, "sweep-1", bare.run_id, "football") is None
    assert registry.register(client, "sweep-1", bare.run_id) == \
        f"not registered: run {bare.run_id} logged no MLflow model"
    assert client.search_registered_models() == []
