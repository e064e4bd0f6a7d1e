"""initreg's Hydra sweeper plugin (``hydra/sweeper=initreg``): the class Hydra's scan finds is in
``initreg_sweeper.py``, its config and its work in ``_sweeper.py``."""
