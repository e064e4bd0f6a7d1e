"""Ctrl-C and SIGTERM during a write to the store: the write completes, then the signal raises."""

import os
import signal

import pytest
from stores import new_store

from initreg import interrupts, tracking


class Stop(BaseException):
    pass


@pytest.fixture
def handler():
    """SIGUSR1 stands for Ctrl-C / SIGTERM: its handler is the one the pipeline installs."""
    old = signal.signal(signal.SIGUSR1, lambda s, f: interrupts.raise_or_hold(Stop()))
    yield
    signal.signal(signal.SIGUSR1, old)


def test_a_signal_during_a_store_write_is_raised_once_the_write_has_ended(tmp_path, handler):
    client = new_store(tmp_path / "mlflow.db")
    run = client.create_run(client.create_experiment("x"))
    rid = run.info.run_id

    def interrupted_write():
        os.kill(os.getpid(), signal.SIGUSR1)  # Python runs the handler at the next line
        client.log_metric(rid, "a", 1.0)
        client.log_metric(rid, "b", 2.0)

    with pytest.raises(Stop):
        tracking.retry(interrupted_write)
    assert set(client.get_run(rid).data.metrics) == {"a", "b"}  # the whole write, then Stop
    client.set_terminated(rid, "KILLED")  # the store's lock is free: the run can be ended
    assert client.get_run(rid).info.status == "KILLED"


def test_outside_a_write_the_signal_raises_at_once(handler):
    with pytest.raises(Stop):
        os.kill(os.getpid(), signal.SIGUSR1)
        for _ in range(1000):  # the handler runs at the next bytecode boundary
            pass
        raise AssertionError("not raised at once")


def test_a_second_signal_during_a_held_write_raises_at_once(handler):
    with pytest.raises(Stop) as second, interrupts.held():
        interrupts.raise_or_hold(Stop("first"))  # held: the write goes on
        interrupts.raise_or_hold(Stop("second"))  # Ctrl-C again: leave the hanging write now
        raise AssertionError("the second signal was held too")
    assert str(second.value) == "second"
    with interrupts.held():  # nothing left pending from before
        pass


def test_an_interrupt_wins_over_the_writes_own_error(handler):
    with pytest.raises(Stop), interrupts.held():
        interrupts.raise_or_hold(Stop())
        raise RuntimeError("the store failed too")
