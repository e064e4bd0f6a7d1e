"""What a study needs to know about the dev set its runs were scored on: its size and the
accuracy of always answering its most common class, read from a run's stored ``config.yaml``.

    dev = dev_set(runs, client)       # DevSet(n=50, majority=0.5), or None: no run rebuilt

The data set is rebuilt through :func:`initreg.rebuild.rebuild` (initreg's own loaders only: a
stored config is data, never code) from the first run whose config rebuilds.
"""

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from initreg.rebuild import rebuild


@dataclass(frozen=True)
class DevSet:
    """A dev set: ``n`` examples, ``majority`` the share of its most common class (the accuracy
    of a model that answers that class everywhere: chance level for a classifier)."""

    n: int
    majority: float


def stored_config(client, run) -> tuple[dict | None, str]:
    """The run's resolved ``config.yaml`` as plain values, or ``(None, why)``."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(run.info.run_id, "config.yaml", tmp)
        except Exception:  # MLflow's own errors: the run crashed before writing config.yaml
            return None, "no config.yaml was stored"
        try:
            config = yaml.safe_load(Path(path).read_text())
        except yaml.YAMLError:
            return None, "its config.yaml is not YAML"
    if not isinstance(config, dict):
        return None, "its config.yaml is not a mapping"
    return config, ""


def dev_set_of(config: dict) -> DevSet | None:
    """The dev set of a stored config, or None when it cannot be rebuilt."""
    try:
        _, ds = rebuild(config)
    except (ValueError, TypeError):  # RebuildError, DataError, a class's own checks
        return None
    _, Y = ds.split("dev")
    share = float(np.mean(Y))
    return DevSet(int(Y.size), max(share, 1.0 - share))


def dev_set(runs, client) -> DevSet | None:
    """The dev set the ``runs`` share, from the first whose stored config rebuilds; None when
    none does or when their ``data.*`` params differ (no one dev set; ``data.train_fraction``
    only subsets the training examples)."""
    if client is None:
        return None
    keys = {tuple(sorted((k, v) for k, v in r.data.params.items()
                         if k.startswith("data.") and k != "data.train_fraction")) for r in runs}
    if len(keys) != 1:
        return None
    for run in runs:
        config, _ = stored_config(client, run)
        found = dev_set_of(config) if config is not None else None
        if found is not None:
            return found
    return None


def chance_text(dev: DevSet) -> str:
    """The majority-class share and the dev set's size, for a sentence."""
    return f"{dev.majority:.3f} (the majority-class share of {dev.n} dev examples)"

