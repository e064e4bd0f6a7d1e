"""`make ui` over a small sweep, looked at in headless Chromium as a person would: the runs table
names every run with its data set, source and model; a run's page shows its metrics and
description; no page logs a console error of its own.

Slow (a sweep, the MLflow server, a browser): `.ci/run` runs it after installing Chromium.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from browser import Browser
from PIL import Image
from pipeline_utils import ROOT, all_runs, run_pipeline

from initreg import tracking

# Console messages of MLflow's own UI that say nothing about our runs: it asks the server for
# the signed-in user (404 without authentication), and the browser notes a resize it deferred.
BENIGN = ("/ajax-api/2.0/mlflow/users/current",
          "ResizeObserver loop completed with undelivered notifications")
EXPAND = '[col-id*="Run Name"] button'  # the button that expands a parent run's row
# The compare page's plots (their tabs' ids end in trigger-<plot>, their panels' in
# content-<plot>) and the label of the control that holds each plot's metric. Radix's tabs
# switch on mousedown, not click. Per plot: the metric its control shows chosen when the page
# opens, and the titles of the plot's axes (none where the plot draws nothing).
PLOTS = {"parallel-coordinates-plot": "Metrics:", "scatter-plot": "Y-axis:",
         "contour-plot": "Z-axis:"}
CHOSEN = """(async () => {
  const plots = %s, chosen = {}, sleep = ms => new Promise(r => setTimeout(r, ms));
  for (const [plot, label] of Object.entries(plots)) {
    const tab = document.querySelector(`[role=tab][id$="trigger-${plot}"]`);
    if (!tab) { chosen[plot] = null; continue; }
    tab.dispatchEvent(new MouseEvent("mousedown", {bubbles: true, button: 0}));
    tab.focus();
    for (let i = 0; i < 80; i++) {
      const panel = document.querySelector(`[role=tabpanel][id$="content-${plot}"]`);
      const lines = panel ? panel.innerText.split("\\n").map(l => l.trim()) : [];
      const at = lines.indexOf(label);
      if (at >= 0 && lines[at + 1]) {  // the plot may draw later, or not at all (contour)
        const titles = [...panel.querySelectorAll(".axis-title, .xtitle, .ytitle")];
        chosen[plot] = {control: lines[at + 1], axes: titles.map(t => t.textContent)};
        if (titles.length) break;
      }
      await sleep(250);
    }
  }
  return chosen;
})()"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def own_errors(page) -> list[str]:
    return [e for e in page.errors if not any(b in e for b in BENIGN)]


def not_blank(png: bytes, path: Path) -> None:
    path.write_bytes(png)
    image = Image.open(path).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200, "a blank or near-blank page"
    assert np.asarray(image, dtype=float).std() > 10


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """A two-run sweep, and `make ui` serving its store on a free port."""
    tmp = tmp_path_factory.mktemp("ui")
    run_pipeline(["-m", "init=he,zeros", "train.num_iterations=200", "train.log_every=100",
                  "hydra.launcher.n_jobs=2"], tmp)
    store = f"sqlite:///{tmp}/mlruns/mlflow.db"
    venv, port = Path(sys.prefix), free_port()
    log = (tmp / "ui.log").open("w")
    # -o: the venv running this test is set up; never reinstall it from here
    server = subprocess.Popen(["make", "-o", f"{venv}/.installed", "ui", f"VENV={venv}",
                               f"STORE={store}", f"PORT={port}", "HOST=127.0.0.1"], cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("make ui did not serve:\n" + (tmp / "ui.log").read_text())
            time.sleep(0.5)
        client = tracking.client(tracking.resolve_uri(store))
        yield base, client, all_runs(client), tmp
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.mark.slow
def test_the_runs_table_names_every_run_with_its_data_set_source_and_model(ui):
    base, _, runs, tmp = ui
    parent = next(r for r in runs if r.data.tags.get("sweep") == "true")
    names = sorted(r.info.run_name for r in runs if r is not parent)
    assert names == ["he", "zeros"]
    with Browser() as browser:
        page = browser.load(tracking.experiment_url(parent.info.experiment_id, base),
                            expect=[parent.info.run_name, *names], click=EXPAND,
                            screenshot=True)
    for text in [parent.info.run_name, *names, "Dataset", "football", "train.py", "Models"]:
        assert text in page.text, text
    assert own_errors(page) == []
    not_blank(page.screenshot, tmp / "runs.png")


@pytest.mark.slow
def test_a_run_page_shows_its_metrics_description_data_and_model(ui):
    base, _, runs, tmp = ui
    run = next(r for r in runs if r.info.run_name == "he")
    dev = run.data.metrics["dev_accuracy"]
    with Browser() as browser:
        page = browser.load(tracking.ui_url(run.info.run_id, run.info.experiment_id, base),
                            expect=["he", "dev_accuracy", "Diagnosis", "Logged models"],
                            screenshot=True)
    assert "dev_accuracy" in page.text and str(dev)[:6] in page.text
    assert f"Diagnosis: {run.data.tags['diagnosis']}." in page.text
    assert run.data.tags["recommendation"] in page.text
    assert "Logged models (1)" in page.text and "football" in page.text
    assert own_errors(page) == []
    not_blank(page.screenshot, tmp / "run.png")


def compare_url(base: str, run_ids: list[str], experiment_ids: list[str]) -> str:
    """The page MLflow's runs table opens on Compare (its ``getCompareRunPageRoute``)."""
    return (f"{base}/#/compare-runs?runs={json.dumps(run_ids, separators=(',', ':'))}"
            f"&experiments={json.dumps(experiment_ids, separators=(',', ':'))}")


def compared(ui):
    """What each plot of the Compare page of the sweep's two children has chosen."""
    base, _, runs, _ = ui
    children = sorted((r for r in runs if r.data.tags.get("sweep") != "true"),
                      key=lambda r: r.info.run_name)
    url = compare_url(base, [r.info.run_id for r in children],
                      sorted({r.info.experiment_id for r in children}))
    with Browser() as browser:
        page = browser.load(url, expect=["Comparing 2 Runs", "Parallel Coordinates Plot"],
                            evaluate=CHOSEN % json.dumps(PLOTS))
    assert set(page.value) == set(PLOTS) and all(page.value.values()), page.value
    assert own_errors(page) == []
    return page.value


@pytest.mark.slow
def test_the_compare_page_opens_on_dev_accuracy(ui):
    """Two runs of a sweep selected and compared: the page opens on its parallel-coordinates
    plot, on the first metric the runs share in the store's order, which is the first key a run
    logs: ``dev_accuracy`` (of the initialised network, at step 0; ``job.start_metrics``)."""
    chosen = compared(ui)["parallel-coordinates-plot"]
    assert chosen["control"] == "dev_accuracy", chosen
    assert "dev_accuracy" in chosen["axes"]


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "MLflow 3.17.2 opens the scatter and contour plots (tabs the user switches to) on the first "
    "metric alphabetically: act_*, avoidable_bias, bayes_error and cost precede dev_accuracy, "
    "and renaming them all was not done"))
def test_the_compare_pages_other_plots_open_on_dev_accuracy(ui):
    chosen = compared(ui)
    assert chosen["scatter-plot"]["control"] == "dev_accuracy", chosen
    assert chosen["scatter-plot"]["axes"][-1] == "dev_accuracy"  # the y axis
    assert chosen["contour-plot"]["control"] == "dev_accuracy", chosen
