"""Shared test settings, and the order in which pytest-xdist hands out the test files."""

import threading

from hypothesis import settings

settings.register_profile("initreg", deadline=None, derandomize=True)
settings.load_profile("initreg")

# The files that take longest (seconds on the 2-core machine under `make test`, measured
# 2026-12-01 18:55), handed out first: `make test` gives each worker whole files (--dist
# loadfile, --no-loadscope-reorder), and a long file started last keeps one worker busy while
# the other has nothing left. Only the order changes; a file not listed runs after these, in
# pytest's order.
LONGEST_FIRST = [
    "tests/pipelines/test_faults.py",  # 46 s
    "tests/pipelines/test_reliability.py",  # 45 s
    "tests/pipelines/test_server_faults.py",  # 41 s, most of it waiting for a dead server
    "tests/pipelines/test_config.py",  # 16 s
    "tests/pipelines/test_optuna_pipeline.py",  # 15 s
    "tests/pipelines/test_console.py",  # 13 s
    "tests/pipelines/test_bad_input.py",  # 12 s
    "tests/test_report.py",  # 10 s
    "tests/test_gradcheck_verdicts.py",  # 10 s
    "tests/test_plots.py",  # 7 s
    "tests/nn/test_aot.py",  # 6 s, most of it a real build of the kernel
    "tests/pipelines/test_seeds_pipeline.py",  # 6 s
    "tests/pipelines/test_studies_pipeline.py",  # 5 s
    "tests/test_course.py",  # 5 s
    "tests/test_seeds_report.py",  # 5 s
]


def pytest_collection_modifyitems(config, items):
    rank = {path: k for k, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


def pytest_configure(config):
    """On a new machine, the compiled kernel is built (``initreg.nn.aot``) while the workers
    start and collect, not when their first training test needs it (one worker building, the
    other waiting on its lock); a built one is only looked up. In the controlling process only:
    an xdist worker has ``workerinput``."""
    if hasattr(config, "workerinput"):
        return
    from initreg.nn import aot, compiled

    if compiled.available():
        threading.Thread(target=aot.load, name="kernel-build", daemon=True).start()
