"""The NumPy network core: init schemes, layers, the Network and its training loop."""

from initreg.nn.init import SCHEMES, initialize
from initreg.nn.network import Network
from initreg.nn.rng import mask_rng, weight_rng
from initreg.nn.train import DivergenceError, History, train

__all__ = [
    "SCHEMES",
    "DivergenceError",
    "History",
    "Network",
    "initialize",
    "mask_rng",
    "train",
    "weight_rng",
]
