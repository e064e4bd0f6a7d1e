"""initreg: how weight initialization, L2 and dropout change what a network learns."""

__version__ = "0.1.0"
