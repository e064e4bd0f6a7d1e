"""The GitHub workflows: valid YAML, the triggers and jobs the project relies on, real targets."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(wf: dict) -> dict:
    # YAML 1.1 reads the bare key `on` as the boolean True
    return wf.get("on", wf.get(True))


def run_lines(wf: dict) -> list[str]:
    return [step["run"] for job in wf["jobs"].values() for step in job["steps"] if "run" in step]


def make_targets(wf: dict) -> list[str]:
    """Every target of every `make ...` command the workflow runs (variables skipped)."""
    found = []
    for line in run_lines(wf):
        for cmd in re.findall(r"(?:^|[;&|]\s*|\n\s*)make\s+([^;&|\n]+)", line):
            found += [w for w in cmd.split() if "=" not in w and not w.startswith("-")]
    return found


def test_ci_runs_make_test_on_push_and_pull_request_for_both_pythons():
    wf = load("ci.yml")
    on = triggers(wf)
    assert "push" in on and "pull_request" in on
    (job,) = wf["jobs"].values()
    assert job["strategy"]["matrix"]["python-version"] == ["3.11", "3.12"]
    setup = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/setup-python")]
    assert setup and setup[0]["with"]["python-version"] == "${{ matrix.python-version }}"
    assert make_targets(wf) == ["test"]


def test_reproduce_runs_weekly_and_on_demand_and_uploads_the_table():
    wf = load("reproduce.yml")
    on = triggers(wf)
    assert "workflow_dispatch" in on
    (cron,) = [entry["cron"] for entry in on["schedule"]]
    fields = cron.split()
    assert len(fields) == 5 and fields[4] != "*" and fields[2] == "*", "a weekly cron"
    assert make_targets(wf) == ["reproduce"]
    steps = wf["jobs"]["reproduce"]["steps"]
    make_step = next(s for s in steps if "make reproduce" in s.get("run", ""))
    assert not make_step.get("continue-on-error"), "a drift must fail the workflow"
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    assert "reports/reproductions/reproduction.md" in upload["with"]["path"]
    assert "reports/reproductions/reproduction.json" in upload["with"]["path"]


@pytest.mark.parametrize("name", ["ci.yml", "reproduce.yml"])
def test_every_make_target_a_workflow_calls_exists(name):
    targets = make_targets(load(name))
    assert targets
    for target in targets:
        proc = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 0, f"make -n {target}: {proc.stderr}"


def test_the_target_check_can_fail():
    proc = subprocess.run(["make", "-n", "no-such-target"], cwd=ROOT, capture_output=True)
    assert proc.returncode != 0
