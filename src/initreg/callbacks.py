"""Hydra callbacks: the sweep's MLflow parent run, created once in the submitting process.

``on_multirun_start`` runs before any job: it creates the store, the experiment and the parent
run, so parallel workers never race to migrate a fresh SQLite store or to create the experiment,
and writes ``mlflow_parent.json`` into the sweep directory, which every job finds through its
own config (``hydra.sweep.dir``), under any launcher. Hydra skips ``on_multirun_end`` when a job
raised, so the parent is also closed by an ``atexit`` hook; both paths are idempotent.
"""

import atexit
import fcntl
import json
import logging
import os
import signal
import sys
from pathlib import Path

from hydra import compose
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from initreg import doctor, interrupts, tracking
from initreg.config import ConfigError, validate
from initreg.data import DataError
from initreg.interrupts import Terminated
from initreg.job import load_data
from initreg.job_loading import load_dataset
from initreg.job_logging import log_inputs
from initreg.job_names import experiment_name, job_hash
from initreg.lifecycle import PARENT_FILE, read_parent
from initreg.nn import aot, compiled
from initreg.overrides import compose_jobs, expand_jobs
from initreg.progress import SweepProgress

log = logging.getLogger(__name__)
EXPANDED_SWEEPERS = (  # sweepers whose jobs are the cartesian product of their params
    "hydra._internal.core_plugins.basic_sweeper.BasicSweeper",
    "hydra_plugins.initreg_sweeper.initreg_sweeper.InitregSweeper",
)


class SweepCallback(Callback):
    """Owns a multirun's MLflow parent run, from the pre-check to the summary."""

    def __init__(self) -> None:
        self._parent: dict | None = None
        self._interrupted: str | None = None
        self._progress: SweepProgress | None = None

    def __getstate__(self) -> dict:
        # launchers send the callbacks to their workers; the display stays in this process
        return {**self.__dict__, "_progress": None}

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        """Check every job, then create the parent run; refuse the sweep in one line on error.

        Hydra turns an exception raised here into a warning and launches the jobs all the same
        (each would then run with no parent), so every failure becomes exit status 2 here.
        """
        try:
            self._start(config)
        except Exception as err:
            text = " ".join(str(err).split()) or type(err).__name__
            print(f"error: the sweep was refused before any job ran: {text[:500]}",
                  file=sys.stderr)
            sys.exit(2)

    def _start(self, config: DictConfig) -> None:
        jobs = plan(config)
        problems = check_jobs(jobs)
        if problems:  # refuse the whole sweep before anything is written
            for line in problems:
                print(f"error: {line}", file=sys.stderr)
            print(f"error: {len(problems)} of {len(jobs)} jobs have bad values; nothing was run",
                  file=sys.stderr)
            sys.exit(2)
        prepare_kernel(jobs)
        if not config.tracking.enabled:
            self._show_progress(Path(str(config.hydra.sweep.dir)).resolve(), len(jobs))
            return
        sweep_dir = Path(str(config.hydra.sweep.dir)).resolve()
        sweep_dir.mkdir(parents=True, exist_ok=True)  # fails here, before any run is written
        if not os.access(sweep_dir, os.W_OK):
            raise PermissionError(f"hydra.sweep.dir={str(sweep_dir)!r} is not writable")
        claim = claim_sweep_dir(sweep_dir)
        uri = tracking.resolve_uri(config.tracking.uri)
        mlflow = tracking.client(uri, config.tracking.timeout_s)
        for line in doctor.report(*doctor.heal(mlflow)):
            log.warning(line)
        exp = tracking.experiment_id(mlflow, experiment_name(config), uri)
        skipped = 0
        if jobs and jobs[0][1].resume:
            done = tracking.finished_hashes(mlflow, exp)
            skipped = sum(job_hash(cfg) in done for _, cfg in jobs)
            log.info("resume: %d of %d jobs already have a FINISHED run and are skipped",
                     skipped, len(jobs))
        overrides = list(config.hydra.overrides.task)
        source = tracking.source_tags()
        keys = varying_keys([job for job, _ in jobs])
        run = tracking.Run.start(mlflow, exp, f"sweep {sweep_dir.name}", tags={
            "sweep": "true",
            "sweep_overrides": " ".join(overrides),
            "sweep_keys": " ".join(keys) or None,
            "hydra_sweep_dir": str(sweep_dir),
            "git_commit": source.get("mlflow.source.git.commit"),
            "jobs_planned": len(jobs),
            "jobs_skipped": skipped,
            **doctor.process_tags(),
            **source,
        })
        run.log_params(fixed_params([cfg for _, cfg in jobs]))
        shared = shared_data([cfg for _, cfg in jobs])
        if shared is not None:  # every job trains on the same splits: the sweep's data too
            log_inputs(shared, run, load_data(shared))
        parent = {"tracking_uri": uri, "experiment_id": exp, "run_id": run.run_id,
                  "skipped": skipped, "sweep_dir": str(sweep_dir), "jobs_planned": len(jobs),
                  "timeout_s": config.tracking.timeout_s, "submitter": doctor.process_tags(),
                  "name_keys": keys or None, "source_tags": source}
        try:
            (sweep_dir / PARENT_FILE).write_text(json.dumps(parent, indent=2))
        except OSError:
            run.set_tags({"failure_reason": "exception",
                          "error_message": f"could not write {sweep_dir / PARENT_FILE}"})
            run.end("FAILED")
            raise
        finally:
            claim.close()  # the folder is now this sweep's (its parent file names it)
        self._parent = parent
        log.info("sweep parent run %s in experiment %r (%s); each job logs to %s/<job>/%s.log",
                 run.run_id, experiment_name(config), uri, sweep_dir, config.hydra.job.name)
        atexit.register(self._finish)
        self._catch_signals()
        self._show_progress(sweep_dir, len(jobs), skipped)

    def _show_progress(self, sweep_dir: Path, planned: int, skipped: int = 0) -> None:
        """One line per job start and end from here on (``initreg.progress``)."""
        self._progress = SweepProgress(sweep_dir, planned, skipped)
        self._progress.start()

    def _catch_signals(self) -> None:
        """Ctrl-C and SIGTERM stop the sweep: the jobs end KILLED, then the parent."""
        def stop(signum, frame):
            self._interrupted = signal.Signals(signum).name
            interrupts.raise_or_hold(KeyboardInterrupt() if signum == signal.SIGINT
                                     else Terminated("SIGTERM"))

        try:
            signal.signal(signal.SIGINT, stop)
            signal.signal(signal.SIGTERM, stop)
        except ValueError:  # not the main thread
            pass

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        self._finish(job_raised=False)

    def _finish(self, job_raised: bool = True) -> None:
        """Close the parent; reached through atexit alone only when a job raised."""
        if self._progress is not None:
            progress, self._progress = self._progress, None
            progress.stop()
        if self._parent is None:
            return
        parent, self._parent = self._parent, None
        # imported here: every sweep worker unpickles this callback, and the summary's imports
        # (seeds, aggregate, scipy.stats: ~0.4 s) are the submitter's alone
        from initreg.summary import close_sweep

        close_sweep(parent, job_raised=job_raised, interrupted=self._interrupted)


def claim_sweep_dir(sweep_dir: Path):
    """Lock ``sweep_dir`` for this sweep (an open file: close it once the parent file is
    written); refuse a folder whose parent file names a sweep that is still running.

    Jobs find their parent run through the folder's ``mlflow_parent.json``: two live sweeps in
    one folder would send each other's jobs to the wrong parent.
    """
    lock = open(sweep_dir / ".initreg-sweep.lock", "a")  # noqa: SIM115 - closed by the caller
    fcntl.flock(lock, fcntl.LOCK_EX)
    previous = read_parent(sweep_dir)
    owner = (previous or {}).get("submitter")
    if owner and str(owner.get("pid")) != str(os.getpid()) and doctor.process_gone(owner) is False:
        lock.close()
        raise RuntimeError(f"hydra.sweep.dir={str(sweep_dir)!r} belongs to the sweep that process "
                           f"{owner.get('pid')} is running; choose another folder")
    return lock


def prepare_kernel(jobs) -> None:
    """On a machine that has no compiled kernel yet, build it here, once (``initreg.nn.aot``),
    before any job needs it: the workers then load it instead of waiting for the first of them
    to build it, the console says what the pause is, and no job's time (nor the estimate of
    the time left) carries the build. Nothing when no job uses the compiled engine."""
    if any(cfg.train.engine == "compiled" for _, cfg in jobs) and compiled.available():
        aot.load()


def plan(config: DictConfig) -> list[tuple[list[str], DictConfig]]:
    """Every job of this multirun as (overrides, composed job config), composed up front.

    Only Hydra's basic sweeper is expanded here; other sweepers (Optuna, ...) choose their
    values as they go, and their jobs are checked one by one when they start.
    """
    if str(config.hydra.sweeper.get("_target_", "")) not in EXPANDED_SWEEPERS:
        return []
    jobs = expand_jobs(config.hydra.overrides.task, config.hydra.sweeper.get("params"))
    name = config.hydra.job.config_name
    configs = compose_jobs(lambda ov: compose(config_name=name, overrides=ov), jobs,
                           config.hydra.runtime.choices.keys())
    return list(zip(jobs, configs, strict=True))


def varying_keys(jobs: list[list[str]]) -> list[str]:
    """The override keys whose value differs between jobs, in the order they appear
    (``init``, ``reg.lambd``, ``reg.keep_prob``): what tells a sweep's runs apart."""
    parser = OverridesParser.create()
    parsed = [{o.key_or_group: str(o.value()) for o in parser.parse_overrides(job)}
              for job in jobs]
    keys = list(dict.fromkeys(k for job in parsed for k in job))
    # a key that some jobs leave out varies too
    return [k for k in keys if len({job.get(k) for job in parsed}) > 1]


def fixed_params(configs: list[DictConfig]) -> dict:
    """The params (``initreg.tracking.run_params``) every job of the sweep shares."""
    if not configs:
        return {}
    common = tracking.run_params(OmegaConf.to_container(configs[0], resolve=True))
    for cfg in configs[1:]:
        params = tracking.run_params(OmegaConf.to_container(cfg, resolve=True))
        common = {k: v for k, v in common.items() if k in params and params[k] == v}
    return common


def shared_data(configs: list[DictConfig]) -> DictConfig | None:
    """The config of the first job when every job loads the same splits, else None."""
    def key(cfg):  # the seed draws the training subset only when there is one
        fraction = cfg.data.train_fraction
        return OmegaConf.to_yaml(cfg.data.loader), fraction, cfg.seed if fraction < 1 else None

    same = configs and all(key(c) == key(configs[0]) for c in configs)
    return configs[0] if same else None


def check_jobs(jobs) -> list[str]:
    """One line for each job whose values or data are unusable (each data set loaded once)."""
    problems, shapes = [], {}
    for overrides, cfg in jobs:
        key = OmegaConf.to_yaml(cfg.data.loader)
        try:
            if key not in shapes:
                ds = load_dataset(cfg)
                shapes[key] = (ds.n_features, ds.X_train.shape[1])
            validate(cfg, *shapes[key])
        except (ConfigError, DataError) as err:
            problems.append(f"[{' '.join(overrides)}] {err}")
    return problems
