"""Hydra's joblib launcher, its workers keeping Hydra's plugin registry from job to job.

Hydra's joblib launcher (hydra-joblib-launcher 1.2.0, ``_core.py``) sends each job Hydra's
singletons without the plugin registry, which cannot be pickled, and ``Singleton.set_state``
in the worker builds it again: a scan of every ``hydra_plugins`` module, executing each public
one anew, 15-30 ms of every job of a sweep on the 2-core machine. A worker's later jobs find
the same plugins as its first (one process, one ``sys.path``), and every config the plugins
register comes in the singletons' state the job is sent. ``execute_job`` hands the registry
its worker already has to Hydra's own ``execute_job``; ``launch`` is ``_core.launch`` with
``execute_job`` as the function each job runs. Everything else is Hydra's: its config
(``hydra.launcher.n_jobs`` and the rest of ``JobLibLauncherConf``), joblib's loky workers,
each job's folder, config files, logging and return value.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hydra.core.config_store import ConfigStore
from hydra.core.plugins import Plugins
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, configure_log, filter_overrides, setup_globals
from hydra_plugins.hydra_joblib_launcher.config import JobLibLauncherConf


@dataclass
class InitregJoblibConf(JobLibLauncherConf):
    _target_: str = "hydra_plugins.initreg_joblib.initreg_joblib.InitregJoblibLauncher"


ConfigStore.instance().store(group="hydra/launcher", name="initreg_joblib",
                             node=InitregJoblibConf, provider="initreg")


def execute_job(idx, overrides, hydra_context, config, task_function,
                singleton_state) -> JobReturn:
    """Hydra's ``_core.execute_job``, given this worker's plugin registry if it has one."""
    from hydra_plugins.hydra_joblib_launcher import _core

    plugins = Singleton._instances.get(Plugins)
    if plugins is not None:  # a later job: the registry of the scan this worker's first made
        # the state as this process unpickled it (shared by the jobs of one joblib batch, and
        # with n_jobs=1 the submitting process's own, where Hydra's set_state puts it as well)
        singleton_state["instances"][Plugins] = plugins
    return _core.execute_job(idx, overrides, hydra_context, config, task_function,
                             singleton_state)


def launch(launcher, job_overrides: Sequence[Sequence[str]],
           initial_job_idx: int) -> Sequence[JobReturn]:
    """Hydra's ``_core.launch``, each job run by :func:`execute_job`; its log lines, under its
    logger's name, as Hydra writes them. Imported here, as Hydra's launcher imports ``_core``:
    a single run, which Hydra's plugin scan makes import this module, does not need them."""
    from hydra_plugins.hydra_joblib_launcher import _core
    from joblib import Parallel, delayed

    setup_globals()
    assert launcher.config is not None and launcher.task_function is not None
    assert launcher.hydra_context is not None
    configure_log(launcher.config.hydra.hydra_logging, launcher.config.hydra.verbose)
    sweep_dir = Path(str(launcher.config.hydra.sweep.dir))
    sweep_dir.mkdir(parents=True, exist_ok=True)

    joblib_cfg = launcher.joblib
    joblib_cfg["backend"] = "loky"  # Hydra's: its threading backend is incompatible with Hydra
    _core.process_joblib_cfg(joblib_cfg)
    _core.log.info("Joblib.Parallel({}) is launching {} jobs".format(
        ",".join(f"{k}={v}" for k, v in joblib_cfg.items()), len(job_overrides)))
    _core.log.info(f"Launching jobs, sweep output dir : {sweep_dir}")
    for idx, overrides in enumerate(job_overrides):
        _core.log.info("\t#{} : {}".format(idx, " ".join(filter_overrides(overrides))))

    singleton_state = Singleton.get_state()
    runs = Parallel(**joblib_cfg)(
        delayed(execute_job)(initial_job_idx + idx, overrides, launcher.hydra_context,
                             launcher.config, launcher.task_function, singleton_state)
        for idx, overrides in enumerate(job_overrides))
    assert all(isinstance(run, JobReturn) for run in runs)
    return runs
