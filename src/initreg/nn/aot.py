"""The compiled engine's kernel built ahead of time: one extension module per machine.

numba's JIT costs every process that trains about 110 MiB and half a second (numba imported,
LLVM started, the cached machine code loaded), whatever the cache holds. So ``compiled.kernel()``
loads ``descent_kernel`` compiled ahead of time instead: numba's AOT compiler (``numba.pycc``)
turns the same Python function into an extension module, once per machine, in a child process
(``python -m initreg.nn.aot DIR``); every later process imports that module with neither numba
nor LLVM. The module's code is the JIT's (the same function, typing, LLVM, CPU and CPU
features: the host's; the build runs it once before it is kept), and the tests hold the two
to the same bits.
Two differences: the AOT compiler has no ``error_model`` option, so its functions check each
division for a zero divisor (which none of the kernel's meets: m >= 1, keep_prob > 0) instead
of giving inf; and no ``nogil``: a call holds the GIL, which ``train`` gives back between log
points.

Where: ``$NUMBA_CACHE_DIR/initreg`` when that is set, else ``__pycache__`` next to this file,
else ``~/.cache/initreg`` (a read-only install, unless it was built there before it became
read-only); in a folder named by a hash of what the code
depends on (this file, ``compiled.py``, the versions of Python, NumPy, numba and llvmlite, the
CPU), so that a changed kernel or machine builds anew. Two processes that start at once build
it once: the builder holds a file lock, the other waits and loads what it built. A build that
fails (no C compiler, say) leaves ``FAILED`` with its reason there, and the processes fall back
to numba's JIT (``compiled.jit()``) without trying again; delete the folder to retry. A build
stopped from outside (killed, timed out) leaves nothing: the next process tries again.

The module's functions do not check their arguments' types (numba's AOT wrappers unbox as
the signature says): ``compiled.CompiledStep`` makes every argument with exactly these types.
"""

import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from initreg.locks import exclusive

log = logging.getLogger(__name__)

MODULE = "_initreg_kernel"  # the extension module's name (its file: MODULE + EXT_SUFFIX)
BUILD_TIMEOUT_S = 600
# a build child ended by one of these was stopped from outside (Ctrl-C, kill, the OOM killer):
# nothing is recorded, the next process tries again
STOPPED = {-signal.SIGINT, -signal.SIGTERM, -signal.SIGKILL, -signal.SIGHUP, -signal.SIGQUIT}
HERE = Path(__file__).resolve().parent
# descent_kernel's arguments (compiled.descent_kernel), rng aside: float64 C arrays "f8[::1]",
# int64 "i8[::1]", the data "f8[:, ::1]"; each entry point is one type of rng
SIGNATURE = ("i8(f8[::1], f8[::1], i8[::1], i8[::1], i8[::1], i8[::1], f8[:, ::1], f8[:, ::1], "
             "f8[::1], f8[::1], b1[::1], f8[::1], f8, {rng}, u8[::1], f8, i8, i8, i8, f8[::1])")
ENTRIES = {"descent_no_rng": "none", "descent_generator": "generator"}


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def cpu() -> str:
    """What the machine code is compiled for: the CPU's model and instruction sets (Linux's
    ``/proc/cpuinfo``), else what ``platform`` knows."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    wanted = ("model name", "flags", "Features", "CPU part")
    seen = {}
    for line in lines:
        name = line.split(":", 1)[0].strip()
        if name in wanted and name not in seen:
            seen[name] = line
    return "\n".join([platform.machine(), platform.processor(), *seen.values()])


def key() -> str:
    """A hash of everything the built module depends on."""
    h = hashlib.sha256()
    for path in (HERE / "compiled.py", Path(__file__)):
        h.update(path.read_bytes())
    for part in (sys.version, sysconfig.get_config_var("EXT_SUFFIX") or "", _version("numpy"),
                 _version("numba"), _version("llvmlite"), cpu()):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:16]


def cache_root(built: str | None = None) -> Path:
    """The folder the built modules live in (see the module's docstring). built: a key whose
    folder found next to this file is used even where that is no longer writable (an install
    made read-only after its first build)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"]) / "initreg"
    pycache = HERE / "__pycache__"
    if (built is not None and (pycache / f"kernel-{built}").is_dir()) or _writable(pycache):
        return pycache
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "initreg"


def _writable(folder: Path) -> bool:
    """Whether a file can be made in ``folder`` (made if missing): tried, not read off the
    permission bits, which a read-only mount or root's rights would belie."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _build(where: Path, key: str) -> None:
    """Build the module of ``key`` into ``where`` in a child process (numba and the compiler
    stay out of this one); on failure write ``where/FAILED`` with the reason, unless the child
    was stopped from outside (``STOPPED``, a timeout): then nothing is kept."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    log.info("compiling the training kernel for this machine, once (a few seconds): %s", where)
    src = str(HERE.parents[1])  # the initreg this process runs, first on the child's path
    # numba's debugging switches (NUMBA_DISABLE_JIT, NUMBA_BOUNDSCHECK, ...) are not baked into
    # the machine's module: the key does not name them
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NUMBA_") or k == "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])])
    # a build folder of this key left by a killed process (this one holds the key's lock: no
    # other process is building it)
    for stale in where.parent.glob(f".build-{where.name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = tempfile.mkdtemp(dir=where.parent, prefix=f".build-{where.name}-")
    try:
        try:
            # -P: not the working folder's initreg (``-m`` puts it first on the path)
            done = subprocess.run([sys.executable, "-P", "-m", "initreg.nn.aot", tmp, key],
                                  env=env, capture_output=True, text=True,
                                  timeout=BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            raise InterruptedError(f"the build was stopped: {e}") from None
        except OSError as e:
            done, why = None, f"{type(e).__name__}: {e}"
        if done is not None:
            if done.returncode in STOPPED:
                raise InterruptedError(f"the build was stopped (exit {done.returncode})")
            why = "" if done.returncode == 0 and (Path(tmp) / (MODULE + suffix)).exists() else (
                f"exit {done.returncode}:\n" + "\n".join(filter(None, [done.stdout.strip(),
                                                                      done.stderr.strip()])))
        if why:
            Path(tmp, "FAILED").write_text(why + "\n")
        os.chmod(tmp, 0o755)  # mkdtemp's 0700 would hide it from other users of the cache
        os.replace(tmp, where)  # the folder appears whole, or not at all
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # an interrupted build's leftovers
    if why:
        log.warning("the training kernel could not be compiled ahead of time (%s), so numba "
                    "compiles it in each process (slower to start, ~110 MiB more); the whole "
                    "reason is in %s (delete that folder to try again)",
                    _summary(why), where / "FAILED")


def _summary(why: str) -> str:
    """The line of a failed build's output that says why: its last exception, else its last
    line."""
    lines = why.strip().splitlines() or [""]
    raised = [ln for ln in lines if re.match(r"\w+(Error|Exception)\b.*:", ln)]
    return (raised or lines)[-1][:300]


def _import(path: Path):
    spec = importlib.util.spec_from_file_location(MODULE, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load():
    """The built module (building it first if this machine has none), or None when it cannot
    be built or loaded (the caller then uses numba's JIT)."""
    try:
        this = key()
        root = cache_root(this)
        where = root / f"kernel-{this}"
        path = where / (MODULE + sysconfig.get_config_var("EXT_SUFFIX"))
        if not where.exists():
            root.mkdir(parents=True, exist_ok=True)
            with exclusive(where.with_name(where.name + ".lock")):
                if not where.exists():  # another process may have built it meanwhile
                    _build(where, this)
        if (where / "FAILED").exists():
            return None
        return _import(path)
    except (OSError, ImportError) as e:
        log.warning("the training kernel compiled ahead of time could not be loaded (%s: %s); "
                    "numba compiles it in this process instead", type(e).__name__, e)
        return None


def kernel(module):
    """``compiled.descent_kernel``'s signature over ``module``'s two entry points."""
    no_rng, generator = (getattr(module, name) for name in ENTRIES)

    def descent_kernel(theta, grads, dims, w_at, b_at, a_at, X, Y, acts, deltas, masks, keep,
                       lambd, rng, pcg, learning_rate, start, stop, cost_every, costs):
        return (no_rng if rng is None else generator)(
            theta, grads, dims, w_at, b_at, a_at, X, Y, acts, deltas, masks, keep, lambd, rng,
            pcg, learning_rate, start, stop, cost_every, costs)

    return descent_kernel


def build(out_dir: str, want: str | None = None) -> None:
    """Compile ``descent_kernel`` into ``out_dir/MODULE...so`` (this process imports numba),
    then run it once (a module the CPU cannot run ends this process, with SIGILL).
    want: the key the module is built for; exits when this process's sources hash otherwise."""
    import numpy as np
    from numba import typeof
    from numba.core import codegen, sigutils
    from numba.pycc import CC

    from initreg.nn import compiled

    if want is not None and key() != want:
        sys.exit(f"{HERE} is not the source of kernel-{want}: it hashes to {key()}")
    # numba's AOT code generator takes the CPU's name without its features (a VM can report an
    # AVX-512 model with AVX-512 off): the JIT's features, this machine's
    codegen.AOTCPUCodegen._customize_tm_features = lambda self: self._get_host_cpu_features()
    compiled.jit()  # makes the kernel's callees (draw_masks, ...) numba functions
    cc = CC(MODULE, source_module=compiled)
    cc.output_dir = out_dir
    cc.target_cpu = "host"  # as numba's JIT does; the cache key names the CPU
    generator = typeof(np.random.default_rng(0))
    for name, rng in ENTRIES.items():
        args, ret = sigutils.normalize_signature(SIGNATURE.format(rng="none"))
        if rng == "generator":
            args = args[:13] + (generator,) + args[14:]
        cc.export(name, ret(*args))(compiled.descent_kernel)
    cc.compile()
    _check(_import(Path(out_dir) / (MODULE + sysconfig.get_config_var("EXT_SUFFIX"))))


def _check(module) -> None:
    """Run ``module``'s two entry points once: a module this CPU cannot run ends this process
    (SIGILL), not every process that trains (the tests hold its bits to the JIT's)."""
    import numpy as np

    from initreg.nn import Network, compiled, train

    compiled._KERNEL = kernel(module)
    X = np.random.default_rng(0).normal(size=(3, 37))
    Y = (X[:1] > 0).astype(float)
    for rng in (None, np.random.default_rng(1), np.random.Generator(np.random.MT19937(1))):
        net = Network([3, 7, 4, 1], lambd=0.1, keep_prob=0.8, seed=2)
        train(net, X, Y, learning_rate=0.1, num_iterations=30, log_every=10, rng=rng)
    compiled._KERNEL = None


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python -m initreg.nn.aot OUT_DIR [KEY]")
    build(*sys.argv[1:])
