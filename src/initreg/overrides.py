"""Refuse bad command-line overrides in one line, and expand a sweep into its jobs' configs.

Hydra reports a wrong type or an unknown group option in several lines, after composing. The
entry point calls ``check_overrides`` first, against the structured schema and ``conf/``, so the
user sees one line naming the key, the value and what is allowed, and nothing starts.
"""

import copy
from collections.abc import Iterable
from pathlib import Path

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    ValidationError,
)
from omegaconf.nodes import BooleanNode, FloatNode, IntegerNode, StringNode

from initreg.config import Config, ConfigError, DataConf, InitConf, ModelConf

GROUPS = ("data", "init", "model", "experiment")
_KINDS = {FloatNode: "a number", IntegerNode: "an integer", BooleanNode: "true or false",
          StringNode: "a string"}


def group_options(conf_dir: Path, group: str) -> list[str]:
    """The option names of a config group (the YAML files in ``conf/<group>/``)."""
    return sorted(p.stem for p in (conf_dir / group).glob("*.yaml"))


def _values(override) -> list:
    if override.is_sweep_override():
        if not override.is_discrete_sweep():
            return []  # ranges/intervals belong to other sweepers; they check their own
        return list(override.sweep_iterator())
    return [override.value()]


def _expected(schema, key: str) -> str:
    parent, _, leaf = key.rpartition(".")
    container = OmegaConf.select(schema, parent) if parent else schema
    node = container._get_node(leaf) if container is not None else None
    if node is None:
        return "a value of the right type"
    for kind, text in _KINDS.items():
        if isinstance(node, kind):
            return text
    return "a list of integers" if key.endswith("layer_dims") else "a value of the right type"


def check_overrides(args: Iterable[str], conf_dir: Path) -> None:
    """Raise a one-line ``ConfigError`` for an unknown key, group option or wrongly typed value."""
    args = [a for a in args if "=" in a and not a.startswith("-")]
    try:
        overrides = OverridesParser.create().parse_overrides(args)
    except Exception as err:  # Hydra's and OmegaConf's parse errors
        raise ConfigError(str(err).splitlines()[0]) from None
    schema = OmegaConf.structured(Config(data=DataConf(), init=InitConf(), model=ModelConf()))
    for ov in overrides:
        key = ov.key_or_group
        if ov.is_hydra_override() or ov.is_delete() or ov.is_add() or ov.is_force_add():
            continue
        if key in GROUPS:
            allowed = group_options(conf_dir, key)
            for v in _values(ov):
                if v is not None and str(v) not in allowed:
                    raise ConfigError(f"{key}={v!r} is not allowed; allowed: {', '.join(allowed)}")
            continue
        for v in _values(ov):
            try:
                OmegaConf.update(schema, key, v, merge=True)
            except (ConfigKeyError, ConfigAttributeError):
                parent, _, leaf = key.rpartition(".")
                node = OmegaConf.select(schema, parent) if parent else schema
                keys = ", ".join(node.keys()) if hasattr(node, "keys") else ""
                raise ConfigError(
                    f"{key}: no such key; allowed keys{' in ' + parent if parent else ''}: {keys}"
                ) from None
            except ValidationError:
                raise ConfigError(
                    f"{key}={v!r} is not allowed; allowed: {_expected(schema, key)}"
                ) from None


def expand_jobs(task_overrides: Iterable[str], sweeper_params) -> list[list[str]]:
    """Each job's overrides, as Hydra's basic sweeper will launch them."""
    params = [f"{k}={v}" for k, v in (sweeper_params or {}).items()]
    parsed = OverridesParser.create().parse_overrides([*params, *task_overrides])
    (batch,) = BasicSweeper.split_arguments(parsed, None)
    return batch


def compose_jobs(compose, jobs: list[list[str]], groups: Iterable[str]) -> list:
    """Each job's composed config, composing once per distinct choice of config groups.

    compose: ``overrides -> config`` (``hydra.compose`` bound to the config name). Jobs that
    differ only in plain values (``reg.lambd=0.1``) share one composition and get their values
    set on a copy the way Hydra applies value overrides (``OmegaConf.update(..., merge=True)``,
    after the defaults list); group choices (``init=he``), ``+``/``~`` and ``@package``
    overrides go to ``compose``. Composing is a tenth of a second each: a 27-job sweep checks
    its jobs in a third of a second instead of 2.5.
    """
    groups = set(groups)
    parser = OverridesParser.create()
    shared: dict[tuple[str, ...], object] = {}
    out = []
    for job in jobs:
        parsed = parser.parse_overrides(job)
        is_plain = [_is_plain_value(o, groups) for o in parsed]
        plain = [o for o, p in zip(parsed, is_plain, strict=True) if p]
        rest = tuple(text for text, p in zip(job, is_plain, strict=True) if not p)
        if rest not in shared:
            shared[rest] = compose(list(rest))
        cfg = copy.deepcopy(shared[rest])
        try:
            for o in plain:
                OmegaConf.update(cfg, o.key_or_group, o.value(), merge=True)
        except (ConfigAttributeError, ConfigKeyError, ValidationError):
            cfg = compose(list(job))  # Hydra's own composition reports it in its words
        out.append(cfg)
    return out


def _is_plain_value(override, groups: set[str]) -> bool:
    """``key=value`` on a config key: not a group choice, not ``+``/``~``, no ``@package``."""
    key = override.key_or_group
    return (not override.is_add() and not override.is_delete() and not override.is_force_add()
            and override.package is None and "/" not in key and key not in groups
            and key.split(".")[0] != "hydra")
