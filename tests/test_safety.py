"""Servers bind loopback by default and warn when told otherwise."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("host", "warns"), [("127.0.0.1", False), ("localhost", False),
                                             ("::1", False), ("0.0.0.0", True),
                                             ("192.168.1.5", True)])
def test_non_loopback_hosts_print_a_warning(host, warns):
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "warn-host.sh"), host],
                          capture_output=True, text=True, check=True)
    assert ("no authentication" in proc.stderr) == warns


@pytest.mark.parametrize("target", ["ui", "server"])
def test_servers_bind_loopback_unless_told(target):
    plan = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout
    assert "--host '127.0.0.1'" in plan and "warn-host.sh '127.0.0.1'" in plan  # quoted values
    told = subprocess.run(["make", "-n", target, "HOST=0.0.0.0"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout
    assert "--host '0.0.0.0'" in told and "warn-host.sh '0.0.0.0'" in told
