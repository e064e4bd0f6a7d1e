"""Ctrl-C and SIGTERM, held back while a write to the tracking store is under way.

A signal handler that raises (``KeyboardInterrupt``, ``initreg.job.Terminated``) can raise at
any line of the main thread, also inside MLflow's SQLAlchemy session while it holds SQLite's
write lock. The transaction is then left open, and the job's own next writes, the ones that end
its run KILLED, wait for that lock until the busy timeout: the run stays RUNNING. So the
handlers call :func:`raise_or_hold`, and every store call runs inside :func:`held` (through
``initreg.tracking.retry``): a signal that arrives during a write is raised when the write has
ended, as if it had arrived just after it.

The state is the main thread's (signal handlers run there) and this process's, as signal
handlers are; another thread's writes (the submitter watch's) hold nothing back.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Terminated(BaseException):
    """SIGTERM arrived: the run ends KILLED, like Ctrl-C."""


class _Held(threading.local):
    depth = 0  # nested held() blocks open in this thread
    pending: BaseException | None = None  # the first interrupt that arrived inside them


_state = _Held()


@contextmanager
def held() -> Iterator[None]:
    """Run the block with interrupts held back; one that arrived meanwhile is raised at its end
    (instead of the block's own exception, if it raised one: stopping is what was asked)."""
    _state.depth += 1
    try:
        yield
    finally:
        _state.depth -= 1
        if _state.depth == 0 and _state.pending is not None:
            err, _state.pending = _state.pending, None
            raise err


def raise_or_hold(err: BaseException) -> None:
    """For a signal handler: raise ``err`` now, or at the end of the :func:`held` block under
    way. A second interrupt while the first is held raises at once: a write that hangs (a
    tracking server that does not answer, up to ``tracking.timeout_s``) is left by pressing
    Ctrl-C again."""
    if _state.depth and _state.pending is None:
        _state.pending = err
        return
    _state.pending = None
    raise err
