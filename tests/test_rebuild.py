"""Rebuilding a run from its stored config.yaml: initreg's own loaders and model, plain values."""

import copy
import sys
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from initreg import job
from initreg.rebuild import LOADERS, MODELS, RebuildError, rebuild

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "pipelines"))
from pipeline_utils import compose_cfg  # noqa: E402

OVERRIDES = ["data=circles", "model=mlp", "model.depth=3", "model.width=6", "init=random",
             "init.scale=0.5", "reg.lambd=0.1", "data.train_fraction=0.5", "seed=4"]


@pytest.fixture(scope="module")
def stored():
    """A run's resolved config, as job.run_job writes it to config.yaml."""
    cfg = compose_cfg(OVERRIDES)
    return cfg, OmegaConf.to_container(cfg, resolve=True)


def test_the_rebuilt_model_and_data_are_the_jobs_own(stored):
    cfg, config = stored
    model, ds = rebuild(config)
    want_model, want_ds = job.build_model(cfg), job.load_data(cfg)
    assert model.layer_dims == want_model.layer_dims == [2, 6, 6, 6, 1]
    assert model.params.keys() == want_model.params.keys()
    for k, v in want_model.params.items():
        np.testing.assert_array_equal(model.params[k], v)
    assert (model.lambd, model.seed) == (0.1, 4)
    np.testing.assert_array_equal(ds.X_train, want_ds.X_train)  # the same stratified half
    assert ds.X_train.shape[1] == 150


def test_every_initreg_loader_and_the_network_are_allowed():
    assert set(LOADERS) == {"initreg.data.load_circles", "initreg.data.load_football",
                            "initreg.data.load_fraud", "initreg.data.load_moons"}
    assert set(MODELS) == {"initreg.nn.Network", "initreg.nn.network.Network"}


def changed(config, path, value):
    out = copy.deepcopy(config)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node[key]
    node[last] = value
    return out


@pytest.mark.parametrize(("path", "value", "message"), [
    ("data.loader", {"_target_": "builtins.open", "file": "x", "mode": "w"},
     r"^data\.loader\._target_='builtins\.open' is not rebuilt from a stored config; allowed: "
     r"initreg\.data\.load_circles, "),
    ("model._target_", "os.system", r"^model\._target_='os\.system' is not rebuilt"),
    ("model._target_", "planted.DoubledW1Net", r"^model\._target_='planted\.DoubledW1Net' is"),
    ("data.loader.split_seed", {"_target_": "builtins.open", "file": "x", "mode": "w"},
     r"^data\.loader\.split_seed is a nested object; a stored config is rebuilt from plain "
     r"values only$"),
    ("model.layer_dims", [2, {"_target_": "builtins.eval", "source": "1"}, 1],
     r"^model\.layer_dims is a nested object"),
    ("data.loader._partial_", True, r"^data\.loader: initreg\.data\.load_circles is not rebuilt "
     r"with _partial_; allowed: split_seed$"),
    ("model.init", "zeros", r"^model: initreg\.nn\.Network is not rebuilt with init;"),
    ("seed", {"_target_": "builtins.open"}, r"^seed is a nested object"),
    ("data", "circles", r"^the stored config has no data\.loader$"),
])
def test_anything_else_is_refused_in_one_line(stored, path, value, message):
    with pytest.raises(RebuildError, match=message) as err:
        rebuild(changed(stored[1], path, value))
    assert "\n" not in str(err.value)


def test_a_refused_target_is_never_called(stored, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    for path in ("data.loader", "model"):
        evil = changed(stored[1], path, {"_target_": "builtins.open", "file": str(victim),
                                         "mode": "w"})
        with pytest.raises(RebuildError):
            rebuild(evil)
    assert victim.read_text() == "keep me"
