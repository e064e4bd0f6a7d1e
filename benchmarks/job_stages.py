"""Where a job's time outside training goes, stage by stage, in one warm process.

    python benchmarks/job_stages.py [--jobs 6] [--iterations 3000]

Runs ``initreg.job.run_job`` on the default config ``--jobs`` times in this process (the first
is a warm-up: imports, the store's first opening, the compiled kernel's load), as a sweep
worker runs its jobs one after another, and prints the median seconds of each stage over the
jobs after the first. Each stage is timed by wrapping the name the job calls it by.
"""

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

# (module, attribute) of each timed stage, in the order a job runs them
STAGES = [
    ("initreg.job", "load_data"), ("initreg.job", "build_model"),
    ("initreg.tracking", "client"), ("initreg.job", "open_run"),
    ("initreg.job", "log_inputs"), ("initreg.job", "measure_start"),
    ("initreg.job", "gradcheck_gate"), ("initreg.job", "train_model"),
    ("initreg.job", "evaluate"), ("initreg.job", "diagnose_run"),
    ("initreg.job", "log_results"), ("initreg.tracking.Run", "log_model"),
    ("initreg.plots", "cost_curve"), ("initreg.plots", "decision_boundary"),
    ("initreg.plots", "layer_stats"), ("initreg.tracking.Run", "log_artifacts"),
    ("initreg.tracking.Run", "end"),
]


def owner_of(mod_name: str):
    """The module (or, for ``module.Class``, the class) a stage of ``STAGES`` is an attribute
    of."""
    import importlib

    parent, _, cls = mod_name.rpartition(".")
    return (getattr(importlib.import_module(parent), cls) if cls[0].isupper()
            else importlib.import_module(mod_name))


def wrap_stages(seconds: dict[str, list[float]]) -> None:
    """Replace each stage by a wrapper adding its seconds to ``seconds[name]`` per job."""
    for mod_name, attr in STAGES:
        owner = owner_of(mod_name)
        fn = getattr(owner, attr)

        def timed(*args, _fn=fn, _key=attr, **kwargs):
            start = time.perf_counter()
            try:
                return _fn(*args, **kwargs)
            finally:
                seconds[_key][-1] += time.perf_counter() - start

        setattr(owner, attr, timed)


@contextmanager
def one_job(seconds):
    for key in [a for _, a in STAGES] + ["job"]:
        seconds[key].append(0.0)
    start = time.perf_counter()
    yield
    seconds["job"][-1] = time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=6)
    ap.add_argument("--iterations", type=int, default=3000)
    args = ap.parse_args()
    logging.getLogger("initreg").setLevel(logging.WARNING)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import compose  # its module imports NumPy and initreg: not on job_memory's path

    from initreg import job

    seconds: dict[str, list[float]] = defaultdict(list)
    wrap_stages(seconds)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = compose([f"train.num_iterations={args.iterations}",
                       f"tracking.uri=sqlite:///{tmp}/jobs.db"])
        for _ in range(args.jobs):
            with one_job(seconds):
                job.run_job(cfg)
    print(f"{'stage':18s} {'first':>7s} {'median after':>13s} {'min':>7s} {'max':>7s}")
    for key, vals in seconds.items():
        rest = vals[1:]
        print(f"{key:18s} {vals[0]:7.3f} {statistics.median(rest):13.3f} {min(rest):7.3f} "
              f"{max(rest):7.3f}")
    rest = [j - t for j, t in zip(seconds["job"][1:], seconds["train_model"][1:], strict=True)]
    print(f"job minus train: median {statistics.median(rest):.3f} s "
          f"(min {min(rest):.3f}, max {max(rest):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
