"""Every config composes; bad values are refused in one line, before anything is written."""

from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf.errors import ValidationError
from pipeline_utils import CONF, compose_cfg

from initreg.config import ConfigError, validate

GROUP_OPTIONS = [(g, p.stem) for g in ("data", "init", "model", "experiment")
                 for p in sorted((CONF / g).glob("*.yaml"))]


@pytest.mark.parametrize(("group", "option"), GROUP_OPTIONS)
def test_every_config_composes_and_validates(group, option):
    cfg = compose_cfg([f"{group}={option}"])
    validate(cfg, cfg.data.n_features)
    assert cfg.model.layer_dims[0] == cfg.data.n_features


def test_course_presets_carry_the_course_setup():
    init = compose_cfg(["experiment=course_init"])
    assert (init.data.name, init.init.name, list(init.model.layer_dims)) == (
        "circles", "he", [2, 10, 5, 1])
    assert (init.convention, init.seed, init.train.num_iterations) == ("course", 3, 15000)
    reg = compose_cfg(["experiment=course_reg", "reg.keep_prob=0.86"])
    assert (reg.data.name, reg.init.name, list(reg.model.layer_dims)) == (
        "football", "lecun", [2, 20, 3, 1])
    assert reg.reg.keep_prob == 0.86 and reg.train.learning_rate == 0.3


def test_lambd_override_arrives_as_a_float():
    cfg = compose_cfg(["reg.lambd=0"])
    assert isinstance(cfg.reg.lambd, float)


@pytest.mark.parametrize("override", ["reg.unknown=1", "train.learning_rte=0.1", "bogus=1"])
def test_unknown_keys_fail_at_compose_time(override):
    with pytest.raises(ConfigCompositionException):
        compose_cfg([override])


@pytest.mark.parametrize("override", ["reg.keep_prob=abc", "train.num_iterations=1.5"])
def test_wrong_types_fail_at_compose_time(override):
    with pytest.raises((ConfigCompositionException, ValidationError)):
        compose_cfg([override])


BAD_VALUES = [
    ("reg.keep_prob=0", "reg.keep_prob=0.0 is not allowed; allowed: a number in (0, 1]"),
    ("reg.keep_prob=-0.5", "reg.keep_prob=-0.5 is not allowed; allowed: a number in (0, 1]"),
    ("reg.keep_prob=1.5", "reg.keep_prob=1.5 is not allowed; allowed: a number in (0, 1]"),
    ("reg.lambd=-1", "reg.lambd=-1.0 is not allowed; allowed: a number >= 0"),
    ("train.learning_rate=0", "train.learning_rate=0.0 is not allowed; allowed: a number > 0"),
    ("train.learning_rate=-1", "train.learning_rate=-1.0 is not allowed; allowed: a number > 0"),
    ("train.num_iterations=0", "train.num_iterations=0 is not allowed; allowed: an integer >= 1"),
    ("model.layer_dims=[]", "model.layer_dims=[] is not allowed"),
    ("model.layer_dims=[2,0,1]", "model.layer_dims=[2, 0, 1] is not allowed"),
    ("model.layer_dims=[3,5,1]", "a first size equal to the data's feature count (2 for football)"),
    ("init.name=glorot", "init.name='glorot' is not allowed; allowed: zeros, random, he"),
    ("gradcheck.mode=fast", "gradcheck.mode='fast' is not allowed; allowed: full, directional"),
    ("gradcheck.epsilon=0", "gradcheck.epsilon=0.0 is not allowed; allowed: a number > 0"),
    ("gradcheck.epsilon=-1e-7", "gradcheck.epsilon=-1e-07 is not allowed"),
]


@pytest.mark.parametrize(("override", "message"), BAD_VALUES)
def test_bad_values_are_refused_with_one_line(override, message):
    cfg = compose_cfg([override])
    with pytest.raises(ConfigError) as err:
        validate(cfg, cfg.data.n_features)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_config_dir_is_the_one_the_pipeline_uses():
    assert (Path(CONF) / "config.yaml").exists()


@pytest.mark.parametrize("name", ["football", "circles", "moons", "fraud"])
def test_config_bayes_error_matches_the_data_module_estimate(name):
    from initreg import data

    cfg = compose_cfg([f"data={name}"])
    assert cfg.data.bayes_error == pytest.approx(data.load(name).bayes_error, abs=5e-4)


def test_sweep_jobs_composed_once_per_group_choice_equal_hydras_own_composition():
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from initreg.overrides import compose_jobs, expand_jobs

    params = {"init": "zeros,he", "data": "football,fraud", "reg.lambd": "0.0,0.7",
              "model.width": "5,9", "diagnosis.metric": "error"}
    jobs = expand_jobs(["model=mlp", "train.num_iterations=10"], params)
    calls = []
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        def counted(ov):
            calls.append(ov)
            return compose(config_name="config", overrides=ov)

        fast = compose_jobs(counted, jobs, ["init", "data", "model", "experiment"])
        slow = [compose(config_name="config", overrides=job) for job in jobs]
    assert len(jobs) == 16 and len(calls) == 4  # init x data; model=mlp is in every job
    for job, a, b in zip(jobs, fast, slow, strict=True):
        as_dict = OmegaConf.to_container(a, resolve=True)
        assert as_dict == OmegaConf.to_container(b, resolve=True), job
    assert fast[0].diagnosis.metric == "error" and fast[0].model.width == 5


def test_a_bad_plain_value_in_a_sweep_job_is_reported_by_hydras_composition():
    from hydra import compose, initialize_config_dir

    from initreg.overrides import compose_jobs

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        with pytest.raises(ConfigCompositionException, match="reg.lambd"):
            compose_jobs(lambda ov: compose(config_name="config", overrides=ov),
                         [["init=he", "reg.lambd=abc"]], ["init"])


def test_the_sweeper_checks_every_job_of_a_batch_like_hydras_basic_sweeper():
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.utils import create_config_search_path
    from hydra.core.plugins import Plugins
    from hydra.types import HydraContext, RunMode

    loader = ConfigLoaderImpl(config_search_path=create_config_search_path(str(CONF)))
    cfg = loader.load_configuration("config", overrides=[], run_mode=RunMode.MULTIRUN)
    # the class as Hydra's plugin scan loaded it (the scan re-executes plugin modules)
    InitregSweeper = Plugins.instance().class_name_to_class[cfg.hydra.sweeper._target_]  # noqa: N806
    assert cfg.hydra.sweeper._target_.endswith("InitregSweeper")  # chosen in conf/config.yaml
    sweeper = InitregSweeper(max_batch_size=None, params=None)
    sweeper.config, sweeper.hydra_context = cfg, HydraContext(config_loader=loader, callbacks=None)
    sweeper.validate_batch_is_legal([["init=he", "reg.lambd=0.5"], ["init=zeros", "seed=3"]])
    for bad in (["init=he", "reg.lambd=abc"], ["init=nonexistent"], ["reg.nope=1"]):
        with pytest.raises(ConfigCompositionException):
            sweeper.validate_batch_is_legal([["init=he"], bad])
