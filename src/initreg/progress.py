"""What a person sees while runs train: every line names its run, a sweep shows one line per job.

- :class:`RunNameFilter` and :class:`SweepConsoleFilter` are the logging filters of
  ``conf/hydra/job_logging/initreg.yaml``: each record carries the short name of the run it
  belongs to (``[he l0.7 kp0.86]``); in a sweep the console keeps only warnings, while each
  job's own log file (``<sweep dir>/<job>/train.log``) keeps everything.
- :class:`SweepProgress` runs in the submitting process, beside any launcher: it watches the
  outcome files the jobs write (``initreg_job.json``) and prints one line when a job starts and
  one when it ends, with ``k/N``, the run's name, its time, the sweep's elapsed time and an
  estimate of the time left; a tqdm bar where the terminal is interactive, plain lines elsewhere
  (CI, a pipe, a file).
- :class:`NumericWarnings` keeps NumPy's floating-point warnings (overflow, invalid value, ...)
  of a run out of the console: they are counted and recorded in the run instead.
"""

import json
import logging
import math
import os
import re
import sys
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from initreg.lifecycle import STATUS_FILE, in_sweep

POLL_S = 0.25  # how often the submitting process looks at the jobs' outcome files
QUIET = "sweep_quiet"  # a record with this attribute set stays off a sweep's console

_current = {"run": None}  # the short name of the run this process is working on


def set_run(name: str | None) -> None:
    """Name the run whose lines this process logs from now on (None: no run)."""
    _current["run"] = name


def current_run() -> str | None:
    """The short name of the run this process is working on, if any."""
    return _current["run"]


class RunNameFilter(logging.Filter):
    """Gives every record ``run_name``: the current run's short name, else the logger's name."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.run_name = _current["run"] or record.name
        return True


class SweepConsoleFilter(logging.Filter):
    """On a sweep's console only warnings and errors pass, and not those the sweep's own
    progress line already says (records logged with ``extra={QUIET: True}``); a single run's
    console shows everything."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not in_sweep():
            return True
        return record.levelno >= logging.WARNING and not getattr(record, QUIET, False)


class LaunchLineFilter(logging.Filter):
    """Drops the line Hydra's launchers log for each job (``\t#12 : init=he reg.lambd=0.1``):
    the sweep prints its own, with the run's name, when the job starts."""

    JOB_LINE = re.compile(r"^\s*#\d+ : ")

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name.startswith("hydra") and self.JOB_LINE.match(record.getMessage()))


# --- numeric warnings ----------------------------------------------------------------------------

class NumericWarnings:
    """Within ``with``: NumPy's floating-point ``RuntimeWarning``s are counted, not printed.

    A diverging run (``init=random init.scale=1e3``, a deep net's exploding activations)
    overflows by design; its warnings belong to the run (``tag()``, ``text()``), not to the
    console of a 27-job sweep. Any other warning is shown as usual.
    """

    KINDS = ("overflow", "underflow", "invalid value", "divide by zero")

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._saved = None

    def __enter__(self) -> "NumericWarnings":
        self._saved = warnings.catch_warnings()
        self._saved.__enter__()
        warnings.simplefilter("always", RuntimeWarning)  # count each one, not once per line
        shown = warnings.showwarning

        def keep(message, category, filename, lineno, file=None, line=None):
            text = str(message)
            if issubclass(category, RuntimeWarning) and any(k in text for k in self.KINDS):
                self.counts[text] += 1
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = keep
        return self

    def __exit__(self, *exc) -> None:
        self._saved.__exit__(*exc)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def tag(self) -> str | None:
        """``3 x overflow encountered in exp; 1 x invalid value ...``, or None if none."""
        if not self.counts:
            return None
        return "; ".join(f"{n} x {text}" for text, n in self.counts.most_common())


# --- the sweep's progress ------------------------------------------------------------------------

def duration(seconds: float) -> str:
    """``4.2s``, ``42s``, ``3m05s``, ``1h02m``."""
    if seconds < 9.95:
        return f"{max(seconds, 0):.1f}s"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def time_left(began: float, now: float, ended: list[float], to_train: int,
              workers: int = 1, by_worker: dict[str, list[float]] | None = None
              ) -> float | None:
    """Seconds left at the sweep's steady pace, for the ``to_train`` jobs still to train.

    ``ended`` holds when each trained job ended (in order), ``workers`` how many jobs have run
    at once, ``by_worker`` the same end times per worker process (from the jobs' outcome
    files). The first job of each worker also pays for starting its process (imports, the
    store, the compiled kernel's cache), which later jobs do not, so the pace is measured after
    it. Best, a worker's own cycle: the time between its consecutive ends, averaged over the
    workers that have ended two jobs, over ``workers`` running side by side. Without that
    (every job its own process, as on a cluster): the time between the sweep's ends after the
    ``workers``-th, ``(ended[-1] - ended[workers - 1]) / (len(ended) - workers)``; before that
    too, the pace so far, ``(now - began) / len(ended)``. What is left counts from the last
    end, ``now`` having moved on since. None before any job has ended. Jobs skipped by
    ``resume`` take no time and count in neither ``ended`` nor ``to_train``.
    """
    if to_train <= 0:
        return 0.0
    done = len(ended)
    if done == 0 or now <= began:
        return None
    workers = max(1, workers)
    cycles = [(max(t) - min(t)) / (len(t) - 1) for t in (by_worker or {}).values() if len(t) > 1]
    if cycles:
        pace = sum(cycles) / len(cycles) / workers
    elif done > workers:
        pace = (ended[-1] - ended[workers - 1]) / (done - workers)
    else:
        return (now - began) / done * to_train
    return max(0.0, ended[-1] + pace * to_train - now)


@dataclass
class _Job:
    name: str
    started: float | None = None  # when its RUNNING outcome was written
    ended: float | None = None  # when its final outcome was written
    status: str = "RUNNING"


TERMINAL = ("FINISHED", "FAILED", "KILLED", "skipped", "not recorded")


class SweepProgress:
    """One line per job start and end, from the outcome files the jobs write into the sweep's
    folder (so it works under any launcher that shares the folder: joblib, SLURM, Ray).

        progress = SweepProgress(sweep_dir, planned=27, skipped=0)
        progress.start()           # a daemon thread polls every POLL_S
        ...                        # the launcher runs the jobs
        progress.stop()            # a last look, then the bar (if any) is closed

    ``interactive`` (default: stdout is a terminal and $CI is unset) draws a tqdm bar with the
    running jobs and the estimate; otherwise every line is plain text.
    """

    def __init__(self, sweep_dir: str | Path, planned: int, skipped: int = 0,
                 interactive: bool | None = None, out=None, clock=time.time):
        self.sweep_dir = Path(sweep_dir)
        self.planned, self.skipped_planned = planned, skipped
        self.out = out or sys.stdout
        if interactive is None:
            interactive = bool(getattr(self.out, "isatty", lambda: False)()) and \
                not os.environ.get("CI")
        self.interactive = interactive
        self.clock = clock
        self.began = clock()
        self.jobs: dict[str, _Job] = {}
        self.started = self.done = self.trained = 0
        self.ended: list[float] = []  # when each trained job ended (its outcome file's mtime)
        self.by_worker: dict[str, list[float]] = {}  # the same, per worker process
        # outcome files already there (a reused folder) are not this sweep's
        self._seen = {p: p.stat().st_mtime for p in self._files()}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar = None
        self._lock = threading.Lock()

    def _files(self) -> list[Path]:
        try:
            return sorted(self.sweep_dir.glob(f"*/{STATUS_FILE}"))
        except OSError:
            return []

    @property
    def total(self) -> str:
        return str(self.planned) if self.planned else "?"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="initreg-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """The last changes, then no more lines."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.poll()
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self.poll()
            except Exception as err:  # never let the display stop a sweep
                self._print(f"(progress display stopped: {err})")
                return

    def poll(self) -> list[str]:
        """Read the outcome files that changed; print and return the new lines."""
        lines = []
        with self._lock:
            for path in self._files():
                try:
                    mtime = path.stat().st_mtime
                    if self._seen.get(path) == mtime:
                        continue
                    record = json.loads(path.read_text())
                except (OSError, ValueError):  # being written: read it next time
                    continue
                self._seen[path] = mtime
                lines += self._update(path.parent.name, record, mtime)
            for line in lines:
                self._print(line)
            self._refresh()
        return lines

    def _update(self, folder: str, record: dict, mtime: float) -> list[str]:
        job = self.jobs.get(folder)
        status = record.get("status", "?")
        name = record.get("name") or folder
        lines = []
        if job is None:
            job = self.jobs[folder] = _Job(name)
            if status == "RUNNING":
                job.started = mtime
            if status != "skipped":
                self.started += 1
                if not self.interactive:
                    lines.append(f"[start {self.started}/{self.total}] {name}")
        if status in TERMINAL and job.status not in TERMINAL:
            job.status = status
            self.done += 1
            job.ended = mtime
            if status != "skipped":
                self.trained += 1
                self.ended.append(mtime)
                if record.get("worker"):
                    self.by_worker.setdefault(record["worker"], []).append(mtime)
            lines.append(self._end_line(job, record, mtime))
        return lines

    def _end_line(self, job: _Job, record: dict, mtime: float) -> str:
        status = record.get("status")
        if status == "FINISHED":
            what = f"FINISHED  dev {record.get('dev_accuracy', math.nan):.3f}"
        else:
            what = f"{status}: {record.get('reason', '')}".rstrip(": ")
        took = f"  in {duration(mtime - job.started)}" if job.started is not None else ""
        return (f"[done {self.done}/{self.total}] {job.name}  {what[:120]}{took}  "
                f"({self.estimate()})")

    @property
    def workers(self) -> int:
        """The most jobs that have run at once, from the outcome files' times (so a poll that
        sees a start and an end together does not miscount): the jobs seen RUNNING, their
        starts and ends in time order (an end before a start at the same instant); at least as
        many as the worker processes that have ended jobs (a job too short to be seen RUNNING
        still names its worker)."""
        edges = sorted([(j.started, 1) for j in self.jobs.values() if j.started is not None]
                       + [(j.ended, -1) for j in self.jobs.values()
                          if j.started is not None and j.ended is not None])
        running = most = 0
        for _, step in edges:
            running += step
            most = max(most, running)
        return max(most, len(self.by_worker), 1)

    def estimate(self) -> str:
        """``elapsed 1m02s, ~3m40s left`` (``left: estimating`` before a job has trained)."""
        now = self.clock()
        to_train = max(0, self.planned - self.skipped_planned - self.trained) \
            if self.planned else 0
        left = time_left(self.began, now, sorted(self.ended), to_train, self.workers,
                         self.by_worker) if self.planned else None
        tail = "left: estimating" if left is None else f"~{duration(left)} left"
        if self.planned and self.done >= self.planned:
            tail = "all done"
        return f"elapsed {duration(now - self.began)}, {tail}"

    def _print(self, line: str) -> None:
        if self._bar is not None:
            self._bar.write(line, file=self.out)
        else:
            print(line, file=self.out, flush=True)

    def _refresh(self) -> None:
        if not self.interactive or self._stop.is_set() or not self.jobs:
            return
        if self._bar is None:  # drawn once a job has started: after the launcher's own lines
            from tqdm import tqdm  # only where a bar is drawn

            self._bar = tqdm(total=self.planned or None, file=self.out, unit="job",
                             dynamic_ncols=True, leave=False,
                             bar_format="{n_fmt}/{total_fmt} {desc} |{bar}|")
        running = [j.name for j in self.jobs.values() if j.status not in TERMINAL]
        self._bar.n = self.done
        self._bar.set_description_str(f"{self.estimate()}; running: {', '.join(running) or '-'}",
                                      refresh=False)
        self._bar.refresh()
