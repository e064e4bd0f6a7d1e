"""One gated, tracked training run (or, with -m, one job of a sweep); the stages are in
``initreg.job``.

    python pipelines/train.py                                   # football, He init
    python pipelines/train.py experiment=course_init init=he    # reproduces 298/300 and 96/100
    python pipelines/train.py -m experiment=default_sweep       # the 27-run sweep
"""

import signal
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from initreg import config as schema
from initreg.data import DataError
from initreg.job import Terminated, job_parent, run_job
from initreg.overrides import check_overrides

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


def _on_sigterm(signum, frame):
    raise Terminated("SIGTERM")


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> float:
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (a thread-based launcher)
        pass
    try:
        return run_job(cfg)
    except (schema.ConfigError, DataError) as err:
        if job_parent(cfg) is None:  # a single run: one line, exit status 2
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)
        raise


if __name__ == "__main__":
    try:  # wrong types, unknown keys and unknown group options, in one line, before Hydra
        check_overrides(sys.argv[1:], CONF_DIR)
    except schema.ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    main()
