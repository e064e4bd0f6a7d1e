"""initreg's Hydra sweeper plugin (``hydra/sweeper=initreg``); see ``initreg_sweeper.py``."""
