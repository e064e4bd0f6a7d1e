"""Shared test settings, and the order in which pytest-xdist hands out the test files."""

from hypothesis import settings

settings.register_profile("initreg", deadline=None, derandomize=True)
settings.load_profile("initreg")

# The files that take longest (seconds on the 2-core machine, measured 2026-12-01 17:30), handed out
# first: `make test` gives each worker whole files (--dist loadfile, --no-loadscope-reorder), and
# a long file started last keeps one worker busy while the other has nothing left. Only the
# order changes; a file not listed runs after these, in pytest's order.
LONGEST_FIRST = [
    "tests/pipelines/test_reliability.py",  # 56 s
    "tests/pipelines/test_faults.py",  # 55 s
    "tests/pipelines/test_server_faults.py",  # 40 s, most of it waiting for a dead server
    "tests/test_report.py",  # 30 s
    "tests/test_seeds_report.py",  # 23 s
    "tests/pipelines/test_optuna_pipeline.py",  # 16 s
    "tests/pipelines/test_config.py",  # 15 s
    "tests/pipelines/test_console.py",  # 14 s
    "tests/pipelines/test_bad_input.py",  # 11 s
    "tests/test_gradcheck_verdicts.py",  # 10 s
    "tests/pipelines/test_seeds_pipeline.py",  # 8 s
    "tests/test_course.py",  # 7 s
]


def pytest_collection_modifyitems(config, items):
    rank = {path: k for k, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
