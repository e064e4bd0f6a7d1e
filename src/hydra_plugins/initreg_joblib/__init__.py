"""initreg's Hydra launcher plugin (``hydra/launcher=initreg_joblib``, the default): the class
Hydra's scan finds is in ``initreg_joblib.py``, its config and its work in ``_launcher.py``."""
