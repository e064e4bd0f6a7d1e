"""The ``hydra/sweeper=initreg`` plugin as Hydra's plugin scan finds it: ``BasicSweeper`` with
``_sweeper.CachingSweepSetup``; its config and everything else are in ``_sweeper.py``.

Hydra's scan executes every public module of ``hydra_plugins`` again each time it runs, and
Hydra's joblib launcher runs it for every job a worker takes. This module only imports and
defines one empty class, so that re-execution costs next to nothing; the scan skips modules
named with a leading underscore, as it does ``hydra_joblib_launcher/_core.py``.
"""

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

from hydra_plugins.initreg_sweeper import _sweeper


class InitregSweeper(_sweeper.CachingSweepSetup, BasicSweeper):
    """``BasicSweeper`` whose launcher and batch check compose once per group choice."""
