"""Every config composes; bad values are refused in one line, before anything is written."""

from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf
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


# Issue 16 (and 12's non-finite floats): accepted before, then a late failure, a traceback, or a
# silently disabled check (a threshold of inf or >= 1 passes every gradient).
LATE_FAILURES = [
    (["diagnosis.tolerance=inf"], "diagnosis.tolerance=inf is not allowed; allowed: a finite"),
    (["diagnosis.tolerance=1"], "diagnosis.tolerance=1.0 is not allowed; allowed: a number in [0,"),
    (["data.bayes_f1_error=2", "diagnosis.metric=f1"],
     "data.bayes_f1_error=2.0 is not allowed; allowed: a number in [0, 1), or null"),
    (["data=fraud", "data.bayes_f1_error=-0.1"], "data.bayes_f1_error=-0.1 is not allowed"),
    (["gradcheck.mask_seed=-1"],
     "gradcheck.mask_seed=-1 is not allowed; allowed: an integer from 0 to 4294967295"),
    (["seed=-1"], "seed=-1 is not allowed; allowed: an integer from 0 to 4294967295"),
    (["seed=4294967296", "convention=course"], "seed=4294967296 is not allowed"),
    (["gradcheck.threshold=inf"], "gradcheck.threshold=inf is not allowed; allowed: a finite"),
    (["gradcheck.threshold=1"], "gradcheck.threshold=1.0 is not allowed; allowed: a number in (0,"),
    (["train.learning_rate=inf"], "train.learning_rate=inf is not allowed; allowed: a finite"),
    (["train.learning_rate=-inf"], "train.learning_rate=-inf is not allowed; allowed: a finite"),
    (["train.divergence_factor=inf"], "train.divergence_factor=inf is not allowed; allowed: a"),
    (["init=random", "init.scale=nan"], "init.scale=nan is not allowed; allowed: a finite number"),
    (["data=moons", "data.loader.noise=inf"], "data.loader.noise=inf is not allowed; allowed: a"),
    (["gradcheck.directions=100000000"], "gradcheck.directions=100000000 is not allowed; allowed: "
     "an integer from 1 to 100"),
    (["gradcheck.attempts=0"], "gradcheck.attempts=0 is not allowed; allowed: an integer from 1"),
    (["gradcheck.mode=full", "model.layer_dims=[2,1000,1000,1]"],
     "gradcheck.mode='full' is not allowed; allowed: directional for a model of 1,005,001"),
    (["tracking.uri=foo://bar"], "tracking.uri='foo://bar' is not allowed; allowed: a URI with one "
     "of the schemes sqlite, postgresql, mysql, mssql, http, https, file, databricks"),
    (["tracking.uri=sqlite:////proc/nope/x.db"], "tracking.uri='sqlite:////proc/nope/x.db' is not "
     "allowed; allowed: a SQLite file that can be written, in a folder that exists or can be"),
    (["tracking.experiment=../../x"], "tracking.experiment='../../x' is not allowed; allowed: a "
     "name of 1 to 500 characters without / or \\, not . or .., not starting with ~"),
    (["tracking.experiment=/tmp/abs"], "tracking.experiment='/tmp/abs' is not allowed"),
    (["tracking.experiment=a\\\\b"], "tracking.experiment='a\\\\b' is not allowed"),
    (["tracking.experiment=.."], "tracking.experiment='..' is not allowed"),
    (["tracking.experiment='~x'"], "tracking.experiment='~x' is not allowed"),
    (["tracking.experiment=" + "x" * 501], "(501 characters) is not allowed"),
    (["tracking.experiment=" + "x" * 7000], "(7000 characters) is not allowed"),
    (["data.name=../../x"], "data.name='../../x' is not allowed"),
    (["+data.loader.nosie=0.3"],
     "data.loader.nosie: no such key; allowed keys in data.loader: path, split_seed"),
    (["data.loader._target_=initreg.data.load_mnist"],
     "data.loader._target_='initreg.data.load_mnist' is not allowed; allowed: an importable"),
]  # fmt: skip


@pytest.mark.parametrize(("overrides", "message"), LATE_FAILURES,
                         ids=[" ".join(o)[:60] for o, _ in LATE_FAILURES])
def test_late_failures_are_refused_up_front_in_one_short_line(overrides, message):
    cfg = compose_cfg(overrides)
    with pytest.raises(ConfigError) as err:
        validate(cfg, cfg.data.n_features)
    assert message in str(err.value)
    assert "\n" not in str(err.value) and len(str(err.value)) < 400


@pytest.mark.parametrize("overrides", [
    ["tracking.experiment=" + "x" * 500], ["tracking.experiment=course init: v2"],
    ["tracking.uri=postgresql+psycopg://u:p@db.example:5432/mlflow"],
    ["tracking.uri=http://127.0.0.1:5000"], ["tracking.uri=mlruns"],
    ["tracking.enabled=false", "tracking.uri=foo://bar"],
    ["gradcheck.directions=100"], ["gradcheck.attempts=5"], ["gradcheck.mode=full"],
    ["gradcheck.threshold=0.5"],
    ["seed=4294967295", "convention=course"], ["diagnosis.tolerance=0"],
    ["data=fraud", "data.bayes_f1_error=null"], ["data=moons", "++data.loader.n_samples=300"],
])  # fmt: skip
def test_the_limits_themselves_are_allowed(overrides):
    cfg = compose_cfg(overrides)
    validate(cfg, cfg.data.n_features)


def test_config_dir_is_the_one_the_pipeline_uses():
    assert (Path(CONF) / "config.yaml").exists()


@pytest.mark.parametrize("name", ["football", "circles", "moons", "fraud"])
def test_the_diagnosis_uses_the_data_sets_own_bayes_error(name):
    from initreg import data
    from initreg.job_evaluation import bayes_error

    cfg = compose_cfg([f"data={name}"])
    assert cfg.data.bayes_error is None  # no second copy of the loader's number in conf/
    ds = data.load(name)
    assert bayes_error(cfg, ds) == ds.bayes_error


def test_the_bayes_error_follows_the_loaders_parameters_unless_set():
    from initreg import job
    from initreg.job_evaluation import bayes_error

    cfg = compose_cfg(["data=moons", "data.loader.noise=0.1"])
    ds = job.load_data(cfg)
    assert bayes_error(cfg, ds) == pytest.approx(0.0006, abs=3e-4)  # 0.0568 at noise 0.25
    cfg = compose_cfg(["data=moons", "data.loader.noise=0.1", "data.bayes_error=0.1"])
    assert bayes_error(cfg, ds) == 0.1


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
    sweeper.setup(hydra_context=HydraContext(config_loader=loader, callbacks=None),
                  task_function=lambda cfg: None, config=cfg)  # its caching loader
    sweeper.validate_batch_is_legal([["init=he", "reg.lambd=0.5"], ["init=zeros", "seed=3"]])
    for bad in (["init=he", "reg.lambd=abc"], ["init=nonexistent"], ["reg.nope=1"]):
        with pytest.raises(ConfigCompositionException):
            sweeper.validate_batch_is_legal([["init=he"], bad])


@pytest.mark.parametrize("name", ["initreg", "initreg_optuna"])
def test_our_sweepers_survive_hydras_plugin_scan_at_every_job(name):
    """Hydra's joblib launcher scans the plugins for every job (``Singleton.set_state``),
    executing each public module of ``hydra_plugins`` again: ours do not define their configs
    (or the Optuna sweeper) again, and the sweeper still instantiates after a scan (Hydra's
    ``BasicSweeper`` is itself a new class after each one)."""
    from hydra.core.config_store import ConfigStore
    from hydra.core.plugins import Plugins
    from hydra.core.singleton import Singleton

    def scanned():
        classes = Plugins.instance().class_name_to_class  # the scan stores the plugins' configs
        node = ConfigStore.instance().load(f"hydra/sweeper/{name}.yaml").node
        return node, classes[node._target_]

    node, first = scanned()
    kept = Singleton._instances.pop(Plugins)  # what Singleton.set_state does in a worker
    try:
        node, rescanned = scanned()
        conf = OmegaConf.get_type(node)  # its dataclass: defined once, in a module the scan skips
        assert conf.__module__.rsplit(".", 1)[1].startswith("_")
        assert (rescanned is first) == (name == "initreg_optuna")
        assert type(Plugins.instance()._instantiate(node)) is rescanned  # as Hydra does
    finally:
        Singleton._instances[Plugins] = kept


def _master(task_overrides, hydra_overrides=()):
    """A multirun's master config as Hydra composes it, its resolver cache filled (the sweep
    folder's ``${now:...}``), and each job's overrides as the basic sweeper expands them."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.utils import create_config_search_path
    from hydra.core.utils import setup_globals
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from initreg.overrides import expand_jobs

    setup_globals()  # Hydra's resolvers (now, hydra), as in a sweep's processes
    path = create_config_search_path(str(CONF))
    master = ConfigLoaderImpl(config_search_path=path).load_configuration(
        "config", overrides=[*hydra_overrides, *task_overrides], run_mode=RunMode.MULTIRUN)
    OmegaConf.resolve(OmegaConf.create({"d": master.hydra.sweep.dir}))  # fills the cache
    jobs = expand_jobs(master.hydra.overrides.task, master.hydra.sweeper.params)
    return path, master, jobs


def _assert_same_config(ours, hydras, job):
    """Equal as Hydra builds it: every value (unresolved), resolver cache, struct/readonly."""
    from omegaconf import OmegaConf

    assert OmegaConf.to_container(ours, resolve=False) == \
        OmegaConf.to_container(hydras, resolve=False), job
    assert OmegaConf.get_cache(ours) == OmegaConf.get_cache(hydras), job
    assert OmegaConf.is_struct(ours) and OmegaConf.is_struct(hydras)
    assert not OmegaConf.is_readonly(ours.hydra) and not OmegaConf.is_readonly(hydras.hydra)
    assert ours.hydra.sweep.dir == hydras.hydra.sweep.dir  # the master's ${now:...}
    for key in (k for k in hydras if k != "hydra"):  # the job's own values, resolved
        def resolved(cfg, key=key):
            node = cfg[key]
            return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) \
                else node
        assert resolved(ours) == resolved(hydras), (job, key)


def _sweep_loader(path):
    """A ``SweepConfigLoader`` that counts its full compositions."""
    from initreg.overrides import SweepConfigLoader

    loader = SweepConfigLoader(path)
    calls = []
    compose = loader.load_configuration

    def counted(*args, **kwargs):
        calls.append(kwargs.get("overrides"))
        return compose(*args, **kwargs)

    loader.load_configuration = counted
    return loader, calls


@pytest.mark.parametrize(("task", "params", "compositions"), [
    (["experiment=default_sweep"], None, 3),  # `make sweep`: init x lambd x keep_prob
    (["model=mlp", "model.width=7", "train.num_iterations=10"],
     {"init": "zeros,he", "data": "football,fraud", "reg.lambd": "0.0,0.7",
      "model.width": "5,9", "seed": "0,1"}, 4),  # init x data; model=mlp in every job
])
def test_sweep_loader_composes_once_per_group_choice_equal_to_hydras_load_sweep_config(
        task, params, compositions):
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    hydra_overrides = ["hydra.launcher.n_jobs=2", "hydra.job.config.override_dirname."
                       "exclude_keys=[seed]", "hydra.job.config.override_dirname.kv_sep=:"]
    sweep = [f"{k}={v}" for k, v in (params or {}).items()]
    path, master, jobs = _master([*task, *sweep], hydra_overrides)
    assert len(jobs) == (27 if params is None else 32)
    hydras = ConfigLoaderImpl(config_search_path=path)
    loader, calls = _sweep_loader(path)
    for job in jobs:
        ours = loader.load_sweep_config(master, list(job))
        _assert_same_config(ours, hydras.load_sweep_config(master, list(job)), job)
        ours.hydra.job.num, ours.seed = 99, 99  # as the launcher and a job may: the next job
        ours.hydra.overrides.task.append("x=1")  # is not affected
    assert len(calls) == compositions
    assert list(ours.hydra.overrides.hydra) == hydra_overrides
    assert ":" in ours.hydra.job.override_dirname and "seed" not in ours.hydra.job.override_dirname


def test_sweep_loader_composes_in_full_what_is_not_a_plain_value_and_hydra_refuses_the_bad():
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    path, master, _ = _master(["experiment=default_sweep"])
    hydras = ConfigLoaderImpl(config_search_path=path)
    loader, calls = _sweep_loader(path)
    for job in (["init=he", "++reg.lambd=0.3"], ["init=he", "~experiment"],
                ["init=he", "+data.loader.noise=0.1"], ["init=he", "reg={lambd: 0.2}"]):
        _assert_same_config(loader.load_sweep_config(master, job),
                            hydras.load_sweep_config(master, job), job)
    for bad in (["init=he", "reg.lambd=abc"], ["init=he", "reg.nope=1"], ["init=nonexistent"]):
        with pytest.raises(ConfigCompositionException):
            loader.load_sweep_config(master, bad)
    # +, ++, ~ each in full; init=he once (reg={...} is a plain value); the two bad values
    # again in full, by Hydra; init=nonexistent fails in its composition
    assert len(calls) == 7


@pytest.mark.parametrize("sweeper", ["initreg", "optuna"])
def test_the_sweepers_hand_their_launcher_the_caching_loader(sweeper):
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.core.plugins import Plugins
    from hydra.types import HydraContext

    from initreg.overrides import SweepConfigLoader

    path, master, _ = _master(["experiment=default_sweep"], [f"hydra/sweeper={sweeper}"])
    sweeper = Plugins.instance().instantiate_sweeper(
        config=master, task_function=lambda cfg: None,
        hydra_context=HydraContext(config_loader=ConfigLoaderImpl(path), callbacks=None))
    assert isinstance(sweeper.hydra_context.config_loader, SweepConfigLoader)
    assert sweeper.launcher.hydra_context.config_loader is sweeper.hydra_context.config_loader
