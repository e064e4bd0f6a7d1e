"""Hydra's basic sweeper, composing its jobs' configs once per group choice.

Hydra composes every job's config twice, each a tenth of a second: in the submitting process,
where the ``BasicSweeper`` checks a batch before launching it (2.5 s for the 27-job default
sweep, while no job runs), and in the worker that runs the job (``load_sweep_config`` in the
launcher, a quarter of a job's time outside training). ``InitregSweeper`` hands its launcher,
and its own check, ``initreg.overrides.SweepConfigLoader``: one composition per distinct choice
of config groups in each process, plain values set as Hydra sets them, the same config; a job
whose value does not fit is composed in full, so Hydra reports it in its own words. Everything
else (the cartesian product, the batches, the launcher: Hydra's joblib launcher) is Hydra's.
Chosen in ``conf/config.yaml`` (``hydra/sweeper: initreg``).
"""

from dataclasses import dataclass

from hydra._internal.core_plugins.basic_sweeper import BasicSweeperConf
from hydra.core.config_store import ConfigStore
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig

from initreg.overrides import sweep_context


@dataclass
class InitregSweeperConf(BasicSweeperConf):
    _target_: str = "hydra_plugins.initreg_sweeper.initreg_sweeper.InitregSweeper"


ConfigStore.instance().store(group="hydra/sweeper", name="initreg", node=InitregSweeperConf,
                             provider="initreg")


class CachingSweepSetup:
    """What ``InitregSweeper`` adds to Hydra's ``BasicSweeper``: its launcher and its batch check
    (Hydra's ``validate_batch_is_legal``) compose once per group choice.

    A mixin, so that ``initreg_sweeper.py`` can put it on the ``BasicSweeper`` of the scan that
    runs (each scan executes ``basic_sweeper.py`` again, making a new ``BasicSweeper``, whose
    ``__init__`` names its own class: a subclass of an earlier one cannot be instantiated).
    """

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        super().setup(hydra_context=sweep_context(hydra_context), task_function=task_function,
                      config=config)
