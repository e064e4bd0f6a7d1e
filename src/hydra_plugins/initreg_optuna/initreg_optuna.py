"""The ``hydra/sweeper=optuna`` plugin as Hydra's plugin scan finds it; the sweeper is in
``_sweeper.py``.

Hydra's scan executes every public module of ``hydra_plugins`` again each time it runs, and
Hydra's joblib launcher runs it for every job a worker takes. This module only imports, so that
re-execution costs an import already done; the scan skips modules named with a leading
underscore, as ``hydra_joblib_launcher/_core.py`` is.
"""

from hydra_plugins.initreg_optuna._sweeper import InitregOptunaSweeper, InitregOptunaSweeperConf

__all__ = ["InitregOptunaSweeper", "InitregOptunaSweeperConf"]
