"""A job's data and model, from its config: the configured loader and model class."""

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from initreg.data import DataError, Dataset, train_subset


def load_dataset(cfg) -> Dataset:
    """Instantiate ``data.loader``; a data problem surfaces as the loader's own ``DataError``."""
    try:
        return instantiate(cfg.data.loader)
    except InstantiationException as err:
        if isinstance(err.__cause__, DataError):
            raise err.__cause__ from None
        raise


def load_data(cfg: DictConfig) -> Dataset:
    """The data set's splits, through its configured loader; ``data.train_fraction`` < 1 keeps
    a stratified, seeded subset of the training examples (learning curves)."""
    return train_subset(load_dataset(cfg), cfg.data.train_fraction, cfg.seed)


def build_model(cfg: DictConfig):
    """The configured model class (``model._target_``) with the run's init, L2 and dropout.

    ``model.depth`` and ``model.width`` only shape ``layer_dims`` (conf/model/mlp.yaml); they
    are not passed to the class.
    """
    spec = OmegaConf.to_container(cfg.model, resolve=True)
    for key in ("depth", "width"):
        spec.pop(key, None)
    return instantiate(spec, init=cfg.init.name, init_scale=cfg.init.scale,
                       lambd=cfg.reg.lambd, keep_prob=cfg.reg.keep_prob, seed=cfg.seed,
                       convention=cfg.convention)
