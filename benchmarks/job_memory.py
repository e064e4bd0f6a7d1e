"""Where one job's memory goes, stage by stage: the resident set after each stage.

    python benchmarks/job_memory.py [overrides...]       # e.g. train.engine=numpy

Runs ``pipelines/train.py`` with the given overrides in this fresh process, against a copy of an
empty migrated SQLite store (as ``benchmarks/run.py``'s memory benchmark runs it in a child),
and prints, after the imports a job needs and after each stage of ``job_stages.STAGES`` (and
numba's import and the first call of the compiled kernel), the resident set (VmRSS), how much
of it is mapped files (RssFile: shared libraries' pages, which processes mapping the same file
share), its high-water mark so far (VmHWM: the last row's is the benchmark's ``ru_maxrss``),
what each stage added, and the modules it imported. At the end, the largest holders of the
resident set by mapping.

The imports are done first, one by one, in the order the job would import them (this script's
own imports add some 6 MiB to every row); a numba kernel not yet in the disk cache is compiled
in the "first kernel call" row.
"""

import os
import runpy
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from job_stages import STAGES, owner_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "pipelines" / "train.py"
IMPORTS = ["numpy", "omegaconf", "hydra", "mlflow", "initreg.job"]
MIB = 1024  # /proc reports KiB


def status() -> dict[str, float]:
    """VmRSS, RssFile and VmHWM of this process, in MiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text()
                  .splitlines() if ":" in line)
    return {k: int(fields[k].split()[0]) / MIB for k in ("VmRSS", "RssFile", "VmHWM")}


def by_mapping(top: int | None = 15) -> list[tuple[str, float]]:
    """The ``top`` (None: all) largest holders of this process's resident set now, in MiB (from
    /proc/self/smaps): each mapped file by name, anonymous memory (Python objects, arrays,
    malloc, the heap) as one row."""
    held: Counter = Counter()
    name = "?"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if not head[0].endswith(":"):  # a mapping's header: range perms offset dev inode [path]
            path = head[5] if len(head) > 5 else ""
            name = Path(path).name if path.startswith("/") else \
                "(anonymous: Python objects, arrays, malloc)" if path in ("", "[heap]") else path
        elif head[0] == "Rss:":
            held[name] += int(head[1]) / MIB
    return held.most_common(top)


class Table:
    """A row per stage: the process's ``status()`` and the modules loaded, after it."""

    def __init__(self):
        self.rows: list[tuple[str, dict[str, float], set[str]]] = []
        self.add("start")

    def add(self, name: str) -> None:
        self.rows.append((name, status(), set(sys.modules)))

    def print(self) -> None:
        print(f"{'after':24s} {'VmRSS':>6s} {'+RSS':>6s} {'file':>5s} {'VmHWM':>6s} "
              f"{'+HWM':>6s}  MiB; modules new, the most by package")
        prev, prev_mods = self.rows[0][1], self.rows[0][2]
        for name, now, mods in self.rows:
            new = Counter(m.split(".")[0] for m in mods - prev_mods)
            most = ", ".join(f"{pkg} {n}" for pkg, n in new.most_common(4))
            print(f"{name:24s} {now['VmRSS']:6.1f} {now['VmRSS'] - prev['VmRSS']:+6.1f} "
                  f"{now['RssFile']:5.1f} {now['VmHWM']:6.1f} {now['VmHWM'] - prev['VmHWM']:+6.1f}"
                  f"  {sum(new.values()):4d} {most}")
            prev, prev_mods = now, mods


def wrap(table: Table, owner, attr: str, label: str) -> None:
    """Replace ``owner.attr`` by a wrapper adding a row ``label`` to ``table`` after each call."""
    fn = getattr(owner, attr)

    def measured(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            table.add(label)

    setattr(owner, attr, measured)


def watch_kernel(table: Table) -> None:
    """Rows for the kernel's load (``compiled.kernel()``'s first call: the module built ahead
    of time, or numba imported where it could not be built) and for its first call (scipy's
    BLAS loaded if the net is past ``compiled.SMALL``; under numba's JIT, also the
    disk cache loaded or the function compiled)."""
    from initreg.nn import compiled

    real_kernel, seen = compiled.kernel, set()

    def kernel():
        k = real_kernel()
        if "import" not in seen:
            seen.add("import")
            table.add("kernel(): load")

        def call(*args):
            out = k(*args)
            if "call" not in seen:
                seen.add("call")
                table.add("first kernel call")
            return out

        return call

    compiled.kernel = kernel


def empty_store(folder: Path) -> Path:
    """A migrated, empty SQLite store, made in a child process (migrating imports Alembic's
    scripts, which a job against an existing store does not)."""
    db = folder / "template.db"
    subprocess.run([sys.executable, "-c", "import sys; from mlflow import MlflowClient; "
                    "MlflowClient(sys.argv[1]).search_experiments()", f"sqlite:///{db}"],
                   check=True, capture_output=True)
    return db


def main() -> int:
    table = Table()
    for mod in IMPORTS:
        __import__(mod)
        table.add(f"import {mod}")
    job = owner_of("initreg.job")
    run_job = job.run_job

    def started(cfg):  # Hydra's start: its plugins found, the config composed
        table.add("Hydra's start")
        return run_job(cfg)

    job.run_job = started  # what pipelines/train.py imports when it runs
    for mod_name, attr in STAGES:
        wrap(table, owner_of(mod_name), attr, attr)
    watch_kernel(table)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "mlflow.db"
        shutil.copy(empty_store(Path(tmp)), db)
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{db}"
        sys.argv = [str(TRAIN), *sys.argv[1:], f"hydra.run.dir={tmp}/outputs"]
        try:
            runpy.run_path(str(TRAIN), run_name="__main__")
        except SystemExit as exit_:
            if exit_.code:
                raise
    table.add("(job done)")
    table.print()
    print("\nresident at the end, by mapping (MiB):")
    for name, mib in by_mapping():
        print(f"  {mib:6.1f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
