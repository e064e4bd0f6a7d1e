"""initreg's Optuna sweeper plugin (``hydra/sweeper=optuna``): the sweeper is in ``_sweeper.py``,
which ``initreg_optuna.py`` imports for Hydra's plugin scan."""
