"""`make sweep SEEDS=n`: every configuration with the seeds 0 to n-1; a bad SEEDS runs nothing."""

import subprocess

import pytest
from test_shell_input import ROOT, _payload, fake_venv  # noqa: F401  (the fixture)


def make_sweep(fake_venv, seeds):  # noqa: F811
    proc = subprocess.run(["make", "-s", "sweep", f"VENV={fake_venv}", f"SEEDS={seeds}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    return proc, [line[1:-1] for line in proc.stdout.splitlines() if line.startswith("<")]


@pytest.mark.parametrize(("seeds", "override"), [("3", "seed=0,1,2"), ("5", "seed=0,1,2,3,4"),
                                                 ("12", "seed=" + ",".join(map(str, range(12))))])
def test_seeds_become_one_seed_sweep_axis(fake_venv, seeds, override):  # noqa: F811
    proc, args = make_sweep(fake_venv, seeds)
    assert proc.returncode == 0, proc.stderr
    assert args[-1] == override and "experiment=default_sweep" in args and "resume=true" in args


def test_one_seed_adds_no_override(fake_venv):  # noqa: F811
    proc, args = make_sweep(fake_venv, "1")
    assert proc.returncode == 0 and not any(a.startswith("seed=") for a in args)


@pytest.mark.parametrize("seeds", ["0", "-1", "2.5", "abc", "", "07", "PAYLOAD"])
def test_a_bad_seeds_value_is_one_line_and_runs_nothing(tmp_path, fake_venv, seeds):  # noqa: F811
    value = _payload(tmp_path) if seeds == "PAYLOAD" else seeds
    proc, args = make_sweep(fake_venv, value)
    assert proc.returncode != 0 and args == []
    assert "SEEDS=" in proc.stderr and "a whole number >= 1" in proc.stderr
    assert not (tmp_path / "pwned").exists()
