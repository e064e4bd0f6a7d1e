"""What a sweep prints while it runs: one line per job start and end, the estimate, the filters
that keep iteration lines and numeric warnings off its console."""

import io
import json
import logging
import os
import warnings

import numpy as np
import pytest

from initreg import progress
from initreg.lifecycle import STATUS_FILE


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def write(sweep, job: str, at: float, **record) -> None:
    """An outcome file as a job writes it, its mtime set to ``at``."""
    path = sweep / job / STATUS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    os.utime(path, (at, at))


def test_time_left_is_the_steady_pace_after_each_workers_first_job():
    # two workers; their first jobs ended at 8 and 14 s (process start-up), then one a second
    ended = [8.0, 14.0, 15.0, 16.0, 17.0]
    assert progress.time_left(0.0, 17.0, ended, to_train=10, workers=2) == pytest.approx(10.0)
    # half a second after the last end, half a second less is left
    assert progress.time_left(0.0, 17.5, ended, to_train=10, workers=2) == pytest.approx(9.5)
    # the pace so far (17 s for 5 jobs) would say 34 s
    assert progress.time_left(0.0, 17.0, ended, to_train=10, workers=1) == pytest.approx(
        (17.0 - 8.0) / 4 * 10)
    # no steady pace yet: the pace so far
    assert progress.time_left(0.0, 14.0, ended[:2], to_train=6, workers=2) == pytest.approx(42.0)
    assert progress.time_left(0.0, 60.0, [], to_train=6) is None  # nothing to go by yet
    assert progress.time_left(0.0, 60.0, ended, to_train=0) == 0.0
    assert progress.time_left(0.0, 99.0, ended, to_train=1, workers=2) == 0.0  # overdue


def test_a_workers_own_cycle_sets_the_pace_whatever_the_workers_phases():
    # two workers out of phase: a ends jobs at 5.0 and 6.3 (a cycle of 1.3 s), b its slow first
    # at 8.0; the sweep's last two ends are 1.7 s apart, which is no one's pace
    ended = [5.0, 6.3, 8.0]
    by_worker = {"a": [5.0, 6.3], "b": [8.0]}
    left = progress.time_left(0.0, 8.0, ended, to_train=24, workers=2, by_worker=by_worker)
    assert left == pytest.approx(24 * 1.3 / 2)
    assert progress.time_left(0.0, 8.0, ended, to_train=24, workers=2) == pytest.approx(24 * 1.7)
    # every job its own process (a cluster): no worker ends two jobs, the sweep's ends decide
    alone = {"x": [5.0], "y": [6.3], "z": [8.0]}
    assert progress.time_left(0.0, 8.0, ended, 24, 2, alone) == pytest.approx(24 * 1.7)
    # the cycles of several workers are averaged
    both = {"a": [5.0, 6.3, 7.6], "b": [8.0, 9.5]}
    assert progress.time_left(0.0, 9.5, [5.0, 6.3, 7.6, 8.0, 9.5], 10, 2, both) == \
        pytest.approx(10 * (1.3 + 1.5) / 2 / 2)


def test_the_outcome_files_name_their_worker_and_the_estimate_uses_it(tmp_path):
    out = io.StringIO()
    shown = progress.SweepProgress(tmp_path, planned=6, interactive=False, out=out,
                                   clock=Clock(1000.0))
    for job, (at, worker) in enumerate([(1001.0, "h:1"), (1001.1, "h:2")]):
        write(tmp_path, str(job), at, name=f"j{job}", status="RUNNING", worker=worker)
    shown.poll()
    write(tmp_path, "0", 1005.0, name="j0", status="FINISHED", dev_accuracy=0.9, worker="h:1")
    write(tmp_path, "2", 1005.1, name="j2", status="RUNNING", worker="h:1")
    write(tmp_path, "2", 1006.2, name="j2", status="FINISHED", dev_accuracy=0.9, worker="h:1")
    write(tmp_path, "1", 1008.0, name="j1", status="FINISHED", dev_accuracy=0.9, worker="h:2")
    shown.clock.now = 1008.0
    shown.poll()
    assert shown.by_worker == {"h:1": pytest.approx([1005.0, 1006.2]),
                               "h:2": pytest.approx([1008.0])}
    # 3 jobs to train at h:1's cycle of 1.2 s over 2 workers: 1.8 s (the pace between the
    # sweep's last ends, 1.8 s a job, would say 5.4 s)
    assert out.getvalue().splitlines()[-1].endswith("~1.8s left)")


def test_a_recorded_sweeps_estimate_is_within_a_fifth_at_its_first_tenth():
    """The end times of a real 2-worker default sweep (27 jobs, seconds from its start, read
    off its console on a busy machine): the first job of each worker paid for the process
    start. At the first tenth of the jobs the estimate is within 20% of the time that was
    really left until the 27th ended, and from there on it is closer than the pace so far.
    (`benchmarks/estimate.py` measures this on a real sweep at every tenth.)"""
    ended = [8.8, 14, 15, 16, 17, 18, 19, 21, 22, 23, 24, 25, 26, 28, 28, 30, 31, 32, 32, 34, 34,
             35, 37, 38, 38, 40, 40]

    def miss(k, workers):
        left = progress.time_left(0.0, ended[k - 1], ended[:k], to_train=27 - k,
                                  workers=workers)
        truth = ended[-1] - ended[k - 1]
        return abs(left - truth) / truth

    assert miss(3, workers=2) <= 0.2
    assert miss(3, workers=1) > 1.0  # the pace so far, start-up included
    steady = [miss(k, workers=2) for k in range(3, 26)]
    so_far = [miss(k, workers=1) for k in range(3, 26)]
    assert sum(steady) < sum(so_far)


@pytest.mark.parametrize("seconds, text", [(0.04, "0.0s"), (4.24, "4.2s"), (42, "42s"),
                                           (185, "3m05s"), (3720, "1h02m")])
def test_durations_read_as_a_person_writes_them(seconds, text):
    assert progress.duration(seconds) == text


def test_one_line_per_job_start_and_end_with_its_name_and_the_estimate(tmp_path):
    clock, out = Clock(1000.0), io.StringIO()
    shown = progress.SweepProgress(tmp_path, planned=3, skipped=1, interactive=False, out=out,
                                   clock=clock)
    write(tmp_path, "0", 1001.0, name="he l0.7 kp0.86", status="RUNNING")
    assert shown.poll() == ["[start 1/3] he l0.7 kp0.86"]
    assert shown.poll() == []  # nothing changed, nothing printed
    clock.now = 1010.0
    write(tmp_path, "0", 1009.0, name="he l0.7 kp0.86", status="FINISHED", dev_accuracy=0.95)
    # 10 s for one trained job; one more to train (the skipped one takes no time)
    assert shown.poll() == ["[done 1/3] he l0.7 kp0.86  FINISHED  dev 0.950  in 8.0s  "
                            "(elapsed 10s, ~10s left)"]
    write(tmp_path, "1", 1010.0, name="zeros l0 kp1", status="skipped",
          reason="resume: already has a FINISHED run")
    write(tmp_path, "2", 1010.0, name="random l0 kp1", status="RUNNING")
    clock.now = 1020.0
    lines = shown.poll()
    assert lines == ["[done 2/3] zeros l0 kp1  skipped: resume: already has a FINISHED run  "
                     "(elapsed 20s, ~20s left)", "[start 2/3] random l0 kp1"]
    write(tmp_path, "2", 1021.0, name="random l0 kp1", status="FAILED",
          reason="gradcheck failed")
    clock.now = 1022.0
    shown.stop()
    assert out.getvalue().splitlines()[-1] == ("[done 3/3] random l0 kp1  FAILED: gradcheck "
                                               "failed  in 11s  (elapsed 22s, all done)")
    assert len(out.getvalue().splitlines()) == 5  # 2 starts + 3 ends: the skipped job never ran


def test_outcome_files_left_in_a_reused_folder_are_not_counted(tmp_path):
    write(tmp_path, "0", 900.0, name="old", status="FINISHED", dev_accuracy=0.5)
    shown = progress.SweepProgress(tmp_path, planned=1, interactive=False, out=io.StringIO(),
                                   clock=Clock())
    assert shown.poll() == []
    write(tmp_path, "0", 1001.0, name="new", status="RUNNING")
    assert shown.poll() == ["[start 1/1] new"]


def test_on_a_terminal_a_bar_counts_the_jobs_and_the_end_lines_stay_above_it(tmp_path):
    out = io.StringIO()
    shown = progress.SweepProgress(tmp_path, planned=2, interactive=True, out=out, clock=Clock())
    shown.start()
    write(tmp_path, "0", 1001.0, name="he l0 kp1", status="RUNNING")
    write(tmp_path, "1", 1001.0, name="he l0.7 kp1", status="RUNNING")
    shown.poll()
    assert "0/2" in out.getvalue() and "running: he l0 kp1, he l0.7 kp1" in out.getvalue()
    assert "[start" not in out.getvalue()  # the bar says what runs
    write(tmp_path, "0", 1005.0, name="he l0 kp1", status="FINISHED", dev_accuracy=0.9)
    shown.poll()
    shown.stop()
    assert "[done 1/2] he l0 kp1  FINISHED  dev 0.900  in 4.0s" in out.getvalue()
    assert "1/2" in out.getvalue()


def test_numeric_warnings_are_counted_not_printed(capsys):
    caught = progress.NumericWarnings()
    with caught:
        np.exp(np.array([1000.0, 2000.0]))
        np.exp(np.array([1000.0]))
        _ = np.array([np.inf]) - np.array([np.inf])
    assert capsys.readouterr().err == ""
    assert caught.total == 3
    assert caught.tag() == ("2 x overflow encountered in exp; "
                            "1 x invalid value encountered in subtract")
    assert progress.NumericWarnings().tag() is None


def test_other_warnings_still_show_inside():
    with pytest.warns(UserWarning, match="not numeric"), progress.NumericWarnings() as caught:
        warnings.warn("not numeric", UserWarning, stacklevel=1)
    assert caught.total == 0


def record(name="initreg.train", level=logging.INFO, msg="iteration 1000/30000", **extra):
    rec = logging.LogRecord(name, level, __file__, 1, msg, (), None)
    rec.__dict__.update(extra)
    return rec


def test_every_line_names_the_run_it_belongs_to():
    rec = record()
    progress.set_run("he l0.7 kp0.86")
    try:
        assert progress.RunNameFilter().filter(rec) and rec.run_name == "he l0.7 kp0.86"
    finally:
        progress.set_run(None)
    other = record(name="initreg.callbacks")
    progress.RunNameFilter().filter(other)
    assert other.run_name == "initreg.callbacks"  # outside a run: the logger's name


def test_a_single_runs_console_shows_every_line():
    # outside a Hydra multirun (here: no Hydra at all) nothing is held back
    assert progress.SweepConsoleFilter().filter(record())


def test_the_launchers_line_per_job_is_dropped_and_their_other_lines_kept():
    keep = progress.LaunchLineFilter()
    assert not keep.filter(record("hydra_plugins.hydra_joblib_launcher._core",
                                  msg="\t#12 : init=he reg.lambd=0.1"))
    assert not keep.filter(record("hydra._internal.core_plugins.basic_launcher",
                                  msg="\t#0 : init=zeros"))
    assert keep.filter(record("hydra_plugins.hydra_joblib_launcher._core",
                              msg="Joblib.Parallel(n_jobs=2) is launching 27 jobs"))
    assert keep.filter(record("initreg.train", msg="#1 : not a launcher"))


def test_the_workers_are_counted_from_the_jobs_times_not_from_what_one_poll_saw(tmp_path):
    shown = progress.SweepProgress(tmp_path, planned=4, interactive=False, out=io.StringIO(),
                                   clock=Clock(1010.0))
    write(tmp_path, "0", 1001.0, name="a", status="RUNNING")
    shown.poll()
    assert shown.workers == 1
    # one poll sees a's end first (its folder sorts first), then b's start: b started at 1002
    # while a ran until 1003, so two jobs ran at once
    write(tmp_path, "0", 1003.0, name="a", status="FINISHED", dev_accuracy=0.9)
    write(tmp_path, "1", 1002.0, name="b", status="RUNNING")
    shown.poll()
    assert shown.workers == 2
    write(tmp_path, "1", 1004.0, name="b", status="FINISHED", dev_accuracy=0.9)
    write(tmp_path, "2", 1004.5, name="c", status="RUNNING")
    shown.poll()
    assert shown.workers == 2  # the most at once so far, not how many run now


def test_a_worker_whose_jobs_were_never_seen_running_still_counts(tmp_path):
    shown = progress.SweepProgress(tmp_path, planned=4, interactive=False, out=io.StringIO(),
                                   clock=Clock(1010.0))
    # both jobs ended between two polls: no RUNNING state seen, but two workers named
    write(tmp_path, "0", 1003.0, name="a", status="FINISHED", dev_accuracy=0.9, worker="h:1")
    write(tmp_path, "1", 1003.5, name="b", status="FAILED", reason="gradcheck", worker="h:2")
    shown.poll()
    assert shown.workers == 2
