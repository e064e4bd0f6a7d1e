"""initreg's Optuna sweeper plugin (``hydra/sweeper=optuna``); see ``initreg_optuna.py``."""
