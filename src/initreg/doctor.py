"""Find runs left RUNNING by a process that no longer exists (SIGKILL, power loss) and end them.

Every run records the ``host``, ``pid`` and the process's start time (``pid_started``) in tags.
A RUNNING run of this host whose process is gone, or whose pid now belongs to a later process,
is marked KILLED. Runs of other hosts are left alone: from here we cannot tell.
"""

import os
import socket
from pathlib import Path

from initreg import tracking


def process_started(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux), else None.

    None too for a zombie (state Z): it has exited, only its parent has not reaped it yet.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name: state is field 3
    return None if fields[0] == "Z" else fields[19]  # field 22: the start time


def process_tags() -> dict[str, str]:
    """Tags that let a later ``doctor`` tell whether this run's process is still alive."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": str(pid),
            "pid_started": process_started(pid) or ""}


def process_gone(tags) -> bool | None:
    """True when the process that ``process_tags`` described is gone, False when it is alive,
    None when we cannot tell (another host, no pid recorded)."""
    if tags.get("host") != socket.gethostname() or not tags.get("pid"):
        return None
    pid = int(tags["pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    started = process_started(pid)
    if started is None:  # it exited between the two looks
        return True
    return bool(tags.get("pid_started")) and started != tags["pid_started"]


def is_orphan(run) -> bool | None:
    """True when the run's process is gone, False when alive, None when we cannot tell."""
    return process_gone(run.data.tags)


def running_runs(mlflow) -> list:
    """Every RUNNING run in every experiment of the store."""
    exps = [e.experiment_id for e in tracking.retry(mlflow.search_experiments)]
    return tracking.search_runs(mlflow, exps, "attributes.status = 'RUNNING'")


def heal(mlflow) -> tuple[list, list]:
    """Mark orphaned RUNNING runs KILLED; return (killed, undecidable) runs."""
    killed, unknown = [], []
    for run in running_runs(mlflow):
        verdict = is_orphan(run)
        if verdict:
            r = tracking.Run(mlflow, run.info.run_id)
            r.set_tags({"failure_reason": "orphaned",
                        "error_message": "its process died without ending the run (doctor)"})
            r.end("KILLED")
            killed.append(run)
        elif verdict is None:
            unknown.append(run)
    return killed, unknown


def report(killed, unknown) -> list[str]:
    """Lines that say what ``heal`` did."""
    lines = [f"doctor: marked KILLED {r.info.run_name} ({r.info.run_id}): process "
             f"{r.data.tags.get('pid')} is gone" for r in killed]
    if unknown:
        lines.append(f"doctor: {len(unknown)} RUNNING run(s) of other hosts left alone")
    return lines
