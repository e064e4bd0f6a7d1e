"""The compiled engine's kernel built ahead of time (initreg.nn.aot): the JIT's bits, loaded
without numba, built once per machine however many processes start at once, and a build that
cannot work leaves numba's JIT in charge instead of failing the run."""

import logging
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from initreg.nn import Network, aot, compiled, mask_rng, train

pytestmark = pytest.mark.skipif(not compiled.available(), reason="numba is not installed")

SRC = str(Path(aot.__file__).resolve().parents[2])


def _data(n_x, m, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_x, m))
    return X, (X[0:1] + 0.5 * rng.normal(size=(1, m)) > 0).astype(float)


def _trained(kernel, monkeypatch, dims, lambd, keep_prob, rng):
    monkeypatch.setattr(compiled, "_KERNEL", kernel)
    X, Y = _data(dims[0], 53)
    net = Network(dims, lambd=lambd, keep_prob=keep_prob, seed=3)
    history = train(net, X, Y, learning_rate=0.05, num_iterations=120, log_every=25, rng=rng)
    return net.params, history.costs


@pytest.mark.parametrize("dims,lambd,keep_prob,rng", [
    ([3, 1], 0.0, 1.0, lambda: None),
    ([3, 7, 1], 0.3, 1.0, lambda: None),
    ([3, 9, 5, 1], 0.1, 0.8, lambda: np.random.default_rng(4)),  # PCG64: stepped by the kernel
    ([3, 6, 6, 4, 1], 0.0, 0.7, lambda: np.random.Generator(np.random.MT19937(4))),
    ([3, 5, 4, 1], 0.2, 0.86, lambda: np.random.RandomState(5)),  # masks drawn in Python
    ([3, 5, 4, 1], 0.2, 0.86, lambda: mask_rng("course", 1)),  # the course's fixed masks
    ([3, 400, 9, 1], 0.1, 0.8, lambda: np.random.default_rng(4)),  # past SMALL: the BLAS
])
def test_the_kernel_built_ahead_of_time_trains_the_jits_bits(dims, lambd, keep_prob, rng,
                                                            monkeypatch):
    module = aot.load()
    assert module is not None, "the kernel could not be built here"
    built, jitted = rng(), rng()
    ours = _trained(aot.kernel(module), monkeypatch, dims, lambd, keep_prob, built)
    theirs = _trained(compiled.jit(), monkeypatch, dims, lambd, keep_prob, jitted)
    for name, p in theirs[0].items():
        np.testing.assert_array_equal(ours[0][name], p, err_msg=name)
    assert ours[1] == theirs[1]
    if hasattr(built, "random"):  # the generator left where the JIT leaves it
        np.testing.assert_array_equal(built.random(3), jitted.random(3))


def _python(code: str, env: dict, **kw) -> subprocess.Popen:
    env = {**os.environ, **env, "PYTHONPATH": SRC}
    return subprocess.Popen([sys.executable, "-P", "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


TRAIN_AND_SAY = """
import logging, sys
logging.basicConfig(level=logging.INFO)
import numpy as np
from initreg.nn import Network, compiled, train
X = np.random.default_rng(0).normal(size=(2, 40)); Y = (X[:1] > 0).astype(float)
net = Network([2, 5, 1], keep_prob=0.8, seed=1)
train(net, X, Y, learning_rate=0.1, num_iterations=50, rng=np.random.default_rng(2))
print(float(net.params["W1"].sum()).hex(), "numba" in sys.modules, "llvmlite" in sys.modules)
"""


SCIPY_BLAS = """
import sys
import numpy as np
from initreg.nn import Network, compiled, train
X = np.random.default_rng(0).normal(size=(2, 211)); Y = (X[:1] > 0).astype(float)
for width in (20, 200):  # the course's net, then one past compiled.SMALL
    net = Network([2, width, 3, 1], lambd=0.1, keep_prob=0.86, seed=1)
    train(net, X, Y, learning_rate=0.1, num_iterations=20, rng=np.random.default_rng(2))
    print(compiled._small_net(net.layer_dims, 211), "scipy.linalg" in sys.modules,
          "numba" in sys.modules)
"""


def test_a_course_nets_training_never_loads_scipys_linear_algebra():
    """numba's ``np.dot`` imports ``scipy.linalg`` (7.7 MiB) at its first call: the course's
    products are loops in the kernel, so a job training one does not pay it."""
    assert aot.load() is not None, "the kernel could not be built here"
    out, err = _python(SCIPY_BLAS, {}).communicate(timeout=120)
    assert out.split("\n")[:2] == ["True False False", "False True False"], err


def test_under_numbas_jit_a_course_nets_training_loads_scipys_linear_algebra():
    """compiled.py says so: numba's JIT brings scipy's BLAS in with the kernel's code, whatever
    the products' sizes (only the module built ahead of time leaves it out)."""
    code = SCIPY_BLAS.replace("for width in (20, 200):", "compiled._KERNEL = compiled.jit()\n"
                              "for width in (20,):")
    out, err = _python(code, {}).communicate(timeout=120)
    assert out.split("\n")[:1] == ["True True True"], err


def test_two_processes_started_at_once_on_a_new_machine_build_it_once_and_skip_numba(tmp_path):
    # ... from a working folder that holds another checkout's initreg (which the build's child
    # must not compile), with a numba debugging switch set (which must not reach the build)
    env = {"NUMBA_CACHE_DIR": str(tmp_path), "NUMBA_DISABLE_JIT": "1"}
    elsewhere = tmp_path / "cwd" / "initreg"
    elsewhere.mkdir(parents=True)
    (elsewhere / "__init__.py").write_text("raise SystemExit('not the initreg that runs')\n")
    procs = [_python(TRAIN_AND_SAY, env, cwd=elsewhere.parent) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    builds = sum(err.count("compiling the training kernel") for _, err in outs)
    assert builds == 1, [err for _, err in outs]
    # the same parameters, and neither numba nor LLVM in either process's memory (numba ran in
    # the builder's child); the one that waited loaded what the other built
    assert len({out.split()[0] for out, _ in outs}) == 1
    assert [out.split()[1:] for out, _ in outs] == [["False", "False"]] * 2
    built = list((tmp_path / "initreg").glob("kernel-*/_initreg_kernel*"))
    assert len(built) == 1 and not list((tmp_path / "initreg").glob(".build-*"))
    assert not list((tmp_path / "initreg").glob("kernel-*/FAILED"))


def test_a_build_that_cannot_work_falls_back_to_numbas_jit_and_is_not_retried(
        tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CC", "false")  # a C compiler that fails: as on a machine without one
    caplog.set_level(logging.INFO, logger="initreg.nn.aot")
    assert aot.load() is None
    failed = list((tmp_path / "initreg").glob("kernel-*/FAILED"))
    assert len(failed) == 1 and "compiler" in failed[0].read_text()
    warning = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1 and str(failed[0]) in warning[0] and "compiler" in warning[0]
    caplog.clear()
    assert aot.load() is None  # not built again
    assert not [r for r in caplog.records if "compiling" in r.getMessage()]
    shutil.rmtree(failed[0].parent)  # as the warning says: delete the folder to try again
    assert aot.load() is None
    assert [r for r in caplog.records if "compiling" in r.getMessage()]
    monkeypatch.setattr(compiled, "_KERNEL", None)
    assert compiled.kernel() is compiled.jit()  # training goes on, on the JIT


def test_a_damaged_module_is_not_loaded_and_the_jit_trains_instead(tmp_path, monkeypatch,
                                                                  caplog):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    where = tmp_path / "initreg" / f"kernel-{aot.key()}"
    where.mkdir(parents=True)
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    (where / f"_initreg_kernel{suffix}").write_bytes(b"not a shared library")
    assert aot.load() is None
    assert any("could not be loaded" in r.getMessage() for r in caplog.records)
    monkeypatch.setattr(compiled, "_KERNEL", None)
    assert compiled.kernel() is compiled.jit()


def test_the_build_is_keyed_by_the_cpu_and_the_compilers_versions(monkeypatch):
    first = aot.key()
    monkeypatch.setattr(aot, "cpu", lambda: "another CPU")
    assert aot.key() != first
    monkeypatch.undo()
    real = aot._version
    monkeypatch.setattr(aot, "_version", lambda package: "0.0" if package == "numba" else
                        real(package))
    assert aot.key() != first


def test_the_cache_is_numbas_folder_else_next_to_the_code_else_the_users(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    assert aot.cache_root() == tmp_path / "numba" / "initreg"
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setattr(aot, "HERE", tmp_path / "pkg")
    assert aot.cache_root() == tmp_path / "pkg" / "__pycache__"
    monkeypatch.setattr(aot, "HERE", Path("/proc/initreg"))  # read-only, even for root
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert aot.cache_root() == tmp_path / "xdg" / "initreg"


def test_a_build_folder_left_by_a_killed_process_is_cleared_by_the_next_build(
        tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CC", "false")  # a quick build: it fails at once
    root = tmp_path / "initreg"
    stale = root / f".build-kernel-{aot.key()}-killed"
    stale.mkdir(parents=True)
    (stale / "half.o").write_bytes(b"...")
    other = root / ".build-kernel-0123456789abcdef-building"  # another key's: not ours to clear
    other.mkdir()
    assert aot.load() is None
    assert not stale.exists() and other.exists()
    assert [p.name for p in root.glob(".build-*")] == [other.name]


@pytest.mark.parametrize("stop", ["killed", "timeout"])
def test_a_build_stopped_from_outside_records_nothing_and_the_next_process_tries_again(
        stop, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    if stop == "killed":  # the OOM killer, kill -9
        killed = tmp_path / "python"
        killed.write_text("#!/bin/sh\nkill -9 $$\n")
        killed.chmod(0o755)
        monkeypatch.setattr(aot.sys, "executable", str(killed))
    else:
        monkeypatch.setattr(aot, "BUILD_TIMEOUT_S", 0.3)
    caplog.set_level(logging.INFO, logger="initreg.nn.aot")
    assert aot.load() is None
    root = tmp_path / "initreg"
    assert not list(root.glob("kernel-*/")) and not list(root.glob(".build-*"))
    assert aot.load() is None
    assert sum("compiling" in r.getMessage() for r in caplog.records) == 2


def test_a_kernel_built_next_to_the_code_is_used_after_the_install_became_read_only(
        tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(aot, "HERE", tmp_path / "pkg")
    monkeypatch.setattr(aot, "_writable", lambda folder: False)  # a read-only install
    assert aot.cache_root("0123456789abcdef") == tmp_path / "xdg" / "initreg"
    (tmp_path / "pkg" / "__pycache__" / "kernel-0123456789abcdef").mkdir(parents=True)
    assert aot.cache_root("0123456789abcdef") == tmp_path / "pkg" / "__pycache__"
    assert aot.cache_root("fedcba9876543210") == tmp_path / "xdg" / "initreg"  # another key's
