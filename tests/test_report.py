"""The sweep report, built from a real MLflow store of real (tiny) gated runs."""

import base64
import importlib.util
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from omegaconf import OmegaConf
from PIL import Image

from initreg import job, job_names, report, runs, summary, tracking
from initreg.metrics import mcnemar_min_difference, wilson_interval
from initreg.pages import md_escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "pipelines"))
sys.path.insert(0, str(ROOT / "tests" / "helpers"))
from pipeline_utils import compose_cfg  # noqa: E402
from stores import new_store  # noqa: E402

FAST = ["train.num_iterations=300", "train.log_every=50", "data=circles"]
GRID = [("he", 0.0, 1.0), ("he", 0.7, 1.0), ("he", 0.0, 0.86), ("he", 0.7, 0.86),
        ("zeros", 0.0, 1.0)]


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REPORT_CLI = load_module("initreg_report_cli", ROOT / "pipelines" / "report.py")


def pipeline_run(client, exp, parent_id, overrides):
    """One job through initreg.job's own stages, as a child of ``parent_id``."""
    cfg = compose_cfg([*FAST, *overrides])
    ds = job.load_data(cfg)
    model = job.build_model(cfg)
    resolved = OmegaConf.to_container(cfg, resolve=True)
    run = tracking.Run.start(client, exp, job_names.run_title(cfg).split(": ", 1)[1],
                             parent_id=parent_id,
                             tags={"config_hash": tracking.config_hash(resolved)})
    run.log_params(tracking.params_of(resolved))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.yaml").write_text(OmegaConf.to_yaml(resolved))  # as run_job does
        job._gated_run(cfg, run, model, ds, Path(tmp))
    return run.run_id


def logged_run(client, exp, parent_id, name, params, metrics, tags, status="FINISHED"):
    """A run logged by hand through initreg.tracking (for exact ties and failures)."""
    run = tracking.Run.start(client, exp, name, parent_id=parent_id, tags=tags)
    run.log_params(params)
    run.add_metrics(metrics)
    run.end(status)
    return run.run_id


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    client = new_store(tmp / "mlflow.db")
    uri = client.tracking_uri
    exp = tracking.experiment_id(client, "circles", uri)
    parent = tracking.Run.start(client, exp, "sweep test", tags={
        "sweep": "true", "sweep_overrides": "init=zeros,he reg.lambd=0.0,0.7"})
    ids = {}
    for init, lambd, keep in GRID:
        ids[(init, lambd, keep)] = pipeline_run(
            client, exp, parent.run_id,
            [f"init={init}", f"reg.lambd={lambd}", f"reg.keep_prob={keep}"])
    ids["diverged"] = pipeline_run(client, exp, parent.run_id,
                                   ["init=random", "init.scale=1e200"])
    ids["gated"] = pipeline_run(client, exp, parent.run_id,
                                ["model._target_=planted.DoubledW1Net", "reg.lambd=0.1"])
    # a narrow deep net with dropout: its gate is inconclusive (a ReLU kink) and it trains
    ids["inconclusive"] = pipeline_run(client, exp, parent.run_id,
                                       ["model.layer_dims=[2,3,3,3,1]", "reg.keep_prob=0.8"])
    # a crash, tagged as the pipeline tags one
    ids["failed"] = logged_run(
        client, exp, parent.run_id, "init=xavier lambd=0 keep_prob=0.7",
        {"init.name": "xavier", "reg.lambd": 0.0, "reg.keep_prob": 0.7}, {},
        {"failure_reason": "exception", "error_type": "MemoryError",
         "error_message": "out of memory in layer 2"}, status="FAILED")
    tracking.Run(client, parent.run_id).end("FINISHED")
    return client, uri, parent.run_id, ids, tmp


@pytest.fixture(scope="module")
def built(sweep):
    client, _, parent_id, _, tmp = sweep
    data = report.load_sweep(client, parent_id)
    html_path, md_path = report.write_report(client, data, tmp / "out")
    return data, html_path.read_text(), md_path.read_text()


def test_every_child_is_a_row_with_its_numbers(sweep, built):
    client, _, _, ids, _ = sweep
    data, html, md = built
    assert len(data.rows) == len(GRID) + 4
    by_id = {r.run_id: r for r in data.rows}
    for key in GRID:
        row = by_id[ids[key]]
        assert (row.init, row.lambd, row.keep_prob) == key
        assert row.status == "finished" and row.gate == "passed" and row.diagnosis
        m = client.get_run(ids[key]).data.metrics
        cells = md_cells(md, data, row)
        assert [cells[k] for k in ("init", "lambd", "keep_prob")] == [
            key[0], f"{key[1]:g}", f"{key[2]:g}"]
        assert [cells[k] for k in ("train acc", "avoidable bias", "variance")] == [
            f"{m[k]:.3f}" for k in ("train_accuracy", "avoidable_bias", "variance")]
        for split in ("dev", "test"):  # circles: 50 dev and 50 test examples
            lo, hi = wilson_interval(round(m[f"{split}_accuracy"] * 50), 50)
            assert cells[f"{split} acc (95% interval)"] == (
                f"{m[f'{split}_accuracy']:.3f} ({lo:.3f}–{hi:.3f})")
        mode = f" ({row.failure_mode})" if row.failure_mode else ""
        assert [cells[k] for k in ("diagnosis", "gate", "status")] == [
            md_escape(row.diagnosis + mode), "passed", "finished"]
    # the planted model, the huge random scale and the narrow net differ from the grid
    assert data.varying == ["init.scale", "model._target_", "model.layer_dims"]
    assert len(re.findall(r"<tr[ >]", html)) == len(data.rows) + 1  # + the header row


def md_cells(md, data, row) -> dict[str, str]:
    """The cells of ``row``'s line in the Markdown run table, by column name."""
    line = next(x for x in md.splitlines() if x.startswith(f"| {md_escape(row.name)} |"))
    return dict(zip(report.header(data), [c.strip() for c in line.strip("|").split("|")],
                    strict=True))


def test_failed_runs_are_listed_with_their_reasons(sweep, built):
    _, _, _, ids, _ = sweep
    data, html, md = built
    by_id = {r.run_id: r for r in data.rows}
    assert by_id[ids["gated"]].status == "gated"
    assert re.match(r"gradient check failed \(mismatch: the analytic and numeric gradients "
                    r"disagree\): difference \S+ > threshold 2e-07; never trained",
                    by_id[ids["gated"]].reason)
    assert md_cells(md, data, by_id[ids["gated"]])["gate"] == "failed (mismatch)"
    assert by_id[ids["diverged"]].status == "diverged"
    assert "diverged at iteration 0" in by_id[ids["diverged"]].reason
    assert by_id[ids["failed"]].reason == "MemoryError: out of memory in layer 2"
    section = md.split("## Gated, diverged and failed runs")[1].split("##")[0]
    assert len([x for x in section.splitlines() if x.startswith("- **")]) == 3
    for key in ("gated", "diverged", "failed"):
        row = by_id[ids[key]]
        assert f"- **{row.status}** {md_escape(row.name)}: {md_escape(row.reason)}" in section
        assert f"{row.status}</b> {row.name}: " in html


def md_section(md: str, title: str) -> str:
    """The Markdown of the ``## title`` section, up to the next ``## ``."""
    return md.split(f"\n## {title}\n")[1].split("\n## ")[0]


def test_an_inconclusive_gate_is_listed_as_such_apart_from_the_gated_runs(sweep, built):
    client, _, parent_id, ids, _ = sweep
    data, html, md = built
    row = next(r for r in data.rows if r.run_id == ids["inconclusive"])
    assert (row.status, row.gate, row.gate_reason) == ("finished", "inconclusive", "kink")
    assert md_cells(md, data, row)["gate"] == "inconclusive (kink)"
    unsure = md_section(md, "Trained after an inconclusive gradient check")
    assert (f"- **inconclusive (kink)** {md_escape(row.name)}: gradient check inconclusive "
            "(kink: the finite differences crossed a ReLU kink, where no gradient exists); "
            "trained all the same (difference ") in unsure
    assert unsure.count("- **") == 1
    assert md_escape(row.name) not in md_section(md, "Gated, diverged and failed runs")
    assert "<h2>Trained after an inconclusive gradient check</h2>" in html
    # the end-of-sweep summary: in the table with its gate, and listed with its reason
    lines = summary.summary_lines(runs.sweep_children(client, parent_id), best=20)
    table = next(x for x in lines if x.startswith(f"{row.name[:40]:<40} "))
    assert "inconclusive (kink)" in table
    assert any(x.strip() == f"inconclusive: {row.name}  gradient check inconclusive (kink); "
               "trained all the same" for x in lines)
    gated = next(r for r in data.rows if r.run_id == ids["gated"])
    assert any(x.strip() == f"gated: {gated.name}  gradient check failed (mismatch); never "
               "trained" for x in lines)


def test_runs_that_failed_to_learn_are_grouped_by_mode_and_left_out_of_the_scatter(sweep,
                                                                                   built):
    client, _, parent_id, ids, _ = sweep
    data, html, md = built
    zeros = next(r for r in data.rows if r.run_id == ids[("zeros", 0.0, 1.0)])
    assert (zeros.diagnosis, zeros.failure_mode) == ("failed_to_learn", "symmetry_not_broken")
    assert zeros.evidence.startswith("Every training prediction is class")
    failed = {}
    for r in runs.sweep_children(client, parent_id):
        if r.data.tags.get("diagnosis") == "failed_to_learn":
            failed.setdefault(r.data.tags["failure_mode"], []).append(r)
    section = md_section(md, "Runs that failed to learn")
    for mode, found in failed.items():
        n = len(found)
        head = f"### {mode.replace('_', ' ')}: {n} run{'s' if n > 1 else ''}"
        group = section.split(head + "\n")[1].split("\n### ")[0]
        for r in found:
            assert (f"- {md_escape(r.info.run_name)}: "
                    f"{md_escape(r.data.tags['diagnosis_evidence'])}") in group
    assert section.count("\n- ") == sum(map(len, failed.values()))
    assert "<h3>symmetry not broken: " in html
    # the bias/variance figure: every finished run that learned, and none that did not
    drawn = {label for label, _, _ in report.scatter_points(data.rows)}
    assert drawn == {r.label for r in data.rows
                     if r.status == "finished" and r.diagnosis != "failed_to_learn"}
    assert zeros.label not in drawn
    lines = summary.summary_lines(runs.sweep_children(client, parent_id))
    n = len(failed["symmetry_not_broken"])
    line = next(x.strip() for x in lines if "symmetry_not_broken" in x)
    assert line.startswith(f"failed_to_learn: {n} run(s), symmetry_not_broken: ")
    assert zeros.name in line


def test_the_headline_gives_intervals_and_names_the_runs_dev_cannot_tell_apart(sweep, built):
    data, html, md = built
    chosen = report.select(data)
    n = 50  # circles' dev and test sets
    acc = chosen.metric("test_accuracy")
    lo, hi = wilson_interval(round(acc * n), n)
    title = md.split("\n## Selected: ")[1].splitlines()[0]
    assert title.endswith(f"test accuracy {acc:.3f} (95% interval {lo:.3f}–{hi:.3f}, 50 "
                          "test examples)")
    paragraph = next(x for x in md.splitlines() if x.startswith("On dev (50 examples) "))
    best = round(chosen.metric("dev_accuracy") * n)
    others = [r for r in data.rows if r.status == "finished" and r.run_id != chosen.run_id]
    assert len(others) >= 4
    for r in others:
        correct = round(r.metric("dev_accuracy") * n)
        behind = best - correct
        (a, b), (c, d) = wilson_interval(best, n), wilson_interval(correct, n)
        named = behind < mcnemar_min_difference() or (a <= d and c <= b)
        said = (f"{md_escape(r.name)} (as many correct)" if behind == 0 else
                f"{md_escape(r.name)} ({behind} example{'s' if behind > 1 else ''} fewer)")
        assert (said in paragraph) == named, (r.name, behind, paragraph)
    assert f"of the {len(others)} other finished run(s)" in paragraph
    assert "No 95% intervals" not in md


def test_without_example_counts_no_interval_is_shown_and_the_report_says_why(tmp_path):
    client, _, exp, parent_id = new_sweep(tmp_path)
    logged_run(client, exp, parent_id, "older run", {"init.name": "he", "reg.lambd": 0.0,
                                                      "reg.keep_prob": 1.0},  # before the sizes
               {"train_accuracy": 0.7, "dev_accuracy": 0.68, "test_accuracy": 0.6}, {})
    logged_run(client, exp, parent_id, "by hand", {"init.name": "xavier", "reg.lambd": 0.0,
                                                   "reg.keep_prob": 1.0},
               {"train_accuracy": 0.5, "dev_accuracy": 0.5, "test_accuracy": 0.5}, {})
    data = report.load_sweep(client, parent_id)
    _, md_path = report.write_report(client, data, tmp_path / "out", log_to_parent=False)
    md = md_path.read_text()
    chosen = report.select(data)
    assert md_cells(md, data, chosen)["dev acc (95% interval)"] == (
        f"{chosen.metric('dev_accuracy'):.3f}")
    assert ("No 95% intervals for runs that do not log dev\\_examples and test\\_examples, "
            "the number of examples each accuracy was measured on.") in md
    assert "How far apart the runs are on dev is not computed" in md
    assert "95% interval " not in md.split("\n## Selected: ")[1].splitlines()[0]
    lines = summary.summary_lines(runs.sweep_children(client, parent_id))
    assert any(x.startswith("No 95% intervals for runs that do not log dev_examples")
               for x in lines)


def test_the_selection_uses_dev_accuracy_only_and_the_headline_is_its_test_accuracy(sweep,
                                                                                     built):
    data, html, md = built
    chosen = report.select(data)
    done = [r for r in data.rows if r.status == "finished"]
    best_dev = max(r.metric("dev_accuracy") for r in done)
    assert chosen.metric("dev_accuracy") == best_dev
    tied = [r for r in done if r.metric("dev_accuracy") == best_dev]
    assert chosen.metric("variance") == min(r.metric("variance") for r in tied)
    headline = (f"Selected: init={chosen.init}, lambd={chosen.lambd:g}, "
                f"keep_prob={chosen.keep_prob:g}: test accuracy "
                f"{chosen.metric('test_accuracy'):.3f}")
    assert f"## {md_escape(headline)}" in md and headline in html
    assert report.NO_TEST_SENTENCE in md and report.NO_TEST_SENTENCE in html
    assert "test data played no part in the choice" in report.NO_TEST_SENTENCE.lower()
    assert f'<tr class="selected" title="{chosen.run_id}">' in html


def test_ties_go_to_the_smaller_variance_and_test_accuracy_is_never_used(tmp_path):
    client = new_store(tmp_path / "mlflow.db")
    uri = client.tracking_uri
    exp = tracking.experiment_id(client, "football", uri)
    parent = tracking.Run.start(client, exp, "sweep ties", tags={"sweep": "true"})

    def run(name, train, dev, test):
        return logged_run(client, exp, parent.run_id, name,
                          {"init.name": "he", "reg.lambd": 0.0, "reg.keep_prob": 1.0},
                          {"train_accuracy": train, "dev_accuracy": dev, "test_accuracy": test,
                           "variance": train - dev}, {"gradcheck": "passed"})

    run("a high variance", 0.99, 0.93, 0.93)
    low = run("b low variance", 0.95, 0.93, 0.90)
    run("c best on test", 0.94, 0.92, 0.99)  # the best test accuracy must not matter
    data = report.load_sweep(client, parent.run_id)
    assert report.select(data).run_id == low
    assert [r.name for r in data.rows] == ["b low variance", "a high variance", "c best on test"]


def test_figures_are_embedded_as_png_data_uris(built):
    _, html, md = built
    uris = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(uris) == 3
    for payload in uris:
        assert base64.b64decode(payload)[:8] == b"\x89PNG\r\n\x1a\n"
    # nothing to fetch: no resource from elsewhere (the only URLs are links to the MLflow UI)
    assert not re.search(r'(src|srcset|data)="https?://|url\(|<link|<script', html)
    assert all(url.startswith("http://127.0.0.1:5000/#/experiments/")
               for url in re.findall(r'href="(https?://[^"]*)"', html))
    for name in report.FIGURES:
        assert f"]({name})" in md


def test_the_report_is_logged_to_the_parent_run(sweep, built):
    client, _, parent_id, _, _ = sweep
    logged = {Path(a.path).name for a in client.list_artifacts(parent_id, "report")}
    assert {"report.html", "report.md", *report.FIGURES} <= logged


def test_the_command_writes_reports_under_the_sweep_id(sweep, tmp_path, capsys):
    _, uri, parent_id, _, _ = sweep
    assert REPORT_CLI.main(["--uri", uri, "--out", str(tmp_path)]) == 0  # the latest sweep
    out = capsys.readouterr().out
    assert (tmp_path / parent_id / "report.html").exists()
    assert (tmp_path / parent_id / "report.md").exists()
    assert "Selected: init=" in out and "On dev (50 examples) the selected run " in out
    assert REPORT_CLI.main(["--uri", uri, "--out", str(tmp_path), "--sweep", parent_id]) == 0


def test_latest_sweep_is_the_most_recent_parent(tmp_path):
    client = new_store(tmp_path / "mlflow.db")
    uri = client.tracking_uri
    with pytest.raises(report.ReportError, match="no sweep in the store"):
        report.latest_sweep(client)
    exp_a = tracking.experiment_id(client, "a", uri)
    exp_b = tracking.experiment_id(client, "b", uri)
    tracking.Run.start(client, exp_a, "old", tags={"sweep": "true"})
    new = tracking.Run.start(client, exp_b, "new", tags={"sweep": "true"})
    single = tracking.Run.start(client, exp_a, "single run")
    assert report.latest_sweep(client) == new.run_id
    with pytest.raises(report.ReportError, match="is not a sweep"):
        report.load_sweep(client, single.run_id)
    with pytest.raises(report.ReportError, match="no run 'nope'"):
        report.load_sweep(client, "nope")


def test_an_unknown_sweep_is_one_line_and_exit_2(sweep, tmp_path, capsys):
    uri = sweep[1]
    assert REPORT_CLI.main(["--uri", uri, "--out", str(tmp_path), "--sweep", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no run 'nope' in the store sqlite:///") and "\n" not in err


def test_rank_puts_unfinished_runs_last():
    rows = [report.Row("1", "x", "he", 0, 1, "gated", "failed", "", "why"),
            report.Row("2", "y", "he", 0, 1, "finished", "passed", "good_fit", "",
                       {"dev_accuracy": 0.5, "variance": 0.0})]
    assert report.best_row(rows).run_id == "2"
    assert report.best_row(rows[:1]) is None
    assert math.isnan(rows[0].metric("dev_accuracy"))


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify(imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight]));
  document.body.appendChild(out);
});
</script>"""


def chromium(args, tmp_path):
    return subprocess.run([CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           *args], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get "
                    "install chromium); the report page is not rendered in a browser")
def test_the_page_renders_in_chromium_with_every_image_loaded(built, sweep, tmp_path):
    _, _, _, _, tmp = sweep
    page = tmp / "out" / "report.html"
    # the same page with a probe that writes each image's load state into the DOM
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    proc = chromium(["--virtual-time-budget=5000", "--dump-dom", probed.as_uri()], tmp_path)
    found = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert found, proc.stderr[-2000:]
    images = json.loads(found.group(1))
    assert len(images) == len(report.FIGURES)
    for complete, width, height in images:
        assert complete and width > 300 and height > 200

    shot = tmp_path / "report.png"
    proc = chromium([f"--screenshot={shot}", "--window-size=1200,3000", page.as_uri()], tmp_path)
    assert shot.exists(), proc.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert pixels.shape[:2] == (3000, 1200)
    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 500, "a blank or near-blank screenshot"
    # the figures sit below the table: the lower half must not be empty either
    assert pixels[1500:].std() > 20


def new_sweep(tmp_path, experiment="circles"):
    client = new_store(tmp_path / "mlflow.db")
    uri = client.tracking_uri
    exp = tracking.experiment_id(client, experiment, uri)
    parent = tracking.Run.start(client, exp, "sweep", tags={"sweep": "true"})
    return client, uri, exp, parent.run_id


def test_two_scales_of_random_are_two_inits(tmp_path):
    client, _, exp, parent_id = new_sweep(tmp_path)
    for scale, dev in ((0.01, 0.5), (10.0, 0.8)):
        logged_run(client, exp, parent_id, f"random x{scale:g}",
                   {"init.name": "random", "init.scale": scale, "reg.lambd": 0.0,
                    "reg.keep_prob": 1.0},
                   {"train_accuracy": dev, "dev_accuracy": dev, "test_accuracy": dev,
                    "variance": 0.0, "train_error": 1 - dev, "dev_error": 1 - dev}, {})
    sweep = report.load_sweep(client, parent_id)
    panels, notes, shared = report.heatmap_panels(sweep.rows)
    assert panels == {"random x0.01": {(0.0, 1.0): 0.5}, "random x10": {(0.0, 1.0): 0.8}}
    assert not shared and not notes  # one run per cell: no mean over the two scales
    assert [r.init for r in sweep.rows] == ["random x10", "random x0.01"]
    assert report.headline(sweep)[0].startswith("Selected: init=random x10,")
    _, md_path = report.write_report(client, sweep, tmp_path / "out", log_to_parent=False)
    md = md_path.read_text()
    assert "| random x0.01 | 0 | 1 |" in md and "| random x10 | 0 | 1 |" in md


PAYLOAD = "<img src=x onerror=alert(1)>"


def test_text_from_the_runs_is_escaped_in_markdown_and_html(tmp_path):
    client, _, exp, parent_id = new_sweep(tmp_path)
    client.set_tag(parent_id, "sweep_overrides", f"data.name='{PAYLOAD}'")
    metrics = {"train_accuracy": 0.9, "dev_accuracy": 0.9, "test_accuracy": 0.9,
               "variance": 0.0}
    for i, name in enumerate((f"ok {PAYLOAD}", "plain")):
        logged_run(client, exp, parent_id, name,
                   {"init.name": "he", "reg.lambd": 0.0, "reg.keep_prob": 1.0,
                    "data.name": PAYLOAD if i == 0 else "circles", "x.my_key": i},
                   metrics, {"diagnosis": PAYLOAD})
    logged_run(client, exp, parent_id, f"failed [link](http://x) {PAYLOAD}",
               {"init.name": PAYLOAD, "reg.lambd": 0.0, "reg.keep_prob": 1.0}, {},
               {"failure_reason": "exception", "error_type": PAYLOAD,
                "error_message": f"{PAYLOAD}\n\n# a heading | a cell"}, status="FAILED")
    sweep = report.load_sweep(client, parent_id)
    html_path, md_path = report.write_report(client, sweep, tmp_path / "out",
                                             log_to_parent=False)
    md, html = md_path.read_text(), html_path.read_text()
    for text in (md, html):
        assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "[link](" not in md and r"\[link\](http://x)" in md
    assert "| x.my\\_key |" in md  # a varying param's key, as a column
    assert "\n# a heading" not in md and "\n\n# a heading" not in md
    table = [x for x in md.splitlines() if x.startswith("| ")]
    assert len({len(x.replace(r"\|", "").split("|")) for x in table}) == 1  # no cell break


@pytest.fixture(scope="module")
def depth_config():
    cfg = compose_cfg(["data=circles", "model=mlp", "model.depth=2", "model.width=4",
                       "train.num_iterations=10"])
    return OmegaConf.to_container(cfg, resolve=True)


def depth_runs(client, exp, parent_id, configs: dict, tmp_path, init="he"):
    """Gated depth-study runs (no step-0 metrics) with the given stored config.yaml each."""
    for (name, depth), config in configs.items():
        run = tracking.Run.start(client, exp, name, parent_id=parent_id,
                                 tags={"failure_reason": "gradcheck"})
        run.log_params({"init.name": init, "init.scale": 10.0, "reg.lambd": 0.0,
                        "reg.keep_prob": 1.0, "model.depth": depth, "model.width": 4})
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.yaml").write_text(yaml.safe_dump(config))
        run.log_artifacts(folder)
        run.end("FAILED")


def test_a_stored_config_never_runs_code(tmp_path, depth_config):
    from initreg import studies

    victim, fresh = tmp_path / "victim.txt", tmp_path / "created.txt"
    victim.write_text("precious")
    client, _, exp, parent_id = new_sweep(tmp_path, "depth_study")
    evil_loader = {**depth_config, "data": {**depth_config["data"], "loader": {
        "_target_": "builtins.open", "file": str(victim), "mode": "w"}}}
    evil_model = {**depth_config, "model": {"_target_": "builtins.open", "file": str(fresh),
                                            "mode": "w"}}
    nested = {**depth_config, "data": {**depth_config["data"], "loader": {
        "_target_": "initreg.data.load_circles",
        "split_seed": {"_target_": "builtins.open", "file": str(fresh), "mode": "w"}}}}
    depth_runs(client, exp, parent_id, {("good", 2): depth_config, ("loader", 3): evil_loader,
                                        ("model", 3): evil_model, ("nested", 3): nested},
               tmp_path)
    rows = studies.depth_rows(runs_of(client, parent_id), client)
    assert victim.read_text() == "precious" and not fresh.exists()
    by_depth = {(r.depth, r.source) for r in rows}
    assert by_depth == {(2, "recomputed"), (3, "not recomputed")}
    notes = sorted(r.note for r in rows if r.source == "not recomputed")
    assert notes[0].startswith("data.loader._target_='builtins.open' is not rebuilt")
    assert notes[1].startswith("data.loader.split_seed is a nested object")
    assert notes[2].startswith("model._target_='builtins.open' is not rebuilt")
    sentence = studies.not_recomputed_sentence(rows)
    assert sentence.startswith("The statistics at initialisation could not be recomputed for 3 "
                               "run(s) that never trained: he at depth 3 (run ")


def runs_of(client, parent_id):
    from initreg.runs import sweep_children

    return sweep_children(client, parent_id)


@pytest.mark.slow
def test_make_report_on_a_poisoned_depth_study_says_so_and_writes_nothing(tmp_path,
                                                                         depth_config):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    client, uri, exp, parent_id = new_sweep(tmp_path, "depth_study")
    evil = {**depth_config, "data": {**depth_config["data"], "loader": {
        "_target_": "builtins.open", "file": str(victim), "mode": "w"}}}
    depth_runs(client, exp, parent_id, {("good", 2): depth_config}, tmp_path)
    depth_runs(client, exp, parent_id, {("evil", 3): evil}, tmp_path, init=PAYLOAD)
    assert REPORT_CLI.main(["--uri", uri, "--out", str(tmp_path / "out")]) == 0
    assert victim.read_text() == "precious"
    md = (tmp_path / "out" / parent_id / "report.md").read_text()
    html = (tmp_path / "out" / parent_id / "report.html").read_text()
    assert ("could not be recomputed for 1 run(s) that never trained: &lt;img src=x "
            "onerror=alert(1)&gt; at depth 3") in md
    assert "data.loader.\\_target\\_='builtins.open' is not rebuilt" in md
    for text in (md, html):
        assert "<img src=x" not in text and "- &lt;img src=x onerror=alert(1)&gt;: " in md


def test_the_depth_study_claims_a_recovery_only_for_a_run_that_learned(tmp_path):
    from initreg import studies

    client, _, exp, parent_id = new_sweep(tmp_path, "depth_study")
    for init in ("zeros", "he"):
        for depth in (2, 5):
            pipeline_run(client, exp, parent_id, [f"init={init}", "model=mlp",
                                                  f"model.depth={depth}", "model.width=4"])
    kids = runs_of(client, parent_id)
    zeros = [r for r in kids if r.data.params["init.name"] == "zeros"]
    assert {r.data.tags["diagnosis"] for r in zeros} == {"failed_to_learn"}
    assert studies.dev_set(kids, client) == studies.DevSet(50, 0.5)  # rebuilt from config.yaml
    _, md = studies.depth_section(kids, client, folder=tmp_path / "out")
    assert "above 0.500 (the majority-class share of 50 dev examples)." in md
    line = next(x for x in md.splitlines() if x.startswith("- zeros: vanished"))
    assert "recovered" not in line
    assert "It did not recover: at depth 5 it failed to learn: symmetry not broken." in line


def test_the_learning_curve_states_the_uncertainty_of_its_dev_errors(tmp_path):
    from initreg import studies

    client, _, exp, parent_id = new_sweep(tmp_path, "learning_curve")
    for fraction in (0.2, 1.0):
        pipeline_run(client, exp, parent_id, [f"data.train_fraction={fraction}"])
    kids = runs_of(client, parent_id)
    assert studies.curve.dev_size(kids, client) == 50
    _, md = studies.curve_section(kids, client, folder=tmp_path / "out")
    line = next(x for x in md.splitlines() if x.startswith("- no regularization: "))
    assert "Each point is one run scored on 50 dev examples: the dev error is " in line
    assert "Each point is one run (one seed)." in md


def test_every_run_links_to_its_page_in_the_mlflow_ui(sweep, built, monkeypatch):
    client, _, _, _, _ = sweep
    data, html_text, _ = built
    for row in data.rows:
        url = f"http://127.0.0.1:5000/#/experiments/{data.experiment_id}/runs/{row.run_id}"
        assert f'<a href="{url}">' in html_text
    monkeypatch.setenv("MLFLOW_UI_URL", "http://ui.example:8080/")
    page = report.html_page(data, {})
    assert f'href="http://ui.example:8080/#/experiments/{data.experiment_id}/runs/' in page
