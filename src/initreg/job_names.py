"""What a job is called: its experiment, its ``config_hash``, its run's short name and title."""

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from initreg import tracking
from initreg.lifecycle import job_parent


def experiment_name(cfg) -> str:
    """``tracking.experiment``, defaulting to the data set's name."""
    return cfg.tracking.experiment or cfg.data.name


def job_hash(cfg) -> str:
    """The job's ``config_hash``: what the run computes, without its tracking keys."""
    return tracking.config_hash(OmegaConf.to_container(cfg, resolve=True))


def run_title(cfg: DictConfig) -> str:
    """``football: init=he lambd=0.7 keep_prob=1`` (+ the scale of `random`, the depth)."""
    init = cfg.init.name + (f" x{cfg.init.scale:g}" if cfg.init.name == "random" else "")
    depth = f" depth={cfg.model.depth}" if cfg.model.get("depth") is not None else ""
    return (f"{cfg.data.name}: init={init} lambd={cfg.reg.lambd:g} "
            f"keep_prob={cfg.reg.keep_prob:g}{depth}")


# how run_name shortens a key; a key not listed here shows as ``<last part>=<value>``
NAME_PREFIX = {"reg.lambd": "l", "reg.keep_prob": "kp", "model.depth": "d", "model.width": "w",
               "data.train_fraction": "f", "seed": "s", "train.learning_rate": "lr",
               "init.scale": "x", "train.num_iterations": "it"}


def default_name_keys(cfg) -> list[str]:
    """The keys that name a run outside a planned sweep: init, lambd, keep_prob (+ depth)."""
    keys = ["init", "reg.lambd", "reg.keep_prob"]
    return keys + ["model.depth"] if cfg.model.get("depth") is not None else keys


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple) or OmegaConf.is_list(value):
        return "-".join(_short(v) for v in value)
    return str(value)


def run_name(cfg, keys=None, choices=None) -> str:
    """The run's short name, its values of ``keys`` (a sweep's varying keys, else
    :func:`default_name_keys`): ``he l0.7 kp0.86``, ``zeros d10``, ``f0.2``.

    A config group (``init``, ``data``) shows the option chosen (``choices``: Hydra's
    ``runtime.choices``), else its ``name``; a value shows with its :data:`NAME_PREFIX`.
    """
    parts = []
    for key in keys or default_name_keys(cfg):
        if choices and key in choices:
            parts.append(str(choices[key]))
            continue
        value = OmegaConf.select(cfg, key, default=None)
        if OmegaConf.is_dict(value):  # a group without its choice: its own name
            parts.append(str(value.get("name", key)))
        elif key in NAME_PREFIX:
            parts.append(f"{NAME_PREFIX[key]}{_short(value)}")
        else:
            parts.append(f"{key.rsplit('.', 1)[-1]}={_short(value)}")
    return " ".join(parts)


def job_name(cfg) -> str:
    """This job's run name: the sweep's varying keys (from its parent file) when it has them."""
    parent = job_parent(cfg) or {}
    choices = HydraConfig.get().runtime.choices if HydraConfig.initialized() else None
    return run_name(cfg, parent.get("name_keys"), choices)
