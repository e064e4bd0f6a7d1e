"""One gated, tracked training run (or, with -m, one job of a sweep); the stages are in
``initreg.job``.

    python pipelines/train.py                                   # football, He init
    python pipelines/train.py experiment=course_init init=he    # reproduces 298/300 and 96/100
    python pipelines/train.py -m experiment=default_sweep       # the 27-run sweep

Exit status: 0 when the run FINISHED (or was skipped by resume), 1 when it ended FAILED (gate,
divergence, an exception), 2 for a bad value (nothing written), 130/143 on SIGINT/SIGTERM.
"""

import atexit
import gc
import signal
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from initreg import config as schema
from initreg import interrupts
from initreg.data import DataError
from initreg.overrides import check_overrides

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


def _stop(signum, frame):
    """Ctrl-C and SIGTERM end the run KILLED: raised at once, or as soon as a write to the
    store under way has ended (``initreg.interrupts``)."""
    interrupts.raise_or_hold(KeyboardInterrupt() if signum == signal.SIGINT
                             else interrupts.Terminated("SIGTERM"))


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> float:
    # imported once the command line has passed its pre-check (below): a refused value is
    # answered in half a second, before MLflow, numba and matplotlib are loaded (1.5 s more)
    from initreg.job import run_job
    from initreg.lifecycle import in_sweep
    from initreg.tracking import TrackingUnavailable

    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) in (signal.SIG_DFL, signal.default_int_handler):
            try:  # Python's default only: a sweep's own handler stays (initreg.callbacks)
                signal.signal(signum, _stop)
            except ValueError:  # not the main thread (a thread-based launcher)
                pass
    if in_sweep():  # the sweeper gets the dev accuracy; failures are the summary's to list
        # A joblib worker without psutil runs a full gc.collect() after every job: ~0.2 s over
        # the ~460k objects its imports hold. Frozen, they are left out of every collection
        # from here on (the job's own configuration, some 30 KB, stays until the worker ends).
        gc.freeze()
        return run_job(cfg).dev_accuracy
    try:
        outcome = run_job(cfg)
    except (schema.ConfigError, DataError) as err:  # one line, nothing written
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except TrackingUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    if outcome.failed:
        print(f"error: the run ended {outcome.status}: {outcome.reason}", file=sys.stderr)
        sys.exit(1)
    return outcome.dev_accuracy


if __name__ == "__main__":
    # At exit, everything still alive is frozen before the interpreter's last collections,
    # which then skip the ~400k objects the imports hold: about a second of a run's (or a
    # sweep's) exit on the 2-core machine. Each object is still freed by its reference count;
    # only reference cycles are left to the OS. An atexit function runs after those registered
    # later (MLflow's, the sweep's), so they still find everything as it was.
    atexit.register(gc.freeze)
    try:  # bad keys, types, values and (for a single run) data, in one line, before Hydra
        check_overrides(sys.argv[1:], CONF_DIR)
    except (schema.ConfigError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
    except interrupts.Terminated:
        sys.exit(143)
