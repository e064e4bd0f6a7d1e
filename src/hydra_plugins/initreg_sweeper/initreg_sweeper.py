"""Hydra's basic sweeper, checking that its jobs compose with one composition per group choice.

Before launching a batch, Hydra's ``BasicSweeper`` composes every job's config (a tenth of a
second each) only to fail early on one that does not compose; the 27-job default sweep spends
2.5 s there, in the submitting process, while no job runs. ``InitregSweeper`` makes the same
check through ``initreg.overrides.compose_jobs``: one composition per distinct choice of config
groups, plain values set as Hydra sets them, and a job whose value does not fit composed in
full, so Hydra reports it in its own words. Everything else (the cartesian product, the batches,
the launcher) is the basic sweeper's. Chosen in ``conf/config.yaml`` (``hydra/sweeper: initreg``).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore

from initreg.overrides import compose_jobs


@dataclass
class InitregSweeperConf(BasicSweeperConf):
    _target_: str = "hydra_plugins.initreg_sweeper.initreg_sweeper.InitregSweeper"


ConfigStore.instance().store(group="hydra/sweeper", name="initreg", node=InitregSweeperConf,
                             provider="initreg")


class InitregSweeper(BasicSweeper):
    """``BasicSweeper`` with a cheaper, equivalent check that every job of a batch composes."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        loader = self.hydra_context.config_loader

        def compose(overrides: list[str]):
            return loader.load_sweep_config(master_config=self.config, sweep_overrides=overrides)

        compose_jobs(compose, [list(job) for job in batch],
                     self.config.hydra.runtime.choices.keys())
