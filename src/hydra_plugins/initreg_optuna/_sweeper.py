"""Search beyond the grid: current Optuna, asked and told trial by trial (``hydra/sweeper=optuna``).

    python pipelines/train.py -m hydra/sweeper=optuna hydra.sweeper.n_trials=12 \\
        'reg.lambd=interval(0,2)' 'reg.keep_prob=interval(0.5,1)' 'init=choice(zeros,random,he)'

Every trial is one job of the sweep, launched by the configured launcher, gated and tracked like
any job under the sweep's one parent run; the study maximises the job's dev accuracy. A job that
returns no dev accuracy (gated, diverged, skipped: NaN) or raises is told to Optuna as a failed
trial (``TrialState.FAIL``), never as a score; a job that raised then stops the sweep, as under
the basic sweeper. The study lives in ``<hydra.sweep.dir>/optuna.db`` (SQLite) under a fixed
name, so the same command with the same ``hydra.sweep.dir`` resumes it: ``n_trials`` is the
study's whole budget, trials a stopped sweep left running are run again.

Why not hydra-optuna-sweeper: its 1.3.0 pins optuna<3, and optuna 2.10.1 cannot open an SQLite
study under SQLAlchemy 2 (which MLflow needs), so its study could not live beside the sweep.
The search space takes Hydra's sweep syntax as that plugin does: ``interval(a,b)``
(``tag(log,interval(a,b))``), ``range(a,b[,step])``, ``choice(...)`` or ``a,b,c``; plain values
are passed to every trial as they are.
"""

import json
import logging
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from initreg.overrides import sweep_context

log = logging.getLogger(__name__)
STORAGE_FILE = "optuna.db"  # the study's SQLite file, in hydra.sweep.dir
RESULTS_FILE = "optimization_results.yaml"  # the best trial, as hydra-optuna-sweeper writes it


@dataclass
class InitregOptunaSweeperConf:
    _target_: str = "hydra_plugins.initreg_optuna._sweeper.InitregOptunaSweeper"
    _recursive_: bool = False  # the sampler is built by the sweeper, its seed offset on resume
    n_trials: int = 20  # the study's whole budget: a resumed study runs only the rest
    n_jobs: int = 2  # trials asked and launched together (the launcher runs them in parallel)
    study_name: str = "initreg"
    storage: str | None = None  # None: sqlite:///<hydra.sweep.dir>/optuna.db
    sampler: Any = field(default_factory=lambda: {"_target_": "optuna.samplers.TPESampler",
                                                  "seed": 0})
    params: dict[str, str] | None = None  # the search space, in Hydra's sweep syntax


ConfigStore.instance().store(group="hydra/sweeper", name="initreg_optuna",
                             node=InitregOptunaSweeperConf, provider="initreg")


# --- the search space --------------------------------------------------------------------------

def search_space(arguments: Sequence[str], config_loader=None) -> tuple[dict, list[str]]:
    """``(distributions, fixed)``: an Optuna distribution per swept key, and the overrides every
    trial gets as they are (plain values)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    space, fixed = {}, []
    for ov in OverridesParser.create(config_loader).parse_overrides(list(arguments)):
        key = ov.get_key_element()
        if not ov.is_sweep_override():
            fixed.append(ov.input_line)
        elif ov.is_interval_sweep():
            iv = ov.value()
            log_scale = "log" in iv.tags
            if isinstance(iv.start, int) and isinstance(iv.end, int):
                space[key] = IntDistribution(iv.start, iv.end, log=log_scale)
            else:
                space[key] = FloatDistribution(float(iv.start), float(iv.end), log=log_scale)
        elif ov.is_range_sweep():
            rs, values = ov.value(), list(ov.sweep_iterator())
            if not values:
                raise ValueError(f"{ov.input_line}: the range is empty")
            kind = IntDistribution if all(isinstance(v, int) for v in values) else \
                FloatDistribution
            space[key] = kind(values[0], values[-1], step=rs.step)
        elif ov.is_choice_sweep():
            space[key] = CategoricalDistribution(list(ov.sweep_string_iterator()))
        else:
            raise ValueError(f"{ov.input_line}: not a sweep Optuna can search; allowed: "
                             "interval(a,b), tag(log,interval(a,b)), range(a,b,step), "
                             "choice(a,b,...) or a,b,...")
    return space, fixed


def trial_overrides(params: dict[str, Any], fixed: Sequence[str]) -> list[str]:
    """A trial's overrides: the sampled values, then the fixed ones."""
    def text(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        return "null" if v is None else repr(v) if isinstance(v, float) else str(v)

    return [*(f"{k}={text(v)}" for k, v in params.items()), *fixed]


# --- a job's outcome, told to Optuna -----------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """What one trial's job gave: a finite dev accuracy (``value``), or why it has none."""

    value: float | None
    status: str  # the job's outcome (initreg_job.json): FINISHED, FAILED, skipped, ... or raised
    reason: str = ""
    run_id: str | None = None
    error: BaseException | None = None  # the job raised this

    @property
    def state(self) -> str:
        return "COMPLETE" if self.value is not None else "FAIL"


def job_record(ret: JobReturn) -> dict:
    """The job's ``initreg_job.json`` (its outcome and run id), {} when it wrote none."""
    from initreg.lifecycle import STATUS_FILE

    try:
        folder = Path(str(ret.hydra_cfg.hydra.runtime.output_dir))
        return json.loads((folder / STATUS_FILE).read_text())
    except (AttributeError, OSError, ValueError):
        return {}


def outcome(ret: JobReturn) -> Outcome:
    """The trial's :class:`Outcome` from its ``JobReturn``: a value only when the job returned a
    finite number; NaN (gated, diverged, skipped), anything else and an exception fail it."""
    record = job_record(ret)
    status, run_id = str(record.get("status", "")), record.get("run_id")
    if ret.status != JobStatus.COMPLETED:
        err = ret._return_value
        return Outcome(None, "raised", f"{type(err).__name__}: {err}", run_id,
                       err if isinstance(err, BaseException) else RuntimeError(str(err)))
    value = ret.return_value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return Outcome(None, status, f"the job returned {value!r}, not a number", run_id)
    if not math.isfinite(number):
        return Outcome(None, status, record.get("reason") or "no dev accuracy", run_id)
    return Outcome(number, status or "FINISHED", "", run_id)


def tell(study, trial, result: Outcome) -> None:
    """Tell ``study`` how ``trial`` ended: its dev accuracy, or ``TrialState.FAIL`` (no value);
    the job's status, reason and run id become the trial's user attributes."""
    from optuna.trial import TrialState

    for key, value in (("status", result.status), ("reason", result.reason),
                       ("run_id", result.run_id)):
        if value:
            trial.set_user_attr(key, value)
    if result.value is None:
        study.tell(trial, state=TrialState.FAIL)
    else:
        study.tell(trial, result.value)


def resume(study, n_trials: int) -> int:
    """How many trials are left of the study's budget ``n_trials``; trials a stopped sweep left
    RUNNING are failed and asked again (enqueued with their params).

    A trial counts against the budget once it ended with its job's outcome (the ``status``
    user attribute, set by :func:`tell`).
    """
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(t.number, state=TrialState.FAIL)
        study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})
        log.warning("optuna: trial %d was left running by a stopped sweep; it runs again",
                    t.number)
    ended = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,
                                                                  TrialState.FAIL))
             if "status" in t.user_attrs]
    return max(0, n_trials - len(ended))


# --- the sweeper -------------------------------------------------------------------------------

class InitregOptunaSweeper(Sweeper):
    """Asks Optuna for ``n_jobs`` trials at a time, launches them as jobs, tells their outcomes."""

    def __init__(self, n_trials: int, n_jobs: int, study_name: str, storage: str | None,
                 sampler: Any, params: DictConfig | None) -> None:
        for key, value in (("n_trials", n_trials), ("n_jobs", n_jobs)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"hydra.sweeper.{key}={value!r} is not allowed; allowed: an "
                                 "integer >= 1")
        self.n_trials, self.n_jobs = n_trials, n_jobs
        self.study_name, self.storage = study_name, storage
        self.sampler_conf, self.params = sampler, params
        self.config: DictConfig | None = None
        self.hydra_context: HydraContext | None = None
        self.launcher = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        hydra_context = sweep_context(hydra_context)  # a trial's config: once per group choice
        self.config, self.hydra_context = config, hydra_context
        self.launcher = Plugins.instance().instantiate_launcher(
            config=config, hydra_context=hydra_context, task_function=task_function)

    def _sweep_dir(self) -> Path:
        return Path(str(self.config.hydra.sweep.dir)).resolve()

    def _study(self):
        """The study, created or loaded; a seeded sampler's seed is offset by the number of
        trials already in the study, so a resumed study does not draw its first points again."""
        import optuna

        storage = self.storage or f"sqlite:///{self._sweep_dir() / STORAGE_FILE}"
        self._sweep_dir().mkdir(parents=True, exist_ok=True)
        study = optuna.create_study(study_name=self.study_name, storage=storage,
                                    direction="maximize", load_if_exists=True)
        if not self.sampler_conf:
            return study, storage
        conf = OmegaConf.to_container(OmegaConf.create(self.sampler_conf), resolve=True)
        if conf.get("seed") is not None:
            conf["seed"] = int(conf["seed"]) + len(study.get_trials(deepcopy=False))
        study = optuna.load_study(study_name=self.study_name, storage=storage,
                                  sampler=instantiate(conf))
        return study, storage

    def sweep(self, arguments: list[str]) -> None:
        params = [f"{k}={v}" for k, v in (self.params or {}).items()]
        try:
            space, fixed = search_space([*params, *arguments], self.hydra_context.config_loader)
        except ValueError as err:
            _refuse(str(err))
        if not space:
            _refuse("hydra/sweeper=optuna has nothing to search: give a range, e.g. "
                    "'reg.lambd=interval(0,2)' 'init=choice(zeros,he)'")
        study, storage = self._study()
        left = resume(study, self.n_trials)
        parent = _Parent.of(self._sweep_dir())
        parent.start(study.study_name, storage, self.n_trials, space)
        log.info("optuna: study %r in %s, %d of %d trials to run", study.study_name, storage,
                 left, self.n_trials)
        while left > 0:
            trials = [study.ask(space) for _ in range(min(self.n_jobs, left))]
            batch = [trial_overrides(t.params, fixed) for t in trials]
            self._refuse_bad_values(study, trials, batch)
            returns = self.launcher.launch(batch, initial_job_idx=trials[0].number)
            raised = None
            for trial, ret in zip(trials, returns, strict=True):
                result = outcome(ret)
                tell(study, trial, result)
                parent.told(trial.number, result, study)
                log.info("optuna: trial %d %s%s", trial.number, result.state,
                         f" dev accuracy {result.value:.4f}" if result.value is not None
                         else f" ({result.reason})")
                if result.error is not None and raised is None:
                    raised = ret
            left -= len(trials)
            if raised is not None:  # as under the basic sweeper, a job that raised stops it
                _ = raised.return_value  # Hydra's JobReturn raises the job's exception here
        parent.finish(study)
        _write_results(study, self._sweep_dir() / RESULTS_FILE)

    def _refuse_bad_values(self, study, trials, batch) -> None:
        """Compose every trial's config and check its values (``callbacks.check_jobs``); a bad
        one fails its trial and stops the sweep in one line (exit 2), before any job of the
        batch runs."""
        from optuna.trial import TrialState

        from initreg.callbacks import check_jobs

        loader = self.hydra_context.config_loader
        jobs = [(overrides, loader.load_sweep_config(self.config, list(overrides)))
                for overrides in batch]
        problems = check_jobs(jobs)
        if not problems:
            return
        for trial in trials:  # no "status": a refused trial does not count against the budget
            trial.set_user_attr("reason", "refused before it ran: a bad value in its batch")
            study.tell(trial, state=TrialState.FAIL)
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        _refuse("a trial has a value the pipeline refuses; narrow the search space "
                "(hydra.sweeper.params or the command line); nothing of this batch was run")


def _refuse(message: str) -> None:
    """Stop the search on a bad search space, in one line, exit status 2 (as a refused sweep)."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def _best(study):
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return max(done, key=lambda t: (t.value, -t.number)) if done else None


def _write_results(study, path: Path) -> None:
    best = _best(study)
    OmegaConf.save(OmegaConf.create({
        "name": "optuna", "study": study.study_name,
        "best_params": dict(best.params) if best else None,
        "best_value": best.value if best else None,
        "best_trial": best.number if best else None}), path)
    if best is not None:
        log.info("optuna: best trial %d, dev accuracy %.4f, %s", best.number, best.value,
                 best.params)


class _Parent:
    """The sweep's parent run (from its ``mlflow_parent.json``), told about the study: its tags
    and, trial by trial, the dev accuracy and the best so far. Does nothing without one
    (``tracking.enabled=false``); each child run gets its trial's number and state as tags."""

    def __init__(self, parent: dict | None):
        self.parent = parent
        self.mlflow = None
        if parent:
            from initreg import tracking

            self.mlflow = tracking.client(parent["tracking_uri"], parent.get("timeout_s", 60))

    @classmethod
    def of(cls, sweep_dir: Path) -> "_Parent":
        from initreg.lifecycle import read_parent

        return cls(read_parent(sweep_dir))

    def _run(self, run_id: str):
        from initreg import tracking

        return tracking.Run(self.mlflow, run_id)

    def start(self, study: str, storage: str, n_trials: int, space: dict) -> None:
        if self.mlflow is None:
            return
        self._run(self.parent["run_id"]).set_tags({
            "sweeper": "optuna", "optuna_study": study, "optuna_storage": storage,
            "optuna_n_trials": n_trials,
            "optuna_search_space": "; ".join(f"{k}: {d}" for k, d in space.items())})

    def told(self, number: int, result: Outcome, study) -> None:
        if self.mlflow is None:
            return
        if result.run_id:
            self._run(result.run_id).set_tags({"optuna_trial": number,
                                               "optuna_study": study.study_name,
                                               "optuna_state": result.state})
        parent = self._run(self.parent["run_id"])
        if result.value is not None:
            parent.add_metric("trial_dev_accuracy", result.value, number)
        best = _best(study)
        if best is not None:
            parent.add_metric("best_dev_accuracy_so_far", best.value, number)
        parent.flush()

    def finish(self, study) -> None:
        if self.mlflow is None:
            return
        from optuna.trial import TrialState

        states = [t.state for t in study.get_trials(deepcopy=False)]
        best = _best(study)
        self._run(self.parent["run_id"]).set_tags({
            "optuna_trials_complete": states.count(TrialState.COMPLETE),
            "optuna_trials_failed": states.count(TrialState.FAIL),
            "optuna_best_trial": best.number if best else None,
            "optuna_best_params": json.dumps(best.params) if best else None})
