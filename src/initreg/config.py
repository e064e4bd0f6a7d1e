"""Structured configs (the schema of ``conf/``) and the value checks run before any work.

The dataclasses are registered in Hydra's ConfigStore as ``base_config``; ``conf/config.yaml``
lists it first in its defaults, so an unknown key or a wrong type fails at compose time, and
``reg.lambd=0`` arrives as the float 0.0.
"""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from initreg.gradcheck import MODES
from initreg.nn.init import SCHEMES
from initreg.nn.rng import CONVENTIONS

DIAGNOSIS_METRICS = ("error", "f1")


class ConfigError(ValueError):
    """A config value that is not allowed: the key, the value and what is allowed, in one line."""


@dataclass
class DataConf:
    name: str = MISSING
    n_features: int = MISSING
    bayes_error: float = 0.0
    # 1 - F1 of the Bayes rule: the reference of `diagnosis.metric=f1` (None: not known)
    bayes_f1_error: float | None = None
    train_fraction: float = 1.0  # a stratified, seeded subset of train (learning curves)
    loader: dict[str, Any] = field(default_factory=dict)  # {_target_: a loader, **kwargs}


@dataclass
class InitConf:
    name: str = "he"
    scale: float = 10.0  # used by `random` only: standard normal x scale


@dataclass
class ModelConf:
    _target_: str = "initreg.nn.Network"
    layer_dims: list[int] = MISSING
    # conf/model/mlp.yaml: `depth` hidden layers of `width` units (not passed to the model)
    depth: int | None = None
    width: int | None = None


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
    lambd: float = 0.0
    keep_prob: float = 1.0


@dataclass
class TrainConf:
    learning_rate: float = 0.3
    num_iterations: int = 30000
    log_every: int = 1000
    divergence_factor: float = 10.0


@dataclass
class GradcheckConf:
    mode: str = "directional"
    epsilon: float = 1e-7
    threshold: float = 2e-7
    batch_size: int = 64
    directions: int = 3
    mask_seed: int = 0


@dataclass
class DiagnosisConf:
    tolerance: float = 0.02
    metric: str = "error"  # `error` (1 - accuracy) or `f1` (1 - F1, for rare positives)


@dataclass
class TrackingConf:
    enabled: bool = True
    uri: str | None = None  # None: $MLFLOW_TRACKING_URI, else sqlite:///mlruns/mlflow.db
    experiment: str | None = None  # None: the data set's name
    timeout_s: float = 60.0  # how long one call may wait for a tracking server that is gone


@dataclass
class Config:
    data: DataConf = MISSING
    init: InitConf = MISSING
    model: ModelConf = MISSING
    reg: RegConf = field(default_factory=RegConf)
    train: TrainConf = field(default_factory=TrainConf)
    gradcheck: GradcheckConf = field(default_factory=GradcheckConf)
    diagnosis: DiagnosisConf = field(default_factory=DiagnosisConf)
    tracking: TrackingConf = field(default_factory=TrackingConf)
    seed: int = 0
    convention: str = "default"
    resume: bool = False


def register() -> None:
    """Register the schema in Hydra's ConfigStore (idempotent)."""
    ConfigStore.instance().store(name="base_config", node=Config)


register()


def _fail(key: str, value, allowed: str) -> None:
    raise ConfigError(f"{key}={value!r} is not allowed; allowed: {allowed}")


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def validate(cfg, n_features: int | None = None) -> None:
    """Check every value the run depends on; raise ``ConfigError`` on the first bad one.

    ``n_features`` is the loaded data's feature count, checked against ``model.layer_dims[0]``.
    """
    kp = cfg.reg.keep_prob
    if not _is_number(kp) or not 0.0 < kp <= 1.0:
        _fail("reg.keep_prob", kp, "a number in (0, 1]")
    if not _is_number(cfg.reg.lambd) or not cfg.reg.lambd >= 0:
        _fail("reg.lambd", cfg.reg.lambd, "a number >= 0")
    if not _is_number(cfg.train.learning_rate) or not cfg.train.learning_rate > 0:
        _fail("train.learning_rate", cfg.train.learning_rate, "a number > 0")
    n_it = cfg.train.num_iterations
    if not isinstance(n_it, int) or isinstance(n_it, bool) or n_it < 1:
        _fail("train.num_iterations", n_it, "an integer >= 1")
    if not isinstance(cfg.train.log_every, int) or cfg.train.log_every < 1:
        _fail("train.log_every", cfg.train.log_every, "an integer >= 1")
    if not cfg.train.divergence_factor > 1:
        _fail("train.divergence_factor", cfg.train.divergence_factor, "a number > 1")
    dims = list(cfg.model.layer_dims)
    if len(dims) < 2 or any(not isinstance(d, int) or d < 1 for d in dims):
        _fail("model.layer_dims", dims, "at least two integer sizes >= 1, e.g. [2, 20, 3, 1]")
    if dims[-1] != 1:
        _fail("model.layer_dims", dims, "an output size of 1 (a binary classifier)")
    if n_features is not None and dims[0] != n_features:
        _fail("model.layer_dims", dims,
              f"a first size equal to the data's feature count ({n_features} for {cfg.data.name})")
    if cfg.init.name not in SCHEMES:
        _fail("init.name", cfg.init.name, ", ".join(SCHEMES))
    if cfg.convention not in CONVENTIONS:
        _fail("convention", cfg.convention, ", ".join(CONVENTIONS))
    if cfg.gradcheck.mode not in MODES:
        _fail("gradcheck.mode", cfg.gradcheck.mode, ", ".join(MODES))
    if not cfg.gradcheck.epsilon > 0:
        _fail("gradcheck.epsilon", cfg.gradcheck.epsilon, "a number > 0")
    if not cfg.gradcheck.threshold > 0:
        _fail("gradcheck.threshold", cfg.gradcheck.threshold, "a number > 0")
    if cfg.gradcheck.batch_size < 1:
        _fail("gradcheck.batch_size", cfg.gradcheck.batch_size, "an integer >= 1")
    if cfg.gradcheck.directions < 1:
        _fail("gradcheck.directions", cfg.gradcheck.directions, "an integer >= 1")
    frac = cfg.data.train_fraction
    if not _is_number(frac) or not 0 < frac <= 1:
        _fail("data.train_fraction", frac, "a number in (0, 1]")
    if not 0 <= cfg.data.bayes_error < 1:
        _fail("data.bayes_error", cfg.data.bayes_error, "a number in [0, 1)")
    if cfg.diagnosis.metric not in DIAGNOSIS_METRICS:
        _fail("diagnosis.metric", cfg.diagnosis.metric, ", ".join(DIAGNOSIS_METRICS))
    timeout = cfg.tracking.timeout_s
    if not _is_number(timeout) or not 1 <= timeout <= 3600:
        _fail("tracking.timeout_s", timeout, "a number of seconds in [1, 3600]")
    if not cfg.diagnosis.tolerance >= 0:
        _fail("diagnosis.tolerance", cfg.diagnosis.tolerance, "a number >= 0")
