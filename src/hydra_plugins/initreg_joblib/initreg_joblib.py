"""The ``hydra/launcher=initreg_joblib`` plugin as Hydra's plugin scan finds it: Hydra's
``JoblibLauncher`` launching with ``_launcher.launch``; its config and everything else are in
``_launcher.py``.

Hydra's scan executes every public module of ``hydra_plugins`` again each time it runs. This
module only imports and defines one small class, so that re-execution costs next to nothing;
the scan skips modules named with a leading underscore, as it does
``hydra_joblib_launcher/_core.py``.
"""

from collections.abc import Sequence

from hydra.core.utils import JobReturn
from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher

from hydra_plugins.initreg_joblib import _launcher


class InitregJoblibLauncher(JoblibLauncher):
    """Hydra's joblib launcher whose workers keep Hydra's plugin registry from job to job."""

    def launch(self, job_overrides: Sequence[Sequence[str]],
               initial_job_idx: int) -> Sequence[JobReturn]:
        return _launcher.launch(self, job_overrides, initial_job_idx)
