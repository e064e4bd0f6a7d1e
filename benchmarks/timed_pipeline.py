"""Run ``pipelines/train.py`` unchanged, recording how long its training stage took.

    python benchmarks/timed_pipeline.py <the pipeline's arguments>

``initreg.nn.train`` is wrapped before the pipeline imports it, and the seconds of every call are
written as JSON to ``$INITREG_BENCH_OUT`` at exit (a list: one entry per job run in this process).
"""

import atexit
import json
import os
import runpy
import sys
import time
from pathlib import Path

import initreg.nn

TRAIN = Path(__file__).resolve().parents[1] / "pipelines" / "train.py"
_seconds: list[float] = []
_train = initreg.nn.train


def _timed_train(*args, **kwargs):
    start = time.perf_counter()
    try:
        return _train(*args, **kwargs)
    finally:
        _seconds.append(time.perf_counter() - start)


def _write() -> None:
    out = os.environ.get("INITREG_BENCH_OUT")
    if out:
        Path(out).write_text(json.dumps({"train_seconds": _seconds}))


if __name__ == "__main__":
    initreg.nn.train = _timed_train
    atexit.register(_write)
    sys.argv = [str(TRAIN), *sys.argv[1:]]
    sys.path.insert(0, str(TRAIN.parent))
    runpy.run_path(str(TRAIN), run_name="__main__")
