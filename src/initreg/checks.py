"""The value checks run before any work: one line naming the key, the value and what is
allowed (``ConfigError``), for a composed config and, when known, the data's sizes.

Besides ranges and types the schema cannot express, they bound what a run may ask of this
machine (its memory, the gate's work) and of its store (the tracking URI, the experiment name).
"""

import functools
import importlib
import inspect
import math
import os
import tempfile
from importlib.metadata import entry_points
from pathlib import Path
from urllib.parse import urlparse

from omegaconf import DictConfig, ListConfig, OmegaConf, read_write

from initreg.gradcheck import MAX_ATTEMPTS, MAX_DIRECTIONS, MODES
from initreg.nn.init import SCHEMES
from initreg.nn.network import ENGINES
from initreg.nn.rng import CONVENTIONS

DIAGNOSIS_METRICS = ("error", "f1")
SEED_MAX = 2**32 - 1  # RandomState (convention=course) takes seeds in [0, 2**32)
# MLflow's MAX_EXPERIMENT_NAME_LENGTH (mlflow/utils/validation.py)
MAX_EXPERIMENT_NAME = 500
# The schemes MLflow's tracking store registry knows (mlflow/tracking/_tracking_service/utils.py
# _register_tracking_stores; "" is a local path, a file store), plugins' come from entry points
TRACKING_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql", "http", "https", "file",
                    "databricks", "databricks-uc", "uc")
DATABASE_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")  # may carry a driver: mysql+pymysql
# The peak bytes of a run, in float64 copies (measured with tracemalloc, see run_bytes): the
# parameters are held up to 8 times at once (the model, its gradients, the gate's saved copy,
# analytic gradients, direction and perturbation), the activations of the training set about 4
# times (the forward/backward buffers, the ReLU masks and the per-layer statistics).
PARAM_COPIES = 8
ACTIVATION_COPIES = 5
# The gate's work: evaluations of the objective, and multiply-adds over all of them
MAX_GATE_EVALUATIONS = 100_000
MAX_GATE_WORK = 10**12


class ConfigError(ValueError):
    """A config value that is not allowed: the key, the value and what is allowed, in one line."""


def _shown(value) -> str:
    """``repr(value)``, cut in the middle when long, so the error stays one readable line."""
    text = repr(value)
    if len(text) <= 120:
        return text
    size = len(value) if isinstance(value, str) else len(text)
    return f"{text[:60]}...{text[-20:]} ({size} characters)"


def _fail(key: str, value, allowed: str) -> None:
    raise ConfigError(f"{key}={_shown(value)} is not allowed; allowed: {allowed}")


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def validate(cfg, n_features: int | None = None, n_examples: int | None = None) -> None:
    """Check every value the run depends on; raise ``ConfigError`` on the first bad one.

    ``n_features`` is the loaded data's feature count, checked against ``model.layer_dims[0]``;
    ``n_examples`` the number of training examples, for the memory estimate (None: the
    parameters only). Every ``-0.0`` in ``cfg`` is set to ``0.0`` in place: the two compute the
    same run, and must give it one ``config_hash`` (a resumed sweep would run it again).
    """
    _check_numbers(cfg)
    kp = cfg.reg.keep_prob
    if not _is_number(kp) or not 0.0 < kp <= 1.0:
        _fail("reg.keep_prob", kp, "a number in (0, 1]")
    if not _is_number(cfg.reg.lambd) or not cfg.reg.lambd >= 0:
        _fail("reg.lambd", cfg.reg.lambd, "a number >= 0")
    if not _is_number(cfg.train.learning_rate) or not cfg.train.learning_rate > 0:
        _fail("train.learning_rate", cfg.train.learning_rate, "a number > 0")
    n_it = cfg.train.num_iterations
    if not _is_int(n_it) or n_it < 1:
        _fail("train.num_iterations", n_it, "an integer >= 1")
    if not isinstance(cfg.train.log_every, int) or cfg.train.log_every < 1:
        _fail("train.log_every", cfg.train.log_every, "an integer >= 1")
    if not cfg.train.divergence_factor > 1:
        _fail("train.divergence_factor", cfg.train.divergence_factor, "a number > 1")
    if cfg.train.engine not in ENGINES:
        _fail("train.engine", cfg.train.engine, " or ".join(ENGINES))
    for key in ("seed", "gradcheck.mask_seed"):
        seed = OmegaConf.select(cfg, key)
        if not _is_int(seed) or not 0 <= seed <= SEED_MAX:
            _fail(key, seed, f"an integer from 0 to {SEED_MAX}")
    dims = list(cfg.model.layer_dims)
    if len(dims) < 2 or any(not _is_int(d) or d < 1 for d in dims):
        _fail("model.layer_dims", dims, "at least two integer sizes >= 1, e.g. [2, 20, 3, 1]")
    if dims[-1] != 1:
        _fail("model.layer_dims", dims, "an output size of 1 (a binary classifier)")
    _check_data_sizes(cfg, dims, n_features, n_examples)
    if cfg.init.name not in SCHEMES:
        _fail("init.name", cfg.init.name, ", ".join(SCHEMES))
    if cfg.convention not in CONVENTIONS:
        _fail("convention", cfg.convention, ", ".join(CONVENTIONS))
    _check_gradcheck(cfg.gradcheck, dims, n_examples)
    frac = cfg.data.train_fraction
    if not _is_number(frac) or not 0 < frac <= 1:
        _fail("data.train_fraction", frac, "a number in (0, 1]")
    if cfg.data.bayes_error is not None and not 0 <= cfg.data.bayes_error < 1:
        _fail("data.bayes_error", cfg.data.bayes_error, "a number in [0, 1)")
    f1_error = cfg.data.bayes_f1_error
    if f1_error is not None and not 0 <= f1_error < 1:
        _fail("data.bayes_f1_error", f1_error, "a number in [0, 1), or null (not known)")
    _check_loader(cfg.data.loader)
    if cfg.diagnosis.metric not in DIAGNOSIS_METRICS:
        _fail("diagnosis.metric", cfg.diagnosis.metric, ", ".join(DIAGNOSIS_METRICS))
    if not 0 <= cfg.diagnosis.tolerance < 1:  # errors are in [0, 1]: 1 would call nothing high
        _fail("diagnosis.tolerance", cfg.diagnosis.tolerance, "a number in [0, 1)")
    timeout = cfg.tracking.timeout_s
    if not _is_number(timeout) or not 1 <= timeout <= 3600:
        _fail("tracking.timeout_s", timeout, "a number of seconds in [1, 3600]")
    flush = cfg.tracking.flush_seconds
    if not _is_number(flush) or not 0 <= flush <= 3600:
        _fail("tracking.flush_seconds", flush, "a number of seconds in [0, 3600]")
    _check_experiment(cfg)
    if cfg.tracking.enabled:
        _check_tracking_uri(cfg.tracking.uri)


def validate_sizes(cfg, n_features: int, n_examples: int) -> None:
    """What :func:`validate` checks against the data's sizes (``model.layer_dims[0]`` against
    ``n_features``, the run's memory and the gate's work for ``n_examples``), for a config
    :func:`validate` has passed without them: a job checks its values before it loads the
    data, and then only these."""
    dims = list(cfg.model.layer_dims)
    _check_data_sizes(cfg, dims, n_features, n_examples)
    _check_gradcheck(cfg.gradcheck, dims, n_examples)


def _check_data_sizes(cfg, dims: list[int], n_features: int | None,
                      n_examples: int | None) -> None:
    if n_features is not None and dims[0] != n_features:
        _fail("model.layer_dims", dims,
              f"a first size equal to the data's feature count ({n_features} for {cfg.data.name})")
    check_memory(dims, n_examples)


def _leaves(node, prefix: str = ""):
    """(container, key, dotted name) of every set leaf of a config; the ``hydra`` node skipped."""
    items = node.items_ex(resolve=False) if isinstance(node, DictConfig) else enumerate(node)
    for key, _ in list(items):
        name = f"{prefix}{key}" if isinstance(node, DictConfig) else f"{prefix[:-1]}[{key}]"
        if name == "hydra" or OmegaConf.is_missing(node, key):
            continue
        value = node[key]
        if isinstance(value, DictConfig | ListConfig):
            yield from _leaves(value, name + ".")
        else:
            yield node, key, name


def _check_numbers(cfg) -> None:
    """Refuse a NaN or an infinity anywhere (``train.learning_rate=inf``, ``init.scale=nan``);
    set each ``-0.0`` to ``0.0``."""
    for node, key, name in _leaves(cfg):
        value = node[key]
        if not isinstance(value, float):
            continue
        if not math.isfinite(value):
            _fail(name, value, "a finite number")
        if value == 0 and math.copysign(1.0, value) < 0:
            with read_write(node):
                node[key] = 0.0


def run_bytes(layer_dims, n_examples: int = 0) -> int:
    """An upper bound of the bytes a run of ``Network(layer_dims)`` holds at once, in float64.

    ``PARAM_COPIES`` copies of the parameters (the gradient check's peak) plus
    ``ACTIVATION_COPIES`` copies of every layer's activations over ``n_examples`` training
    examples (training's peak); the data itself is not counted.
    """
    dims = list(layer_dims)
    n_params = sum(n * (n_prev + 1) for n_prev, n in zip(dims, dims[1:], strict=False))
    return 8 * (PARAM_COPIES * n_params + ACTIVATION_COPIES * sum(dims[1:]) * n_examples)


def available_memory() -> int | None:
    """Bytes the machine can still give: ``MemAvailable`` (Linux), else its physical memory."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None  # not known: no memory check


def _gigabytes(n_bytes: int) -> str:
    return f"{n_bytes / 1e9:.3g} GB"


def check_memory(layer_dims, n_examples: int | None = None, memory: int | None = None) -> None:
    """Refuse ``model.layer_dims`` whose run needs more than ``memory`` bytes (None: what the
    machine has available), by ``run_bytes``."""
    dims = list(layer_dims)
    memory = available_memory() if memory is None else memory
    need = run_bytes(dims, n_examples or 0)
    if memory is not None and need > memory:
        on = f" and {n_examples} training examples" if n_examples else ""
        _fail("model.layer_dims", dims, f"sizes whose run fits in memory (these{on} need about "
              f"{_gigabytes(need)}; this machine has {_gigabytes(memory)} available)")


def gate_evaluations(layer_dims, mode: str, directions: int) -> int:
    """How many times the gate evaluates the objective on a ``Network(layer_dims)``:
    ``full`` twice per parameter, ``directional`` twice per direction per array (W and b), once
    more for the analytic gradient."""
    dims = list(layer_dims)
    if mode == "full":
        return 1 + 2 * sum(n * (n_prev + 1) for n_prev, n in zip(dims, dims[1:], strict=False))
    return 1 + 2 * directions * 2 * (len(dims) - 1)


def _check_gradcheck(g, dims: list[int], n_examples: int | None) -> None:
    """The gate's values, and its work bounded: ``gradcheck.directions=100000000`` would run
    for days. The batch is the training examples' count when known, else ``batch_size``."""
    if g.mode not in MODES:
        _fail("gradcheck.mode", g.mode, ", ".join(MODES))
    if not g.epsilon > 0:
        _fail("gradcheck.epsilon", g.epsilon, "a number > 0")
    # the relative difference is at most 1 (triangle inequality): 1 or more passes any gradient
    if not 0 < g.threshold < 1:
        _fail("gradcheck.threshold", g.threshold, "a number in (0, 1)")
    if not _is_int(g.batch_size) or g.batch_size < 1:
        _fail("gradcheck.batch_size", g.batch_size, "an integer >= 1")
    if not _is_int(g.directions) or not 1 <= g.directions <= MAX_DIRECTIONS:
        _fail("gradcheck.directions", g.directions, f"an integer from 1 to {MAX_DIRECTIONS}")
    if not _is_int(g.attempts) or not 1 <= g.attempts <= MAX_ATTEMPTS:
        _fail("gradcheck.attempts", g.attempts, f"an integer from 1 to {MAX_ATTEMPTS}")
    # each evaluation is a forward and backward pass: about batch x parameters multiply-adds
    n_params = gate_evaluations(dims, "full", 0) // 2
    batch = min(g.batch_size, n_examples) if n_examples else g.batch_size
    limits = (f"the gate makes at most {MAX_GATE_EVALUATIONS:,} evaluations and "
              f"{MAX_GATE_WORK:.0e} multiply-adds")
    most = min(MAX_GATE_EVALUATIONS, MAX_GATE_WORK // (batch * n_params))
    if gate_evaluations(dims, g.mode, g.directions) <= most:
        return
    if g.mode == "full":
        _fail("gradcheck.mode", g.mode, f"directional for a model of {n_params:,} parameters "
              f"(full evaluates twice per parameter; {limits})")
    per_direction = 2 * 2 * (len(dims) - 1)
    if most < 1 + per_direction:
        _fail("gradcheck.batch_size", g.batch_size,
              f"an integer from 1 to {MAX_GATE_WORK // ((1 + per_direction) * n_params)} for a "
              f"model of {n_params:,} parameters ({limits})")
    _fail("gradcheck.directions", g.directions,
          f"an integer from 1 to {(most - 1) // per_direction} for this model "
          f"({per_direction} evaluations each; {limits})")


def _check_loader(loader) -> None:
    """The loader is importable and takes every key given (``data.loader.nosie`` is a typo)."""
    target = loader.get("_target_")
    module, _, name = str(target).rpartition(".")
    try:  # not hydra.utils.get_method: it logs a failure in several lines of its own
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        fn = None
    if not callable(fn):
        _fail("data.loader._target_", target, "an importable loader, e.g. initreg.data.load_moons")
    kwargs = {k: v for k, v in loader.items_ex(resolve=False) if not str(k).startswith("_")}
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return  # no signature to check against (a builtin): the loader checks its own
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    unknown = [k for k in kwargs if k not in params]
    if unknown and not takes_any:
        raise ConfigError(f"data.loader.{unknown[0]}: no such key; allowed keys in data.loader: "
                          f"{', '.join(params)}")


def _check_experiment(cfg) -> None:
    """The experiment's name is a name, not a path: it becomes a folder beside a SQLite store."""
    key, name = (("tracking.experiment", cfg.tracking.experiment) if cfg.tracking.experiment
                 else ("data.name", cfg.data.name))
    if (not isinstance(name, str) or not name or len(name) > MAX_EXPERIMENT_NAME
            or "/" in name or "\\" in name or name in (".", "..") or name.startswith("~")
            or any(ord(c) < 32 or ord(c) == 127 for c in name)):
        _fail(key, name, f"a name of 1 to {MAX_EXPERIMENT_NAME} characters without / or \\, "
              "not . or .., not starting with ~, without control characters")


@functools.cache
def tracking_schemes() -> tuple[str, ...]:
    """The URI schemes MLflow has a tracking store for: its own and its plugins' (read once a
    process: the scan of the installed packages' entry points costs ~7 ms, twice per job)."""
    plugins = tuple(ep.name for ep in entry_points(group="mlflow.tracking_store"))
    return TRACKING_SCHEMES + plugins


def uri_scheme(uri: str) -> str:
    """The scheme MLflow picks the store by: ``mysql+pymysql://`` is ``mysql``; a path ``""``."""
    scheme = urlparse(uri).scheme.lower()
    for db in DATABASE_SCHEMES:
        if scheme.startswith(db):
            return db
    return "" if len(scheme) == 1 else scheme  # C:\... is a Windows path


def creatable_dir(path: str | Path) -> bool:
    """Whether folder ``path`` exists or can be created, and a file can be written in it.

    Probes with a temporary folder in ``path`` or its nearest existing parent, removed at once:
    permission bits alone do not tell (root may write anywhere, but not in /proc).
    """
    probe = Path(path).expanduser().absolute()
    try:
        while not probe.exists():
            probe = probe.parent
        if not probe.is_dir():
            return False
        tempfile.TemporaryDirectory(dir=probe).cleanup()
    except OSError:
        return False
    return True


def _check_tracking_uri(uri: str | None) -> None:
    """The store MLflow will open: a scheme it knows, and a SQLite file that can be written."""
    from initreg.tracking import DEFAULT_URI, sqlite_path  # MLflow: imported only when tracking

    key = "tracking.uri"
    if uri is None and os.environ.get("MLFLOW_TRACKING_URI"):
        key, uri = "MLFLOW_TRACKING_URI", os.environ["MLFLOW_TRACKING_URI"]
    uri = uri or DEFAULT_URI
    schemes = tracking_schemes()
    if uri_scheme(uri) not in ("", *schemes):
        _fail(key, uri, f"a URI with one of the schemes {', '.join(schemes)}, or a local path")
    db = sqlite_path(uri)
    if db is None:
        return
    db = db.expanduser()
    if db.is_dir() or not creatable_dir(db.parent) or (db.exists() and not os.access(db, os.W_OK)):
        _fail(key, uri, "a SQLite file that can be written, in a folder that exists or can be "
              "created")
