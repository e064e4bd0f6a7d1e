"""A sweep's comparison report, read from MLflow: every run, the figures, and the chosen config.

    sweep = load_sweep(client, sweep_id)          # the parent run and its children, as rows
    html, md = write_report(client, sweep, folder)

The configuration is selected by :func:`initreg.runs.best_run`'s ranking: dev accuracy alone
(ties: the smaller variance, then the name), so the test accuracy shown as the headline is an
estimate the choice never saw. Accuracies carry Wilson 95% intervals when the runs log
``dev_examples`` and ``test_examples`` (otherwise the page says none can be given), and the
headline names the runs the dev set cannot tell apart from the selected one
(:func:`initreg.runs.dev_separation`). Gate verdicts are shown with their reason: an
``inconclusive`` run trained and is listed apart from the gated ones; runs that
``failed_to_learn`` are grouped by failure mode and left out of the bias/variance figure. Runs
are told apart by their init label (``random x0.01`` and ``random x10`` are two inits). The
HTML page is self-contained (CSS inline, PNGs as base64 data URIs); the Markdown summary links
the same PNGs, which are written beside it. Every text a run brings (names, params, tags,
messages) is escaped in both (:mod:`initreg.pages`).
"""

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlflow.tracking import MlflowClient

from initreg import pages, plots, runs, tracking
from initreg.diagnosis import FAILURE_MODES, FAILURE_RECOMMENDATIONS
from initreg.runs import job_status

NO_TEST_SENTENCE = ("Test data played no part in the choice: the configuration was selected on "
                    "dev accuracy alone (ties broken by the smaller variance), and its test "
                    "accuracy is reported here once, as an estimate the selection never saw.")
SWEEP_AXES = ("init.name", "reg.lambd", "reg.keep_prob")
NOT_COMPARED = ("tracking.", "hydra.")  # params that vary between sweeps without meaning
FIGURES = {  # file name: caption
    "heatmaps.png": "Dev accuracy over lambd x keep_prob, one panel per init (one colour scale).",
    "bias_variance.png": "Train error against dev error; the shaded regions are the diagnosis "
                         "each run gets (avoidable bias or variance above the tolerance). Runs "
                         "that failed to learn are left out (listed above); runs on one spot "
                         "share one point, labelled with their number.",
    "cost_curves.png": "Cost curves of the best run (by dev accuracy) of each init.",
}


class ReportError(ValueError):
    """No sweep to report on, or a run id that is not a sweep."""


@dataclass(frozen=True)
class Row:
    """One child run of a sweep, flattened for the table."""

    run_id: str
    name: str
    init: str  # the init label: "he", "random x10"
    lambd: float
    keep_prob: float
    status: str  # finished, gated, diverged, failed, killed, running
    gate: str  # passed, failed, inconclusive, or "" when the gate never ran
    diagnosis: str
    reason: str  # why a run did not finish ("" for finished runs)
    metrics: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # other params that vary across the sweep
    gate_reason: str = ""  # why the gate did not pass: mismatch, kink, precision, nondeterministic
    failure_mode: str = ""  # why a failed_to_learn run never learned (diagnosis.FAILURE_MODES)
    evidence: str = ""  # the measurements behind failure_mode

    def metric(self, key: str) -> float:
        return float(self.metrics.get(key, math.nan))

    def accuracy(self, split: str) -> str:
        """The split's accuracy and its Wilson 95% interval (:func:`initreg.runs.accuracy_text`)."""
        return runs.accuracy_text(self.metric(f"{split}_accuracy"),
                                  runs.split_size(self.metrics, split))

    @property
    def failed_to_learn(self) -> bool:
        return self.status == "finished" and self.diagnosis == "failed_to_learn"

    @property
    def label(self) -> str:
        return f"{self.init} λ{self.lambd:g} k{self.keep_prob:g}"


@dataclass(frozen=True)
class Sweep:
    """A sweep's parent run and its children."""

    run_id: str
    experiment: str
    name: str
    tags: dict
    rows: list[Row]
    varying: list[str]  # param keys besides init/lambd/keep_prob that differ between children
    bayes_error: float
    tolerance: float


def latest_sweep(client: MlflowClient) -> str:
    """The id of the most recently started run tagged ``sweep=true`` in any experiment."""
    found = runs.latest_sweep(client)
    if found is None:
        raise ReportError(f"no sweep in the store {client.tracking_uri}: run `make sweep` first, "
                          "or set MLFLOW_TRACKING_URI")
    return found.info.run_id


def failure_reason(run) -> str:
    """One line saying why a run did not finish, from its tags and metrics."""
    tags, status = run.data.tags, job_status(run)
    if status == "finished":
        return ""
    if status == "gated":
        diff = run.data.metrics.get("gradcheck_difference", math.nan)
        limit = run.data.params.get("gradcheck.threshold", "?")
        reason = tags.get("gradcheck_reason", "")
        why = f" ({reason}: {runs.GATE_REASONS.get(reason, reason)})" if reason else ""
        return (f"gradient check failed{why}: difference {diff:.3g} > threshold {limit}; never "
                "trained")
    if status == "diverged":
        return tags.get("error_message", "diverged")
    if status == "killed":
        return "interrupted (" + tags.get("error_type", "killed") + ")"
    if status == "running":
        return "still RUNNING: in progress, or its process died without closing it"
    kind = tags.get("error_type") or tags.get("failure_reason") or "failed"
    return f"{kind}: {tags.get('error_message', 'no message recorded')}"


def _row(run, varying: Sequence[str]) -> Row:
    p, tags = run.data.params, run.data.tags
    return Row(run_id=run.info.run_id, name=runs.run_name(run), init=runs.run_init_label(run),
               lambd=float(p.get("reg.lambd", "nan")),
               keep_prob=float(p.get("reg.keep_prob", "nan")), status=job_status(run),
               gate=tags.get("gradcheck", ""), diagnosis=tags.get("diagnosis", ""),
               reason=failure_reason(run), metrics=dict(run.data.metrics),
               extra={k: p.get(k, "") for k in varying},
               gate_reason=tags.get("gradcheck_reason", ""),
               failure_mode=tags.get("failure_mode", ""),
               evidence=tags.get("diagnosis_evidence", ""))


def load_sweep(client: MlflowClient, sweep_id: str | None = None) -> Sweep:
    """The sweep ``sweep_id`` (default: the latest) with every child run as a Row."""
    sweep_id = sweep_id or latest_sweep(client)
    try:
        parent = client.get_run(sweep_id)
    except Exception as err:  # MlflowException (RESOURCE_DOES_NOT_EXIST) or a malformed id
        raise ReportError(f"no run {sweep_id!r} in the store {client.tracking_uri}") from err
    if parent.data.tags.get("sweep") != "true":
        raise ReportError(f"run {sweep_id!r} is not a sweep (no tag sweep=true); pass the id "
                          "of a sweep's parent run")
    exp = parent.info.experiment_id
    kids = tracking.children(client, exp, sweep_id)
    keys = {k for r in kids for k in r.data.params}
    varying = sorted(k for k in keys if k not in SWEEP_AXES and not k.startswith(NOT_COMPARED)
                     and len({r.data.params[k] for r in kids if k in r.data.params}) > 1)
    rows = [_row(r, varying) for r in kids]
    bayes = [r.metric("bayes_error") for r in rows if math.isfinite(r.metric("bayes_error"))]
    tolerances = {r.data.params.get("diagnosis.tolerance") for r in kids} - {None}
    return Sweep(run_id=sweep_id, experiment=client.get_experiment(exp).name,
                 name=parent.info.run_name or sweep_id, tags=dict(parent.data.tags),
                 rows=runs.ranked(rows, key=_rank), varying=varying,
                 bayes_error=max(bayes) if bayes else 0.0,
                 tolerance=float(min(tolerances)) if tolerances else 0.02)


def _rank(row: Row) -> tuple:
    """:func:`initreg.runs.rank_key` of a row: the ranking every report uses."""
    return runs.rank_key(row.status, row.metric("dev_accuracy"), row.metric("variance"), row.name)


def select(rows: Sequence[Row]) -> Row | None:
    """The best finished run by :func:`initreg.runs.best_run`'s ranking; test accuracy unused."""
    return runs.best_run(rows, key=_rank)


# --- figures ----------------------------------------------------------------------------------

def heatmap_panels(rows: Sequence[Row]) -> tuple[dict, dict, bool]:
    """``(panels, notes, shared)`` for the heatmaps: one panel per init label, its cells the mean
    dev accuracy per (lambd, keep_prob); notes name the status of runs that did not finish;
    shared: some cell holds more than one run."""
    panels, notes, shared = {}, {}, False
    for init in runs.init_order(r.init for r in rows):
        cells: dict[tuple[float, float], list[float]] = {}
        for r in rows:
            if r.init == init:
                cells.setdefault((r.lambd, r.keep_prob), []).append(r.metric("dev_accuracy"))
                if r.status != "finished":
                    notes.setdefault(init, {})[(r.lambd, r.keep_prob)] = r.status
        panels[init] = {k: _mean_finite(v) for k, v in cells.items()}
        shared = shared or any(len(v) > 1 for v in cells.values())
    return panels, notes, shared


def make_figures(client: MlflowClient, sweep: Sweep, folder: Path) -> dict[str, Path]:
    """The report's PNGs in ``folder``: heatmaps, bias/variance scatter, cost curves."""
    out: dict[str, Path] = {}
    rows, chosen = sweep.rows, select(sweep.rows)
    panels, notes, shared = heatmap_panels(rows)
    if panels:
        out["heatmaps.png"] = plots.accuracy_heatmaps(
            panels, folder / "heatmaps.png", notes=notes,
            highlight=(chosen.init, (chosen.lambd, chosen.keep_prob)) if chosen else None,
            title="dev accuracy" + (" (mean over runs per cell)" if shared else ""))
    done = [r for r in rows if r.status == "finished"
            and math.isfinite(r.metric("train_error")) and math.isfinite(r.metric("dev_error"))]
    points = scatter_points(rows)
    if points:
        out["bias_variance.png"] = plots.bias_variance_scatter(
            points, folder / "bias_variance.png", bayes_error=sweep.bayes_error,
            tolerance=sweep.tolerance, highlight=chosen.label if chosen else None,
            title="bias and variance of each run")
    curves = {}
    for init in runs.init_order(r.init for r in done):
        best = select([r for r in done if r.init == init])
        history = tracking.retry(client.get_metric_history, best.run_id, "cost")
        if history:
            history = sorted(history, key=lambda m: m.step)
            curves[f"{best.label} (dev {best.metric('dev_accuracy'):.3f})"] = (
                [m.step for m in history], [m.value for m in history])
    if curves:
        out["cost_curves.png"] = plots.cost_curves(curves, folder / "cost_curves.png",
                                                   title="best run of each init")
    return out


def scatter_points(rows: Sequence[Row]) -> list[tuple[str, float, float]]:
    """``(label, train_error, dev_error)`` of the runs the bias/variance figure shows: finished
    with both errors, and not ``failed_to_learn`` (their errors are those of answering one class
    everywhere, which no bias/variance reading applies to; the report lists them apart)."""
    return [(r.label, r.metric("train_error"), r.metric("dev_error")) for r in rows
            if r.status == "finished" and not r.failed_to_learn
            and math.isfinite(r.metric("train_error")) and math.isfinite(r.metric("dev_error"))]


def _mean_finite(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


# --- the two documents -----------------------------------------------------------------------

COLUMNS = ("run", "init", "lambd", "keep_prob", "train acc", "dev acc (95% interval)",
           "test acc (95% interval)", "avoidable bias", "variance", "diagnosis", "gate", "status")


def diagnosis_label(row: Row) -> str:
    """The diagnosis, with the failure mode of a run that failed to learn; ``—`` when none."""
    return (row.diagnosis + (f" ({row.failure_mode})" if row.failure_mode else "")) or "—"


def table_rows(sweep: Sweep) -> list[list[str]]:
    """The run table as strings, best first, with any extra varying params after ``run``."""
    return [[r.name, *[str(r.extra[k]) for k in sweep.varying], r.init, f"{r.lambd:g}",
             f"{r.keep_prob:g}", pages.num(r.metric("train_accuracy"), ".3f"), r.accuracy("dev"),
             r.accuracy("test"), *[pages.num(r.metric(k), ".3f") for k in (
                 "avoidable_bias", "variance")], diagnosis_label(r),
             runs.gate_label(r.gate, r.gate_reason), r.status]
            for r in sweep.rows]


def header(sweep: Sweep) -> list[str]:
    return [COLUMNS[0], *sweep.varying, *COLUMNS[1:]]


def counts(sweep: Sweep) -> str:
    tally: dict[str, int] = {}
    for r in sweep.rows:
        tally[r.status] = tally.get(r.status, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(tally.items()))


def _accuracy(row: Row, split: str) -> str:
    """``0.940 (95% interval 0.875–0.972, 99 test examples)``, or the accuracy alone."""
    acc, n = row.metric(f"{split}_accuracy"), runs.split_size(row.metrics, split)
    span = runs.interval(acc, n)
    return pages.num(acc, ".3f") + (f" (95% interval {span[0]:.3f}–{span[1]:.3f}, {n} {split} "
                                    "examples)" if span else "")


def headline(chosen: Row | None) -> tuple[str, str]:
    """(title, detail) of the selected configuration, its accuracies with their Wilson 95%
    intervals when the run logs how many examples they were measured on."""
    if chosen is None:
        return "No run finished: nothing to select.", ""
    title = (f"Selected: init={chosen.init}, lambd={chosen.lambd:g}, "
             f"keep_prob={chosen.keep_prob:g}: test accuracy {_accuracy(chosen, 'test')}")
    detail = (f"dev accuracy {_accuracy(chosen, 'dev')}, train accuracy "
              f"{chosen.metric('train_accuracy'):.3f}, variance {chosen.metric('variance'):.3f}, "
              f"diagnosis {diagnosis_label(chosen)} (run {chosen.name}, {chosen.run_id}).")
    return title, detail


def selection_notes(sweep: Sweep, chosen: Row | None) -> list[str]:
    """What the numbers allow to say about the selection: whether the selected run failed to
    learn, which runs the dev set cannot tell apart from it (:func:`initreg.runs.rivals`), and
    which intervals are missing."""
    if chosen is None:
        return []
    notes = []
    if chosen.failed_to_learn:
        notes.append(f"The selected run failed to learn ({chosen.failure_mode or 'no mode'}): "
                     "it predicts one class for every training example, and no run that "
                     "learned has a higher dev accuracy.")
    done = [r for r in sweep.rows if r.status == "finished" and r.run_id != chosen.run_id
            and math.isfinite(r.metric("dev_accuracy"))]
    notes.append(runs.dev_separation(chosen.metrics, [(r.name, r.metrics) for r in done]))
    missing = runs.missing_sizes([r.metrics for r in (chosen, *done)])
    if missing:
        notes.append(missing[0].upper() + missing[1:] + ".")
    return notes


def problems(sweep: Sweep) -> list[Row]:
    """Runs that were gated, diverged, failed, killed or left running."""
    return [r for r in sweep.rows if r.status != "finished"]


def inconclusive(sweep: Sweep) -> list[tuple[Row, str]]:
    """``(row, text)`` of the runs whose gradient check was inconclusive: they trained."""
    return [(r, f"{runs.gate_sentence(r.gate, r.gate_reason)} (difference "
                f"{pages.num(r.metric('gradcheck_difference'))}); {r.status}")
            for r in sweep.rows if r.gate == "inconclusive"]


def learning_failures(sweep: Sweep) -> dict[str, list[Row]]:
    """The runs that finished without learning, grouped by failure mode (in
    :data:`initreg.diagnosis.FAILURE_MODES` order)."""
    groups: dict[str, list[Row]] = {}
    for r in sweep.rows:
        if r.failed_to_learn:
            groups.setdefault(r.failure_mode or "unknown", []).append(r)
    order = {m: i for i, m in enumerate(FAILURE_MODES)}
    return dict(sorted(groups.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


NO_LEARNING = ("They predict one class for every training example, so the bias/variance "
               "diagnosis does not apply to them and the bias/variance figure leaves them out.")
SECTIONS = ("Gated, diverged and failed runs", "Trained after an inconclusive gradient check",
            "Runs that failed to learn")


def _mode_heading(mode: str, rows: Sequence[Row]) -> str:
    return f"{mode.replace('_', ' ')}: {len(rows)} run{'s' if len(rows) != 1 else ''}"


def _figures(figures: dict[str, Path]) -> dict[str, tuple[Path, str]]:
    return {name: (figures[name], caption) for name, caption in FIGURES.items()
            if name in figures}


def markdown(sweep: Sweep, figures: dict[str, Path]) -> str:
    """The Markdown summary, every text from the runs escaped; figures are linked by file name
    (they sit beside it)."""
    esc, code = pages.md_escape, pages.md_code
    chosen = select(sweep.rows)
    title, detail = headline(chosen)
    lines = [f"# Sweep report: {esc(sweep.name)}", "",
             f"Experiment {code(sweep.experiment)}, parent run {code(sweep.run_id)}; "
             f"overrides {code(sweep.tags.get('sweep_overrides', ''))}; runs: "
             f"{esc(counts(sweep))}.", "", f"## {esc(title)}", ""]
    if detail:
        lines += [esc(detail), "", *[x for n in selection_notes(sweep, chosen)
                                     for x in (esc(n), "")], esc(NO_TEST_SENTENCE), ""]
    lines += ["## Runs (best dev accuracy first)", "",
              pages.md_table(header(sweep), table_rows(sweep))]
    lines += ["", f"## {SECTIONS[0]}", ""]
    lines += [f"- **{esc(r.status)}** {esc(r.name)}: {esc(r.reason)}" for r in problems(sweep)
              ] or ["None: every run trained."]
    lines += ["", f"## {SECTIONS[1]}", ""]
    lines += [f"- **{esc(runs.gate_label(r.gate, r.gate_reason))}** {esc(r.name)}: {esc(text)}"
              for r, text in inconclusive(sweep)] or ["None."]
    lines += ["", f"## {SECTIONS[2]}", ""]
    groups = learning_failures(sweep)
    if groups:
        lines += [NO_LEARNING, ""]
        for mode, rows in groups.items():
            lines += [f"### {esc(_mode_heading(mode, rows))}", "",
                      esc(FAILURE_RECOMMENDATIONS.get(mode, "")), "",
                      *[f"- {esc(r.name)}: {esc(r.evidence or 'no evidence recorded')}"
                        for r in rows], ""]
    else:
        lines += ["None: every run that finished learned something.", ""]
    lines += ["## Figures", "", pages.figures(_figures(figures))[1], ""]
    return "\n".join(lines)


def _td_class(i: int, n: int, left: set[int], status: str) -> str:
    """CSS classes of cell ``i`` of ``n``: name, left-aligned text, diagnosis, status colour."""
    if i == 0:
        return "l name"
    if i == n - 3:
        return "diag"
    if i == n - 1:
        return f"s-{status}"
    return "l" if i in left else ""


def _html_failed_to_learn(sweep: Sweep) -> str:
    e = html.escape
    groups = learning_failures(sweep)
    if not groups:
        return "<p>None: every run that finished learned something.</p>"
    parts = [f"<p>{e(NO_LEARNING)}</p>"]
    for mode, rows in groups.items():
        items = "".join(f"<li>{e(r.name)}: {e(r.evidence or 'no evidence recorded')}</li>"
                        for r in rows)
        parts.append(f"<h3>{e(_mode_heading(mode, rows))}</h3>"
                     f"<p>{e(FAILURE_RECOMMENDATIONS.get(mode, ''))}</p>"
                     f'<ul class="problems">{items}</ul>')
    return "".join(parts)


def html_body(sweep: Sweep, figures: dict[str, Path]) -> str:
    """The page's body: headline, run table (the selected run marked), failures, figures."""
    e = html.escape
    chosen = select(sweep.rows)
    title, detail = headline(chosen)
    head, n = header(sweep), len(header(sweep))
    left = {0, *range(1, 1 + len(sweep.varying)), 1 + len(sweep.varying)}  # name, extras, init
    cells = [[*row[:n - 3], row[n - 3].replace("_", " "), *row[n - 2:]]  # the diagnosis
             for row in table_rows(sweep)]
    table = pages.html_table(
        head, cells, head_class=["l" if i in left or i == n - 3 else "" for i in range(n)],
        cell_class=lambda r, i: _td_class(i, n, left, sweep.rows[r].status),
        row_attrs=[{"class": "selected" if chosen is not None and r.run_id == chosen.run_id
                    else "", "title": r.run_id} for r in sweep.rows])
    items = "".join(f'<li><b class="s-{e(r.status)}">{e(r.status)}</b> {e(r.name)}: '
                    f"{e(r.reason)}</li>" for r in problems(sweep)
                    ) or "<li>None: every run trained.</li>"
    unsure = "".join(f"<li><b>{e(runs.gate_label(r.gate, r.gate_reason))}</b> {e(r.name)}: "
                     f"{e(text)}</li>" for r, text in inconclusive(sweep)) or "<li>None.</li>"
    notes = "".join(f"<p>{e(x)}</p>" for x in selection_notes(sweep, chosen))
    detail_html = (f"<p>{e(detail)}</p>{notes}<p class=\"note\">{e(NO_TEST_SENTENCE)}</p>"
                   if detail else "")
    return f"""<p class="meta">Experiment <code>{e(sweep.experiment)}</code>, parent run
<code>{e(sweep.run_id)}</code>; overrides <code>{e(sweep.tags.get('sweep_overrides', ''))}</code>;
runs: {e(counts(sweep))}; Bayes error {sweep.bayes_error:.3f}, tolerance {sweep.tolerance:g}.</p>
<section class="headline"><div class="big">{e(title)}</div>{detail_html}</section>
<h2>Runs (best dev accuracy first)</h2>
{table}
<h2>{SECTIONS[0]}</h2>
<ul class="problems">{items}</ul>
<h2>{SECTIONS[1]}</h2>
<ul class="problems">{unsure}</ul>
<h2>{SECTIONS[2]}</h2>
{_html_failed_to_learn(sweep)}
<h2>Figures</h2>
{pages.figures(_figures(figures))[0]}"""


def html_page(sweep: Sweep, figures: dict[str, Path], sections: Sequence[str] = ()) -> str:
    """The self-contained HTML page (no network needed: CSS inline, PNGs as data URIs), with
    the HTML of any study ``sections`` at its end."""
    return pages.page(f"Sweep report: {sweep.name}",
                      html_body(sweep, figures) + "\n" + "".join(sections))


def study_sections(client: MlflowClient, sweep: Sweep, folder: Path) -> list[pages.Section]:
    """Extra sections: a depth study's physics, a fraud sweep's metrics."""
    from initreg import studies

    kids = runs.sweep_children(client, sweep.run_id)
    params = [r.data.params for r in kids]
    sections = []
    if len({p.get("model.depth") for p in params} - {None, "None"}) > 1:
        sections.append(studies.depth_section(kids, client, folder=folder))
    if any(p.get("data.name") == "fraud" for p in params):
        sections.append(studies.fraud_section(kids, client, "fraud", folder=folder))
    return sections


def write_report(client: MlflowClient, sweep: Sweep, folder: Path,
                 log_to_parent: bool = True) -> tuple[Path, Path]:
    """Write ``report.html``, ``report.md`` and the PNGs to ``folder``; log them to the parent."""
    folder.mkdir(parents=True, exist_ok=True)
    figures = make_figures(client, sweep, folder)
    extra = study_sections(client, sweep, folder)
    html_path, md_path = folder / "report.html", folder / "report.md"
    html_path.write_text(html_page(sweep, figures, [s.html for s in extra]), encoding="utf-8")
    md_path.write_text("\n\n".join([markdown(sweep, figures), *(s.markdown for s in extra)]),
                       encoding="utf-8")
    if log_to_parent:
        for path in (html_path, md_path, *figures.values()):
            tracking.retry(client.log_artifact, sweep.run_id, str(path), "report")
    return html_path, md_path
