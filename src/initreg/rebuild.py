"""A run's data and model at initialisation, rebuilt from the ``config.yaml`` it stored.

    model, ds = rebuild(yaml.safe_load(text))      # RebuildError: refused, in one line

A stored artifact is data, never code: anyone who can write to the store can write its
``config.yaml``, so nothing read back is handed to ``hydra.utils.instantiate``. The loader and
the model must be one of initreg's own (:data:`LOADERS`, :data:`MODELS`), called directly with
plain values (numbers, strings, booleans, null, lists of them) under names they accept.
"""

import inspect
from collections.abc import Callable, Mapping

from initreg import data
from initreg.data import Dataset
from initreg.nn import Network

LOADERS: dict[str, Callable[..., Dataset]] = {
    f"initreg.data.{fn.__name__}": fn for fn in data.LOADERS.values()}
MODELS: dict[str, Callable] = {"initreg.nn.Network": Network,
                               "initreg.nn.network.Network": Network}
MODEL_SHAPE_KEYS = ("depth", "width")  # conf/model/mlp.yaml: they only shape layer_dims
# the model's keyword arguments from other config groups, as initreg.job.build_model passes them
PASSED = {"init": "init.name", "init_scale": "init.scale", "lambd": "reg.lambd",
          "keep_prob": "reg.keep_prob", "seed": "seed", "convention": "convention"}


class RebuildError(ValueError):
    """A stored config that is not rebuilt: an unknown target, a nested object, a bad value."""


def _get(config, key: str, default=RebuildError):
    """The value at dotted ``key``; ``default`` when absent (refused if none is given)."""
    node = config
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            if default is RebuildError:
                raise RebuildError(f"the stored config has no {key}")
            return default
        node = node[part]
    return node


def _plain(value, key: str):
    """``value`` if it is a number, string, boolean, null or a list of them, else refused."""
    if isinstance(value, list):
        return [_plain(v, key) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    kind = "a nested object" if isinstance(value, Mapping) else type(value).__name__
    raise RebuildError(f"{key} is {kind}; a stored config is rebuilt from plain values only")


def _call(targets: Mapping[str, Callable], spec, key: str, skip=(), **extra):
    """``targets[spec["_target_"]](**spec's plain values, **extra)``, every name checked first;
    ``skip``: keys of ``spec`` left out."""
    if not isinstance(spec, Mapping):
        raise RebuildError(f"{key} is {type(spec).__name__}; expected a mapping with _target_")
    target = spec.get("_target_")
    if target not in targets:
        raise RebuildError(f"{key}._target_={target!r} is not rebuilt from a stored config; "
                           f"allowed: {', '.join(sorted(targets))}")
    fn = targets[target]
    kwargs = {k: _plain(v, f"{key}.{k}") for k, v in spec.items()
              if k != "_target_" and k not in skip}
    accepted = inspect.signature(fn).parameters
    unknown = sorted(set(kwargs) - set(accepted)) + sorted(set(kwargs) & set(extra))
    if unknown:
        raise RebuildError(f"{key}: {target} is not rebuilt with {', '.join(unknown)}; "
                           f"allowed: {', '.join(k for k in accepted if k not in extra)}")
    return fn(**kwargs, **extra)


def rebuild(config: Mapping):
    """``(model, dataset)`` at initialisation from a run's resolved ``config.yaml`` (as parsed by
    ``yaml.safe_load``); :class:`RebuildError` when it names anything but initreg's own loaders
    and model, or holds anything but plain values."""
    extra = {arg: _plain(_get(config, key), key) for arg, key in PASSED.items()}
    fraction = _plain(_get(config, "data.train_fraction", 1.0), "data.train_fraction")
    ds = data.train_subset(_call(LOADERS, _get(config, "data.loader"), "data.loader"), fraction,
                           extra["seed"])
    return _call(MODELS, _get(config, "model"), "model", skip=MODEL_SHAPE_KEYS, **extra), ds
