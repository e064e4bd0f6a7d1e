"""The GitHub workflows: valid YAML, the triggers and jobs the project relies on, real targets,
pinned actions and least privilege (zizmor, offline)."""

import re
import shutil
import subprocess
import sys
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


# --- supply chain: what zizmor (https://docs.zizmor.sh) audits -----------------------------------

def steps(wf: dict) -> list[dict]:
    return [step for job in wf["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize("name", ["ci.yml", "reproduce.yml"])
def test_every_action_is_pinned_to_a_commit_with_its_version_named(name):
    text = (WORKFLOWS / name).read_text()
    uses = re.findall(r"uses:\s*(\S+)(.*)", text)
    assert uses
    for ref, rest in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r"\s*# v\d+(\.\d+)*\s*", rest), f"{ref}: no '# vX' comment"


@pytest.mark.parametrize("name", ["ci.yml", "reproduce.yml"])
def test_checkout_keeps_no_token_and_the_token_can_only_read(name):
    wf = load(name)
    checkouts = [s for s in steps(wf) if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts)
    assert wf["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in wf["jobs"].values())


def _zizmor() -> str | None:
    beside = Path(sys.executable).with_name("zizmor")  # the venv's, as `make lint` runs it
    return str(beside) if beside.exists() else shutil.which("zizmor")


@pytest.mark.skipif(_zizmor() is None, reason="zizmor is not installed (pip install -e '.[dev]')")
def test_zizmor_finds_nothing_offline():
    proc = subprocess.run([_zizmor(), "--offline", str(WORKFLOWS)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


@pytest.mark.skipif(_zizmor() is None, reason="zizmor is not installed (pip install -e '.[dev]')")
def test_zizmor_would_catch_an_unpinned_action(tmp_path):
    text = (WORKFLOWS / "ci.yml").read_text()
    unpinned = re.sub(r"actions/checkout@[0-9a-f]{40} # v[\d.]+", "actions/checkout@v4", text)
    assert unpinned != text
    (tmp_path / "ci.yml").write_text(unpinned)
    proc = subprocess.run([_zizmor(), "--offline", str(tmp_path / "ci.yml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "unpinned-uses" in proc.stdout + proc.stderr


def test_make_lint_runs_zizmor_offline_on_the_workflows():
    plan = subprocess.run(["make", "-n", "lint"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"zizmor'? --offline \.github/workflows", plan), plan
