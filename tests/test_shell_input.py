"""User-given values reach the shell as data: the Makefile's variables and warn-host.sh's host."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WARN_HOST = ROOT / "scripts" / "warn-host.sh"


@pytest.mark.parametrize(("host", "warns"), [
    ("127.0.0.1", False), ("127.255.255.255", False), ("127.0.0.0", False), ("127.1.22.254", False),
    ("localhost", False), ("::1", False), ("[::1]", False),
    ("127.evil.example", True), ("127.0.0.1.evil.example", True), ("127.0.0.256", True),
    ("127.0.0.01", True), ("127.1", True), ("1127.0.0.1", True), ("localhost.evil.example", True),
    ("0.0.0.0", True), ("::", True), ("", True), ("127.0.0.1 ", True),
])  # fmt: skip
def test_only_real_loopback_addresses_are_spared_the_warning(host, warns):
    proc = subprocess.run(["bash", str(WARN_HOST), host], capture_output=True, text=True,
                          check=True)
    assert ("no authentication" in proc.stderr) == warns, proc.stderr


# A value that would run `touch pwned` if any layer let it through: the shell (quotes, `;`,
# `$()`, backquotes) or make itself (`$(shell ...)` in a command-line or environment value).
def _payload(tmp_path: Path) -> str:
    marker = tmp_path / "pwned"
    return (f"x'; touch {marker}; echo ' \"$(touch {marker})\" `touch {marker}` "
            f"$(shell touch {marker})")


@pytest.fixture
def fake_venv(tmp_path):
    """A venv whose programs print their arguments, one per line in <>, and do nothing else."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for program in ("python", "mlflow", "ruff", "zizmor"):
        path = venv / "bin" / program
        path.write_text("#!/bin/sh\nfor a in \"$@\"; do printf '<%s>\\n' \"$a\"; done\n")
        path.chmod(0o755)
    for stamp in (".installed", ".bench-installed"):  # newer than pyproject.toml: no install
        (venv / stamp).touch()
    return venv


CASES = [  # target, variable, how the payload reaches the program: whole, or word by word
    ("report", "SWEEP", "whole"),
    ("sweep", "DATA", "data="), ("sweep", "JOBS", "hydra.launcher.n_jobs="),
    ("sweep", "BLAS_THREADS", "none"),  # an environment value of the command
    ("ui", "HOST", "whole"), ("ui", "PORT", "whole"), ("ui", "STORE", "whole"),
    ("server", "HOST", "whole"), ("server", "PORT", "whole"), ("server", "BACKEND", "whole"),
    ("server", "SERVER_OPTS", "words"),
    ("migrate", "FROM", "whole"), ("migrate", "TO", "whole"),
    ("study-depth", "JOBS", "whole"), ("study-curve", "JOBS", "whole"),
    ("bench", "BENCH_ARGS", "words"),
]  # fmt: skip


@pytest.mark.parametrize(("target", "variable", "arrives"), CASES,
                         ids=[f"{t} {v}" for t, v, _ in CASES])
def test_a_make_variable_is_one_argument_and_never_a_command(tmp_path, fake_venv, target,
                                                             variable, arrives):
    payload = _payload(tmp_path)
    proc = subprocess.run(["make", "-s", target, f"VENV={fake_venv}", f"{variable}={payload}",
                           f"ARTIFACTS={tmp_path / 'artifacts'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "pwned").exists()
    args = [line[1:-1] for line in proc.stdout.splitlines() if line.startswith("<")]
    if arrives == "whole":
        assert payload in args
    elif arrives == "words":
        assert payload.split() == args[-len(payload.split()):]
    elif arrives != "none":
        assert arrives + payload in args


def test_a_value_in_the_environment_is_not_expanded_by_make(tmp_path, fake_venv):
    payload = _payload(tmp_path)
    env = {**os.environ, "SWEEP": payload, "VENV": str(fake_venv)}
    proc = subprocess.run(["make", "-s", "report"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "pwned").exists()
    assert f"<{payload}>" in proc.stdout.splitlines()


def test_python_for_a_new_venv_is_one_word(tmp_path):
    payload = _payload(tmp_path)
    proc = subprocess.run(["make", "-n", "setup", f"VENV={tmp_path / 'new'}",
                           f"PYTHON={payload}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "pwned").exists()  # make -n runs no recipe, but would run $(shell)
    quoted = "'" + payload.replace("'", "'\\''") + "'"
    assert f"|| {quoted} -m venv" in proc.stdout
