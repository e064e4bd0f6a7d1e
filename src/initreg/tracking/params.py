"""A run's params and identity from its resolved config: dotted params, the ones that mean
something for a run, and the ``config_hash`` of what it computes."""

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

NOT_HASHED = ("tracking", "resume")  # keys that do not change what a run computes


def flatten(d: Mapping, prefix: str = "") -> dict[str, Any]:
    """Dotted keys for every leaf of a nested mapping: {"reg": {"lambd": 0}} -> {"reg.lambd": 0}."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def config_hash(cfg: Mapping) -> str:
    """A stable hash of what a run computes: the resolved config without tracking keys."""
    kept = {k: v for k, v in cfg.items() if k not in NOT_HASHED}
    blob = json.dumps(kept, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def params_of(cfg: Mapping, skip: Iterable[str] = ("hydra",)) -> dict[str, Any]:
    """Every leaf of the resolved config as a dotted param (``reg.lambd``, ``model.layer_dims``)."""
    return flatten({k: v for k, v in cfg.items() if k not in skip})



def run_params(cfg: Mapping) -> dict[str, Any]:
    """The params that mean something for a run: :func:`params_of` without the keys that do not
    change what it computes (``resume``, ``tracking.*``: :data:`NOT_HASHED`) and without unset
    ones (``model.depth: null`` outside ``model=mlp``; ``data.bayes_error: null``, whose value
    is the metric ``bayes_error``)."""
    return {k: v for k, v in params_of(cfg, skip=("hydra", *NOT_HASHED)).items()
            if v is not None}
