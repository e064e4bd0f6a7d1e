"""`make bench`: initreg side by side with its contenders and this machine's limits, in one run.

    python benchmarks/run.py [--quick] [--only train,gflops,gate,tracking,sweep,memory]
                             [--out benchmarks/RESULTS.md]

Contenders are timed in alternating rounds (A B C, B C A, ...) so that drift in the machine's
load hits all of them alike; each figure is the median over rounds, and every ratio compares
figures from this same run. The sections (see the issue "Benchmarks side by side"):

1. train: seconds per training step, course net [2,20,3,1] x 211 (football) and large net
   [30,64,32,1] x 50,000 (synthetic): initreg ``train`` vs a hand-written NumPy loop vs PyTorch
   CPU (1 thread and all threads) vs JAX ``jit`` (when installed);
2. gflops: GFLOP/s of those steps against ``np.dot`` of 2000x2000 float64 matrices;
3. gate: the directional gradcheck gate (``initreg.job``'s ``gradcheck_gate``) as a share
   of a default run's training; full-mode time against parameter count, with a log-log slope;
4. tracking: one default pipeline run with MLflow against ``tracking.enabled=false``;
5. sweep: ``make sweep``'s 27 runs with 1 and 2 joblib workers, and the fixed cost per job;
6. memory: the peak RSS of one default job.

Writes ``--out`` (machine, versions, tables, goals with PASS/FAIL) and prints it.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import contenders  # noqa: E402

from initreg.data import load_football  # noqa: E402
from initreg.nn import Network, train  # noqa: E402

PY = sys.executable
TRAIN = ROOT / "pipelines" / "train.py"
TIMED = ROOT / "benchmarks" / "timed_pipeline.py"


# --- measuring ----------------------------------------------------------------------------------

@dataclass
class Timings:
    """Seconds per unit of work for each contender, one value per round."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.values.setdefault(name, []).append(seconds)

    def median(self, name: str) -> float:
        return statistics.median(self.values[name])

    def spread(self, name: str) -> str:
        v = self.values[name]
        return f"{min(v) / self.median(name):.2f}-{max(v) / self.median(name):.2f}"


def alternate(contenders_: dict, rounds: int, per_round) -> Timings:
    """Run ``contenders_[name]()`` in rotated order each round; values are seconds / per_round."""
    names = list(contenders_)
    t = Timings()
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            start = time.perf_counter()
            contenders_[name]()
            t.add(name, (time.perf_counter() - start) / per_round(name))
    return t


def synthetic(n_x: int, m: int, seed: int = 0):
    """A seeded, learnable binary problem: a noisy linear rule on Gaussian features."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    w = rng.standard_normal((1, n_x))
    Y = (w @ X + 0.5 * rng.standard_normal((1, m)) > 0).astype(np.float64)
    return X, Y


def np_dot_gflops(n: int = 2000):
    """A function timing one n x n float64 product, and its FLOP count."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    out = np.empty((n, n))
    np.dot(A, B, out=out)
    return (lambda: np.dot(A, B, out=out)), 2.0 * n**3


# --- 1 + 2: training steps and GFLOP/s ----------------------------------------------------------

def bench_training(name, dims, X, Y, lr, iters, rounds, notes, with_dot=False, keep_prob=1.0):
    """Seconds per step of every contender on one net; returns (Timings, flops per step).

    keep_prob < 1: dropout on the hidden layers, fresh masks every iteration; only initreg (both
    engines) and the lean loop take part (the other contenders have no dropout here)."""
    net0 = Network(dims, init="he", seed=0)
    p0 = {k: v.copy() for k, v in net0.params.items()}
    runs = {}
    dropout = keep_prob < 1.0

    def initreg_run(dtype, **engine):
        net = Network(dims, init="he", seed=0, dtype=dtype, keep_prob=keep_prob)
        if dtype == "float64":
            for k in net.params:
                net.params[k][...] = p0[k]
        rng = np.random.default_rng(1) if dropout else None
        return lambda: train(net, X, Y, learning_rate=lr, num_iterations=iters, log_every=1000,
                             rng=rng, **engine)

    runs["initreg"] = initreg_run("float64")  # train's defaults: the compiled engine applies
    runs["initreg numpy engine"] = initreg_run("float64", engine="numpy")
    if not dropout:
        runs["initreg float32"] = initreg_run("float32")
    lean = contenders.lean_loop(p0, X, Y, lr, keep_prob, np.random.default_rng(1))
    runs["lean NumPy"] = lambda: lean(iters)
    if dropout:
        for f in runs.values():
            f()
        t = alternate(runs, rounds, lambda n: iters)
        return t, contenders.flops_per_iteration(dims, X.shape[1]), None
    hand = contenders.hand_loop(p0, X, Y, lr)
    runs["hand-written NumPy"] = lambda: hand(iters)
    why = contenders.torch_available()
    if why is None:
        import torch

        t1 = contenders.torch_steps(p0, X, Y, lr, threads=1)
        tn = contenders.torch_steps(p0, X, Y, lr, threads=os.cpu_count())
        runs["PyTorch (1 thread)"] = lambda: t1(iters)
        runs[f"PyTorch ({os.cpu_count()} threads)"] = lambda: tn(iters)
        torch.set_num_threads(os.cpu_count())
    else:
        notes.append(f"{name}: PyTorch skipped: {why}")
    why = contenders.jax_available()
    if why is None:
        jx = contenders.jax_steps(p0, X, Y, lr)
        runs["JAX jit"] = lambda: jx(iters)
    else:
        notes.append(f"{name}: JAX skipped: {why}")
    dot, dot_flops = np_dot_gflops()
    if with_dot:
        runs["np.dot 2000x2000"] = dot
    for f in runs.values():  # warm-up: allocations, first-call costs, compilation
        f()
    t = alternate(runs, rounds, lambda n: 1 if n.startswith("np.dot") else iters)
    return t, contenders.flops_per_iteration(dims, X.shape[1]), dot_flops


# --- 3: the gate --------------------------------------------------------------------------------

def load_pipeline():
    """The job's stages (``initreg.job``)."""
    from initreg import job

    return job


def compose(overrides=()):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    import initreg.config  # noqa: F401 - registers the schema

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=list(overrides))


def bench_gate(rounds: int, quick: bool):
    """Gate seconds, default-run training seconds, and full-mode seconds per parameter count."""
    import logging

    from initreg.gradcheck import gradient_check, model_objective

    logging.getLogger("initreg.train").setLevel(logging.WARNING)
    pipe = load_pipeline()
    cfg = compose(["train.num_iterations=3000"] if quick else [])
    ds = pipe.load_data(cfg)
    gate_t, train_t = [], []
    for _ in range(rounds):
        model = pipe.build_model(cfg)
        start = time.perf_counter()
        result = pipe.gradcheck_gate(cfg, model, ds)
        gate_t.append(time.perf_counter() - start)
        assert result.passed, result.summary()
        start = time.perf_counter()
        pipe.train_model(cfg, model, ds, pipe.tracking.NoRun())
        train_t.append(time.perf_counter() - start)
    full = []
    X, Y = ds.X_train[:, :64], ds.Y_train[:, :64]
    for width in (4, 8, 16, 32) if quick else (4, 8, 16, 32, 64):
        net = Network([2, width, width, 1], seed=0)
        n_params = sum(p.size for p in net.params.values())
        f = model_objective(net, X, Y)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            res = gradient_check(f, net.params, mode="full")
            times.append(time.perf_counter() - start)
        full.append((width, n_params, res.evaluations, statistics.median(times), res.passed))
    return {"gate": statistics.median(gate_t), "train": statistics.median(train_t),
            "iterations": cfg.train.num_iterations, "full": full}


def loglog_slope(xs, ys) -> float:
    """Least-squares slope of log(y) on log(x): 1 means y grows linearly with x."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


# --- 4, 5, 6: whole pipeline runs in subprocesses ------------------------------------------------

def empty_store(folder: Path) -> Path:
    """An SQLite MLflow store with its tables created (so runs time logging, not migrations)."""
    from mlflow import MlflowClient

    db = folder / "template.db"
    MlflowClient(f"sqlite:///{db}").search_experiments()
    return db


# `make sweep`'s environment: one BLAS thread per job, so parallel jobs do not oversubscribe
SWEEP_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def run_job(args, folder: Path, store_db: Path | None, timed=True, env_extra=None):
    """One pipeline process; returns (wall seconds, train seconds list, completed process)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **(env_extra or {})}
    out = folder / "timings.json"
    env["INITREG_BENCH_OUT"] = str(out)
    if store_db is not None:
        db = folder / "mlflow.db"
        shutil.copy(store_db, db)
        env["MLFLOW_TRACKING_URI"] = f"sqlite:///{db}"
    cmd = [PY, str(TIMED if timed else TRAIN), *args, f"hydra.run.dir={folder}/outputs",
           f"hydra.sweep.dir={folder}/multirun"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    seconds = json.loads(out.read_text())["train_seconds"] if out.exists() else []
    return wall, seconds, proc


def bench_tracking(tmp: Path, store: Path, rounds: int, quick: bool):
    """Wall and train seconds of the same default run with MLflow on and off, alternating."""
    extra = ["train.num_iterations=3000"] if quick else []
    t = {"on": {"wall": [], "train": []}, "off": {"wall": [], "train": []}}
    for r in range(rounds):
        for mode in (("on", "off") if r % 2 == 0 else ("off", "on")):
            args = extra + ([] if mode == "on" else ["tracking.enabled=false"])
            wall, train_s, _ = run_job(args, tmp / f"tracking-{mode}-{r}", store)
            t[mode]["wall"].append(wall)
            t[mode]["train"].append(train_s[0])
    res = {mode: {k: statistics.median(v) for k, v in d.items()} for mode, d in t.items()}
    res["store"] = statistics.median(mlflow_store_seconds(store) for _ in range(3))
    return res


def bench_tracking_jobs(tmp: Path, rounds: int, quick: bool) -> dict[str, float]:
    """Median seconds of a whole default job (every stage: data, gate, training, evaluation,
    plots, and with MLflow the run, params, metrics and artifacts) with MLflow on and off,
    alternating in one warm process, as a sweep worker runs its jobs."""
    import logging

    logging.getLogger("initreg.train").setLevel(logging.WARNING)
    pipe = load_pipeline()
    extra = ["train.num_iterations=3000"] if quick else []
    cfgs = {"on": compose([*extra, f"tracking.uri=sqlite:///{tmp}/jobs.db"]),
            "off": compose([*extra, "tracking.enabled=false"])}
    for cfg in cfgs.values():  # warm-up: imports, the store's first opening
        pipe.run_job(cfg)
    t = {"on": [], "off": []}
    for r in range(rounds):
        for mode in (("on", "off") if r % 2 == 0 else ("off", "on")):
            start = time.perf_counter()
            pipe.run_job(cfgs[mode])
            t[mode].append(time.perf_counter() - start)
    return {mode: statistics.median(v) for mode, v in t.items()}


def mlflow_store_seconds(store: Path) -> float:
    """Seconds a fresh process (MLflow imported) takes to open a SQLite store: the import of
    MLflow's SQLAlchemy store (SQLAlchemy, Alembic) and the schema check, paid once a process."""
    code = ("import sys, time, mlflow; t = time.perf_counter(); "
            "mlflow.MlflowClient(sys.argv[1]).search_experiments(); "
            "print(time.perf_counter() - t)")
    out = subprocess.run([PY, "-c", code, f"sqlite:///{store}"], capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def sweep_train_seconds(db: Path) -> float:
    """Sum of the ``train_seconds`` metric over a sweep's child runs."""
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{db}")
    exps = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(exps, max_results=1000)
    return sum(r.data.metrics.get("train_seconds", 0.0) for r in runs
               if r.data.tags.get("mlflow.parentRunId"))


def sweep_job_overheads(db: Path) -> dict[str, list[float]]:
    """Per job of a sweep, read from its store: the seconds a worker spent on the job outside
    its training, for every job but each worker's first (its process start and imports).

    A worker's jobs are its child runs with one ``pid`` tag, in order of start; a job's time is
    from the end of the worker's previous run to the end of its own (Hydra's per-job set-up,
    the gate, evaluation, plots, MLflow), minus its ``train_seconds``. ``first``: the first
    job of each worker, from its start to its end, minus training.
    """
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{db}")
    exps = [e.experiment_id for e in client.search_experiments()]
    workers: dict[str, list] = {}
    for r in client.search_runs(exps, max_results=1000):
        if r.data.tags.get("mlflow.parentRunId"):
            workers.setdefault(r.data.tags.get("pid", ""), []).append(r)
    steady, first = [], []
    for runs in workers.values():
        runs.sort(key=lambda r: r.info.start_time)
        for prev, r in zip([None, *runs], runs, strict=False):
            since = prev.info.end_time if prev else r.info.start_time
            other = (r.info.end_time - since) / 1000 - r.data.metrics.get("train_seconds", 0.0)
            (steady if prev else first).append(other)
    return {"steady": steady, "first": first}


def bench_sweep(tmp: Path, store: Path, rounds: int, quick: bool):
    """Wall seconds of the 27-run default sweep with 1 and 2 workers, alternating."""
    iters = 3000 if quick else None
    extra = [f"train.num_iterations={iters}"] if iters else []
    walls = {1: [], 2: []}
    train_sum = {1: [], 2: []}
    other = {1: {"steady": [], "first": []}, 2: {"steady": [], "first": []}}
    for r in range(rounds):
        for jobs in ((1, 2) if r % 2 == 0 else (2, 1)):
            folder = tmp / f"sweep-{jobs}-{r}"
            args = ["-m", "experiment=default_sweep", f"hydra.launcher.n_jobs={jobs}", *extra]
            wall, _, _ = run_job(args, folder, store, timed=False, env_extra=SWEEP_ENV)
            walls[jobs].append(wall)
            train_sum[jobs].append(sweep_train_seconds(folder / "mlflow.db"))
            for kind, seconds in sweep_job_overheads(folder / "mlflow.db").items():
                other[jobs][kind] += seconds
    return {"wall": {j: statistics.median(v) for j, v in walls.items()},
            "wall_range": {j: (min(v), max(v)) for j, v in walls.items()},
            "train_sum": {j: statistics.median(v) for j, v in train_sum.items()},
            "other": other, "iterations": iters or 30000}


def spread_text(values: list[float]) -> str:
    """``median s (quartiles q1-q3, max)`` of a list of seconds."""
    if len(values) < 2:
        return f"{values[0]:.2f} s" if values else "no jobs"
    q1, q2, q3 = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):.2f} s (quartiles {q1:.2f}-{q3:.2f}, max {max(values):.2f})"


def bench_fixed_cost(tmp: Path, store: Path, rounds: int):
    """Process start, imports, and a whole tracked job of 1 iteration (all but the training)."""
    imports = ("import hydra, mlflow, matplotlib, initreg.tracking, initreg.callbacks, "
               "initreg.plots")
    res = {"start": [], "imports": [], "job": []}
    for r in range(rounds):
        start = time.perf_counter()
        subprocess.run([PY, "-c", "pass"], check=True)
        res["start"].append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run([PY, "-c", imports], check=True, cwd=ROOT)
        res["imports"].append(time.perf_counter() - start)
        wall, _, _ = run_job(["train.num_iterations=1"], tmp / f"fixed-{r}", store, timed=False)
        res["job"].append(wall)
    return {k: statistics.median(v) for k, v in res.items()}


def bench_memory(tmp: Path, store: Path, quick: bool, overrides: tuple[str, ...] = ()):
    """Peak RSS (MiB) of one default job (with ``overrides``), read in a fresh parent that runs
    only that job."""
    folder = tmp / ("memory-" + "-".join(o.replace("=", "_") for o in overrides))
    folder.mkdir()
    db = folder / "mlflow.db"
    shutil.copy(store, db)
    extra = [*(["train.num_iterations=3000"] if quick else []), *overrides]
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
            "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{db}"}
    out = subprocess.run([PY, "-c", code, PY, str(TRAIN), *extra,
                          f"hydra.run.dir={folder}/outputs"],
                         env=env, cwd=folder, capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024  # ru_maxrss is in KiB on Linux


def bench_first_use(tmp: Path, rounds: int) -> dict[str, float]:
    """Seconds a fresh process spends on the compiled kernel beyond what the NumPy engine's
    same one-step training takes: on a new machine (an empty cache: numba's AOT compiler builds
    it, ``initreg.nn.aot``), after (it is loaded; a small net's products are loops, no BLAS
    loaded), and under numba's JIT (where the AOT build is not possible) from a warm JIT
    cache."""
    train = ("import numpy as np; from initreg.nn import Network, compiled, train; {before}"
             "X = np.ones((2, 64)); Y = np.ones((1, 64)); "  # 64: a small net, no BLAS
             "train(Network([2, 3, 1]), X, Y, learning_rate=0.1, num_iterations=1, "
             "engine='{engine}')")
    compiled_ = train.format(before="", engine="compiled")
    numpy_ = train.format(before="", engine="numpy")
    jit = train.format(before="compiled._KERNEL = compiled.jit(); ", engine="compiled")

    def seconds(code, cache):
        start = time.perf_counter()
        subprocess.run([PY, "-c", code], check=True, capture_output=True,
                       env={**os.environ, "NUMBA_CACHE_DIR": str(cache)})
        return time.perf_counter() - start

    res = {"build": [], "load": [], "jit": []}
    for r in range(rounds):
        cache = tmp / f"kernel-cache-{r}"
        res["build"].append(seconds(compiled_, cache) - seconds(numpy_, cache))
        seconds(jit, cache)  # numba's JIT compiles into its cache
        for _ in range(3):  # alternating
            base = seconds(numpy_, cache)
            res["load"].append(seconds(compiled_, cache) - base)
            res["jit"].append(seconds(jit, cache) - base)
    return {k: statistics.median(v) for k, v in res.items()}


# --- the report ---------------------------------------------------------------------------------

# Why the goals that miss on this 2-core machine miss (read off the tables above; not re-measured).
EXPLANATIONS = [
    "Timings share a 2-core machine with whatever else runs on it (the load averages are at the "
    "top and bottom): a busy neighbour shows as a wide spread and slows the 2-worker sweep most.",
    "Large net vs np.dot: this net's matrix products are thin (inner sizes 30-64), where the BLAS "
    "reaches far less than on 2000x2000; initreg shares the column blocks between as many "
    "threads as the BLAS has (each block's products on one BLAS thread), so the element-wise "
    "passes, which NumPy runs on one core, use both cores too. float32 halves the memory traffic.",
    "Large net timing: each timed call trains 20 iterations, so initreg's one-off set-up per "
    "`train` call (copying X into its blocks, about 10 ms) weighs as it would over a real run.",
    "Sweep: every job runs with one BLAS thread, as `make sweep` sets (BLAS_THREADS=1). What 2 "
    "workers cannot split: the parent's start (imports, composing the jobs' configs, Hydra's "
    "own check of them, the MLflow parent run), each worker's imports, and the last job.",
]

def machine() -> list[str]:
    """Lines describing the machine and the software versions."""
    from threadpoolctl import threadpool_info

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines = [f"- CPU: {cpu}, {os.cpu_count()} cores; load average at start "
             f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
             f"- Python {platform.python_version()}, NumPy {np.__version__}"]
    for info in threadpool_info():
        lines.append(f"- {info['user_api']}: {info['internal_api']} {info.get('version')} "
                     f"kernel {info.get('architecture')}, {info['num_threads']} threads "
                     f"({Path(info['filepath']).name})")
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                          "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    lines.append("- environment: " + ", ".join(f"{k}={v if v is not None else '(unset)'}"
                                               for k, v in env.items()))
    for mod in ("torch", "jax", "mlflow", "hydra"):
        try:
            m = __import__(mod)
            extra = f" ({m.get_num_threads()} threads)" if mod == "torch" else ""
            lines.append(f"- {mod} {m.__version__}{extra}")
        except ImportError:
            lines.append(f"- {mod}: not installed")
    return lines


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few rounds, short runs (a smoke test)")
    ap.add_argument("--only", default="train,gflops,gate,tracking,sweep,memory")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    quick = args.quick
    started = time.perf_counter()

    def progress(what: str) -> None:
        print(f"[bench {time.perf_counter() - started:5.0f}s] {what}", file=sys.stderr, flush=True)
    report = ["# initreg benchmarks", "",
              f"`{' '.join(['python', 'benchmarks/run.py', *(argv or sys.argv[1:])])}` "
              f"(`make bench`), {time.strftime('%Y-%m-%d %H:%M')}"
              + (" — **quick mode: reduced counts, not for quoting**" if quick else ""), "",
              "## Machine", "", *machine(), ""]
    goals: list[tuple[str, str, bool]] = []
    info: list[tuple[str, str, str]] = []  # measured against no goal, shown beside the goals
    notes: list[str] = []

    if "train" in only or "gflops" in only:
        progress("1-2. training steps: course net, then large net and np.dot (about 3 min)")
        football = load_football()
        course = bench_training("course net", [2, 20, 3, 1], football.X_train, football.Y_train,
                                lr=0.3, iters=200 if quick else 2000, rounds=3 if quick else 9,
                                notes=notes)
        course_do = bench_training("course net, dropout", [2, 20, 3, 1], football.X_train,
                                   football.Y_train, lr=0.3, iters=200 if quick else 2000,
                                   rounds=3 if quick else 9, notes=notes, keep_prob=0.86)
        Xl, Yl = synthetic(30, 50_000)
        large = bench_training("large net", [30, 64, 32, 1], Xl, Yl, lr=0.01,
                               iters=2 if quick else 20, rounds=3 if quick else 7, notes=notes,
                               with_dot=True)
        report += ["## 1-2. Training step (median seconds per full-batch iteration)", "",
                   "Every contender starts from the same parameters and computes the same step "
                   "(the tests check they agree to 1e-12). The hand-written loop is in the "
                   "course's style: `np.dot`, new arrays, the cost computed every iteration. "
                   "initreg `train` logs the cost every 1000 iterations (the pipeline's default) "
                   "and checks it for divergence every 10. Spread = min/median - max/median "
                   "over rounds.", "",
                   "| net | contender | per iteration | ratio to initreg | GFLOP/s | spread |",
                   "|---|---|---|---|---|---|"]
        dot_gflops = None
        for label, (t, flops, dot_flops) in (("[2,20,3,1] x 211", course),
                                             ("[2,20,3,1] x 211, keep_prob 0.86", course_do),
                                             ("[30,64,32,1] x 50,000", large)):
            base = t.median("initreg")
            for name in t.values:
                med = t.median(name)
                if name.startswith("np.dot"):
                    dot_gflops = dot_flops / med / 1e9
                    report.append(f"| {label} | {name} | {med * 1e3:.1f} ms | | "
                                  f"**{dot_gflops:.1f}** | {t.spread(name)} |")
                    continue
                per = f"{med * 1e6:.0f} us" if med < 1e-3 else f"{med * 1e3:.1f} ms"
                report.append(f"| {label} | {name} | {per} | {med / base:.2f} | "
                              f"{flops / med / 1e9:.1f} | {t.spread(name)} |")
        report.append("")
        tc, tl, td = course[0], large[0], course_do[0]
        for what, t in (("Course net", tc), ("Course net, dropout 0.86", td)):
            r = t.median("initreg") / t.median("lean NumPy")
            runs = [a / b for a, b in zip(t.values["initreg"], t.values["lean NumPy"],
                                          strict=True)]
            goals.append((f"{what}: initreg (defaults: compiled) <= 0.33x the lean NumPy loop",
                          f"{r:.2f}x (rounds {min(runs):.2f}-{max(runs):.2f})", r <= 0.33))
        if "JAX jit" in tc.values:
            r = tc.median("initreg") / tc.median("JAX jit")
            goals.append(("Course net: initreg <= 1.0x JAX lax.fori_loop", f"{r:.2f}x", r <= 1.0))
        else:
            notes.append("Course net vs JAX: not measured (JAX is not installed here)")
        r_hand = tc.median("initreg") / tc.median("hand-written NumPy")
        goals.append(("Course net: initreg <= 1.0x the hand-written loop", f"{r_hand:.2f}x",
                      r_hand <= 1.0))
        torch_names = [n for n in tc.values if n.startswith("PyTorch")]
        if torch_names:
            best = min(torch_names, key=tc.median)
            r = tc.median("initreg") / tc.median(best)
            goals.append(("Course net: initreg <= 0.5x PyTorch (its faster thread setting)",
                          f"{r:.2f}x ({best})", r <= 0.5))
        r_large = tl.median("initreg") / tl.median("hand-written NumPy")
        goals.append(("Large net: initreg <= 0.5x the hand-written loop", f"{r_large:.2f}x",
                      r_large <= 0.5))
        gf = large[1] / tl.median("initreg") / 1e9
        share = gf / dot_gflops
        goals.append(("Large net (stretch): initreg >= 30% of np.dot's GFLOP/s",
                      f"{gf:.1f} of {dot_gflops:.1f} GFLOP/s = {share:.0%}", share >= 0.30))

    with tempfile.TemporaryDirectory(prefix="initreg-bench-") as tmp_name:
        tmp = Path(tmp_name)
        store = empty_store(tmp) if only & {"tracking", "sweep", "memory"} else None

        if "gate" in only:
            progress("3. gradcheck gate and full-mode scaling (about 1 min)")
            g = bench_gate(rounds=3 if quick else 5, quick=quick)
            share = g["gate"] / g["train"]
            report += ["## 3. Gradcheck gate", "",
                       f"Directional gate (`initreg.job.gradcheck_gate`, default config: "
                       f"football [2,20,3,1], 64 columns, 3 directions): "
                       f"**{g['gate'] * 1e3:.1f} ms**; the default run's training "
                       f"({g['iterations']} iterations, `train_model`): {g['train']:.2f} s; "
                       f"share **{share:.2%}**.", "",
                       "Full mode on [2, w, w, 1] over 64 football columns:", "",
                       "| w | parameters | evaluations | seconds | us per evaluation | passed |",
                       "|---|---|---|---|---|---|"]
            for w, n, ev, sec, ok in g["full"]:
                report.append(f"| {w} | {n} | {ev} | {sec:.3f} | {sec / ev * 1e6:.1f} | {ok} |")
            ps = [row[1] for row in g["full"]]
            slope = loglog_slope(ps, [row[3] for row in g["full"]])
            report += ["", f"Fitted slope of log(seconds) on log(parameters): **{slope:.2f}** "
                       "(1 = linear). Each evaluation is one forward/backward pass of 64 "
                       "columns, whose cost is nearly constant at these sizes, so the time grows "
                       "with the number of evaluations, 1 + 2 x parameters.", ""]
            goals.append(("Gate <= 5% of a default run's training", f"{share:.2%}",
                          share <= 0.05))
            goals.append(("Full-mode gradcheck time grows ~linearly with parameters "
                          "(log-log slope 0.8-1.25)", f"slope {slope:.2f}",
                          0.8 <= slope <= 1.25))

        if "tracking" in only:
            progress("4. tracking: default runs and jobs with MLflow on and off (about 4 min)")
            tr = bench_tracking(tmp, store, rounds=2 if quick else 4, quick=quick)
            job_rounds = 4 if quick else 10
            jobs = bench_tracking_jobs(tmp, rounds=job_rounds, quick=quick)
            on, off = tr["on"], tr["off"]
            o_train = on["train"] / off["train"] - 1
            o_job = jobs["on"] / jobs["off"] - 1
            o_wall = on["wall"] / off["wall"] - 1
            report += ["## 4. Tracking overhead", "",
                       f"The default run (football, {3000 if quick else 30000} iterations), "
                       "MLflow on (a SQLite store) "
                       "against `tracking.enabled=false`, alternating; medians. *Training*: the "
                       "training stage (`pipelines/train.py` in its own process, "
                       f"{2 if quick else 4} runs each): "
                       "what logging adds while the network trains (the cost curve and layer "
                       "statistics, buffered and written in batches). *Whole job*: every stage "
                       "of `run_job` (data, gate, training, evaluation, plots; with MLflow the "
                       f"run, params, metrics and artifacts), {job_rounds} jobs each in one warm "
                       "process, "
                       "as a sweep's workers run them. *Whole process*: a single run started "
                       "cold, wall time.", "",
                       "| | training | whole job (warm process) | whole process (cold) |",
                       "|---|---|---|---|",
                       f"| MLflow on | {on['train']:.2f} s | {jobs['on']:.2f} s | "
                       f"{on['wall']:.2f} s |",
                       f"| tracking off | {off['train']:.2f} s | {jobs['off']:.2f} s | "
                       f"{off['wall']:.2f} s |",
                       f"| overhead | {o_train:+.1%} | {o_job:+.1%} | {o_wall:+.1%} |", "",
                       "The cold process adds MLflow's one-off set-up: opening the SQLite store "
                       f"alone took **{tr['store']:.2f} s** in a fresh process (MLflow's "
                       "SQLAlchemy store and Alembic imported, the schema checked), whatever "
                       "the run's length; a process that runs many jobs pays it once.", ""]
            goals.append(("Tracking overhead <= 10% (training stage)", f"{o_train:+.1%}",
                          o_train <= 0.10))
            goals.append(("Tracking overhead <= 10% (a whole job, warm process)",
                          f"{o_job:+.1%}", o_job <= 0.10))
            info.append(("Tracking, one default run alone in a cold process (wall)",
                         f"{o_wall:+.1%}", f"for the record: {tr['store']:.2f} s of it is "
                         "opening the store"))

        if "sweep" in only:
            progress("5. sweeps: 27 runs on 1 and 2 workers, 3 rounds (about 14 min)")
            fixed = bench_fixed_cost(tmp, store, rounds=2 if quick else 3)
            sw = bench_sweep(tmp, store, rounds=1 if quick else 3, quick=quick)
            w = sw["wall"]
            speedup = w[1] / w[2]
            per_job_other = (w[1] - sw["train_sum"][1]) / 27
            report += ["## 5. Sweep", "",
                       f"`pipelines/train.py -m experiment=default_sweep "
                       f"hydra.launcher.n_jobs=N` (27 runs, {sw['iterations']} iterations each, "
                       "with `make sweep`'s one BLAS thread per job, a fresh copy of an empty "
                       "SQLite store per sweep), alternating; medians.", "",
                       "| workers | wall | sum of the jobs' training | speed-up |",
                       "|---|---|---|---|",
                       f"| 1 | {w[1]:.1f} s | {sw['train_sum'][1]:.1f} s | 1.00x |",
                       f"| 2 | {w[2]:.1f} s | {sw['train_sum'][2]:.1f} s | {speedup:.2f}x |", "",
                       "Fixed costs, measured separately (medians):", "",
                       f"- interpreter start (`python -c pass`): {fixed['start'] * 1e3:.0f} ms",
                       f"- start + imports (hydra, mlflow, matplotlib, initreg adapters): "
                       f"{fixed['imports']:.2f} s",
                       f"- a whole tracked job of 1 iteration (start, imports, Hydra, MLflow "
                       f"run, gate, plots, artifacts): {fixed['job']:.2f} s",
                       f"- in the 1-worker sweep, per job, everything but training: "
                       f"{per_job_other:.2f} s (wall minus the jobs' training, / 27)", "",
                       "Per job, everything but training, read from the sweep's store: from the "
                       "end of the worker's previous run to the end of this one (Hydra's per-job "
                       "set-up, the gate, evaluation, plots, MLflow, the worker's wait for its "
                       "next job) minus the run's `train_seconds`; each worker's first job "
                       "(its start, imports, the compiled kernel's load) apart:", "",
                       "| workers | jobs after each worker's first | first jobs |",
                       "|---|---|---|",
                       *[f"| {j} | {spread_text(sw['other'][j]['steady'])} | "
                         f"{', '.join(f'{x:.2f}' for x in sorted(sw['other'][j]['first']))} s |"
                         for j in (1, 2)], ""]
            goals.append(("2 workers >= 1.7x faster than 1 on the default sweep",
                          f"{speedup:.2f}x", speedup >= 1.7))
            lo, hi = sw["wall_range"][2]
            goals.append((f"`make sweep` (27 runs, {sw['iterations']} iterations, 2 workers) "
                          "<= 30 s wall", f"{w[2]:.1f} s (range {lo:.1f}-{hi:.1f})",
                          w[2] <= 30))
            steady = sw["other"][2]["steady"]
            per_job = statistics.median(steady) if steady else float("nan")
            goals.append(("Per job, time outside training <= 0.4 s (2-worker sweep, jobs after "
                          "each worker's first, median)", spread_text(steady), per_job <= 0.4))

        if "memory" in only:
            progress("6. peak memory of one job")
            peaks: dict[str, list[float]] = {"compiled": [], "numpy": []}
            for r in range(1 if quick else 3):  # alternating
                for engine, peak in peaks.items():
                    folder = tmp / f"memory-{r}"
                    folder.mkdir(exist_ok=True)
                    peak.append(bench_memory(folder, store, quick, (f"train.engine={engine}",)))
            highest = max(peaks["compiled"])

            def mib(values):
                return f"{min(values):.1f}-{max(values):.1f} MiB" if len(values) > 1 else \
                    f"{values[0]:.1f} MiB"

            report += ["## 6. Memory", "",
                       f"Peak RSS of one default job (`pipelines/train.py`, tracked; "
                       f"`ru_maxrss` of RUSAGE_CHILDREN in a fresh parent, "
                       f"{len(peaks['compiled'])} rounds, alternating, min-max): "
                       f"**{mib(peaks['compiled'])}**; the same job with "
                       f"`train.engine=numpy`: **{mib(peaks['numpy'])}**. The goal is judged on "
                       "the highest round. `benchmarks/job_memory.py` shows what each import and "
                       "stage adds.", ""]
            goals.append(("A job's peak RSS <= 278 MiB (its peak before the compiled engine), "
                          "highest round",
                          f"{mib(peaks['compiled'])} ({mib(peaks['numpy'])} with "
                          "train.engine=numpy)", highest <= 278))
            progress("7. the compiled kernel on a new machine")
            first = bench_first_use(tmp, 1 if quick else 3)
            report += ["## 7. The compiled kernel on a new machine", "",
                       "Seconds a fresh process spends on the compiled kernel, beyond the NumPy "
                       "engine's time for the same one-step training, medians: with an empty "
                       f"cache, numba's AOT compiler builds it (`initreg.nn.aot`, in a child "
                       f"process): **{first['build']:.1f} s**, paid once per machine: by a sweep's "
                       "submitting process before its first job starts, or by a single run at "
                       "its first step (two starting at once build it once); every later "
                       "process loads it (a small net's matrix products are loops in the "
                       "kernel: no BLAS is loaded): "
                       f"**{first['load']:.2f} s**. Where the AOT build is not possible (no C "
                       "compiler), numba's JIT (numba imported, the machine code loaded from its "
                       f"disk cache) takes **{first['jit']:.2f} s** per process.", ""]
            info.append(("The first sweep on a new machine: the kernel's one-off build",
                         f"{first['build']:.1f} s (then {first['load']:.2f} s per process)",
                         "for the record"))

    if goals:
        report += ["## Goals", "", "| goal | measured | |", "|---|---|---|"]
        report += [f"| {g} | {m} | {verdict(ok)} |" for g, m, ok in goals]
        report += [f"| {g} | {m} | {why} |" for g, m, why in info]
        report.append("")
    report += ["## Notes", "", *[f"- {n}" for n in notes + EXPLANATIONS], ""]
    report.append(f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
                  f"the whole benchmark took {time.perf_counter() - started:.0f} s; peak RSS of "
                  f"this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} "
                  "MiB.")
    text = "\n".join(report) + "\n"
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
