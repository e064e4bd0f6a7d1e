"""Structured configs: the schema of ``conf/`` (types only; every value is in ``conf/``).

The dataclasses are registered in Hydra's ConfigStore as ``base_config``; ``conf/config.yaml``
lists it first in its defaults, so an unknown key or a wrong type fails at compose time, and
``reg.lambd=0`` arrives as the float 0.0. The values are checked by ``initreg.checks.validate``
(re-exported here with ``ConfigError``).
"""

from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from initreg.checks import ConfigError, validate, validate_sizes

__all__ = ["Config", "ConfigError", "mlp_dims", "register", "schema", "validate", "validate_sizes"]


@dataclass
class DataConf:
    name: str = MISSING
    n_features: int = MISSING
    bayes_error: float | None = MISSING  # null: the loader's own estimate (Dataset.bayes_error)
    bayes_f1_error: float | None = MISSING  # 1 - F1 of the Bayes rule (null: not known)
    train_fraction: float = MISSING  # a stratified, seeded subset of train (learning curves)
    loader: dict[str, Any] = MISSING  # {_target_: a loader, **kwargs}


@dataclass
class InitConf:
    name: str = MISSING
    scale: float = MISSING  # used by `random` only: standard normal x scale


@dataclass
class ModelConf:
    _target_: str = MISSING
    layer_dims: list[int] = MISSING
    # conf/model/mlp.yaml: `depth` hidden layers of `width` units (not passed to the model)
    depth: int | None = MISSING
    width: int | None = MISSING


def mlp_dims(n_x: int, width: int, depth: int) -> list[int]:
    """``[n_x, width, ..., width, 1]`` with ``depth`` hidden layers (``${mlp_dims:...}``).

    depth 0 is logistic regression. A negative depth or a width < 1 gives sizes that
    ``validate`` refuses in one line (a resolver's own error would surface as a traceback).
    """
    if depth < 0:
        return [n_x, depth, 1]
    return [n_x, *[width] * depth, 1]


OmegaConf.register_new_resolver("mlp_dims", mlp_dims, replace=True)


@dataclass
class RegConf:
    lambd: float = MISSING
    keep_prob: float = MISSING


@dataclass
class TrainConf:
    learning_rate: float = MISSING
    num_iterations: int = MISSING
    log_every: int = MISSING
    divergence_factor: float = MISSING
    engine: str = MISSING  # compiled (initreg.nn.compiled, where it applies) or numpy


@dataclass
class GradcheckConf:
    mode: str = MISSING
    epsilon: float = MISSING
    threshold: float = MISSING
    batch_size: int = MISSING
    directions: int = MISSING
    mask_seed: int = MISSING
    attempts: int = MISSING


@dataclass
class DiagnosisConf:
    tolerance: float = MISSING
    metric: str = MISSING  # `error` (1 - accuracy) or `f1` (1 - F1, for rare positives)


@dataclass
class TrackingConf:
    enabled: bool = MISSING
    uri: str | None = MISSING  # null: $MLFLOW_TRACKING_URI, else sqlite:///mlruns/mlflow.db
    experiment: str | None = MISSING  # null: the data set's name
    timeout_s: float = MISSING  # how long one call may wait for a tracking server that is gone
    flush_seconds: float = MISSING  # how old the oldest unwritten metric point may get


@dataclass
class Config:
    """The types of every key; the values are in conf/ (config.yaml and its groups), so every
    default is in one place. An unknown key or a wrong type is an error."""

    data: DataConf = MISSING
    init: InitConf = MISSING
    model: ModelConf = MISSING
    reg: RegConf = MISSING
    train: TrainConf = MISSING
    gradcheck: GradcheckConf = MISSING
    diagnosis: DiagnosisConf = MISSING
    tracking: TrackingConf = MISSING
    seed: int = MISSING
    convention: str = MISSING
    resume: bool = MISSING


def schema() -> DictConfig:
    """Every node of the schema with its types and no values: what an override is checked
    against before anything is composed (``initreg.overrides``)."""
    return OmegaConf.structured(Config(
        data=DataConf(), init=InitConf(), model=ModelConf(), reg=RegConf(), train=TrainConf(),
        gradcheck=GradcheckConf(), diagnosis=DiagnosisConf(), tracking=TrackingConf()))


def register() -> None:
    """Register the schema in Hydra's ConfigStore (idempotent)."""
    ConfigStore.instance().store(name="base_config", node=Config)


register()
