"""A sweep's comparison report, read from MLflow: every run, the figures, and the chosen config.

    sweep = load_sweep(client, sweep_id)          # the parent run and its children, as rows
    html, md = write_report(client, sweep, folder)

The configuration is selected on dev accuracy alone (ties: the smaller variance, then the name),
so the test accuracy shown as the headline is an estimate the choice never saw. The HTML page is
self-contained (CSS inline, PNGs as base64 data URIs); the Markdown summary links the same PNGs,
which are written beside it.
"""

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlflow.tracking import MlflowClient

from initreg import plots, tracking
from initreg.summary import job_status

NO_TEST_SENTENCE = ("Test data played no part in the choice: the configuration was selected on "
                    "dev accuracy alone (ties broken by the smaller variance), and its test "
                    "accuracy is reported here once, as an estimate the selection never saw.")
SWEEP_AXES = ("init.name", "reg.lambd", "reg.keep_prob")
NOT_COMPARED = ("tracking.", "hydra.")  # params that vary between sweeps without meaning
FIGURES = {  # file name: caption
    "heatmaps.png": "Dev accuracy over lambd x keep_prob, one panel per init (one colour scale).",
    "bias_variance.png": "Train error against dev error; the shaded regions are the diagnosis "
                         "each run gets (avoidable bias or variance above the tolerance).",
    "cost_curves.png": "Cost curves of the best run (by dev accuracy) of each init.",
}


class ReportError(ValueError):
    """No sweep to report on, or a run id that is not a sweep."""


@dataclass(frozen=True)
class Row:
    """One child run of a sweep, flattened for the table."""

    run_id: str
    name: str
    init: str
    lambd: float
    keep_prob: float
    status: str  # finished, gated, diverged, failed, killed, running
    gate: str  # passed, failed, or "" when the gate never ran
    diagnosis: str
    reason: str  # why a run did not finish ("" for finished runs)
    metrics: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # other params that vary across the sweep

    def metric(self, key: str) -> float:
        return float(self.metrics.get(key, math.nan))

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
    exps = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(exps, filter_string="tags.sweep = 'true'",
                              order_by=["attributes.start_time DESC"],
                              max_results=1) if exps else []
    if not runs:
        raise ReportError(f"no sweep in the store {client.tracking_uri}: run `make sweep` first, "
                          "or set MLFLOW_TRACKING_URI")
    return runs[0].info.run_id


def failure_reason(run) -> str:
    """One line saying why a run did not finish, from its tags and metrics."""
    tags, status = run.data.tags, job_status(run)
    if status == "finished":
        return ""
    if status == "gated":
        diff = run.data.metrics.get("gradcheck_difference", math.nan)
        limit = run.data.params.get("gradcheck.threshold", "?")
        return f"gradient check failed: difference {diff:.3g} > threshold {limit}; never trained"
    if status == "diverged":
        return tags.get("error_message", "diverged")
    if status == "killed":
        return "interrupted (" + tags.get("error_type", "killed") + ")"
    if status == "running":
        return "still RUNNING: in progress, or its process died without closing it"
    kind = tags.get("error_type") or tags.get("failure_reason") or "failed"
    return f"{kind}: {tags.get('error_message', 'no message recorded')}"


def _row(run, varying: Sequence[str]) -> Row:
    p = run.data.params
    return Row(run_id=run.info.run_id, name=run.info.run_name or run.info.run_id,
               init=p.get("init.name", "?"), lambd=float(p.get("reg.lambd", "nan")),
               keep_prob=float(p.get("reg.keep_prob", "nan")), status=job_status(run),
               gate=run.data.tags.get("gradcheck", ""), diagnosis=run.data.tags.get("diagnosis",
                                                                                    ""),
               reason=failure_reason(run), metrics=dict(run.data.metrics),
               extra={k: p.get(k, "") for k in varying})


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
    runs = tracking.children(client, exp, sweep_id)
    keys = {k for r in runs for k in r.data.params}
    varying = sorted(k for k in keys if k not in SWEEP_AXES and not k.startswith(NOT_COMPARED)
                     and len({r.data.params[k] for r in runs if k in r.data.params}) > 1)
    rows = [_row(r, varying) for r in runs]
    bayes = [r.metric("bayes_error") for r in rows if math.isfinite(r.metric("bayes_error"))]
    tolerances = {r.data.params.get("diagnosis.tolerance") for r in runs} - {None}
    return Sweep(run_id=sweep_id, experiment=client.get_experiment(exp).name,
                 name=parent.info.run_name or sweep_id, tags=dict(parent.data.tags),
                 rows=sorted(rows, key=_rank), varying=varying,
                 bayes_error=max(bayes) if bayes else 0.0,
                 tolerance=float(min(tolerances)) if tolerances else 0.02)


def _rank(row: Row) -> tuple:
    """Best first: finished runs by dev accuracy, ties by smaller variance; then the others."""
    dev, var = row.metric("dev_accuracy"), row.metric("variance")
    ok = row.status == "finished" and math.isfinite(dev)
    return (0 if ok else 1, -dev if ok else 0.0, var if math.isfinite(var) else math.inf,
            row.name)


def select(rows: Sequence[Row]) -> Row | None:
    """The finished run with the highest dev accuracy (ties: smaller variance); test unused."""
    done = [r for r in rows if r.status == "finished" and math.isfinite(r.metric("dev_accuracy"))]
    return min(done, key=_rank) if done else None


# --- figures ----------------------------------------------------------------------------------

def _inits(rows: Sequence[Row]) -> list[str]:
    order = ["zeros", "random", "he", "lecun", "xavier"]
    found = {r.init for r in rows}
    return [i for i in order if i in found] + sorted(found - set(order))


def make_figures(client: MlflowClient, sweep: Sweep, folder: Path) -> dict[str, Path]:
    """The report's PNGs in ``folder``: heatmaps, bias/variance scatter, cost curves."""
    out: dict[str, Path] = {}
    rows, chosen = sweep.rows, select(sweep.rows)
    panels, notes, shared = {}, {}, False
    for init in _inits(rows):
        cells: dict[tuple[float, float], list[float]] = {}
        for r in rows:
            if r.init == init:
                cells.setdefault((r.lambd, r.keep_prob), []).append(r.metric("dev_accuracy"))
                if r.status != "finished":
                    notes.setdefault(init, {})[(r.lambd, r.keep_prob)] = r.status
        panels[init] = {k: _mean_finite(v) for k, v in cells.items()}
        shared = shared or any(len(v) > 1 for v in cells.values())
    if panels:
        out["heatmaps.png"] = plots.accuracy_heatmaps(
            panels, folder / "heatmaps.png", notes=notes,
            highlight=(chosen.init, (chosen.lambd, chosen.keep_prob)) if chosen else None,
            title="dev accuracy" + (" (mean over runs per cell)" if shared else ""))
    done = [r for r in rows if r.status == "finished"
            and math.isfinite(r.metric("train_error")) and math.isfinite(r.metric("dev_error"))]
    if done:
        out["bias_variance.png"] = plots.bias_variance_scatter(
            [(r.label, r.metric("train_error"), r.metric("dev_error")) for r in done],
            folder / "bias_variance.png", bayes_error=sweep.bayes_error,
            tolerance=sweep.tolerance, highlight=chosen.label if chosen else None,
            title="bias and variance of each run")
    curves = {}
    for init in _inits(done):
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


def _mean_finite(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


# --- the two documents -----------------------------------------------------------------------

COLUMNS = ("run", "init", "lambd", "keep_prob", "train acc", "dev acc", "test acc",
           "avoidable bias", "variance", "diagnosis", "gate", "status")


def _fmt(x: float) -> str:
    return f"{x:.3f}" if math.isfinite(x) else "—"


def table_rows(sweep: Sweep) -> list[list[str]]:
    """The run table as strings, best first, with any extra varying params after ``run``."""
    return [[r.name, *[str(r.extra[k]) for k in sweep.varying], r.init, f"{r.lambd:g}",
             f"{r.keep_prob:g}", *[_fmt(r.metric(k)) for k in (
                 "train_accuracy", "dev_accuracy", "test_accuracy", "avoidable_bias",
                 "variance")], r.diagnosis or "—", r.gate or "not run", r.status]
            for r in sweep.rows]


def header(sweep: Sweep) -> list[str]:
    return [COLUMNS[0], *sweep.varying, *COLUMNS[1:]]


def counts(sweep: Sweep) -> str:
    tally: dict[str, int] = {}
    for r in sweep.rows:
        tally[r.status] = tally.get(r.status, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(tally.items()))


def headline(chosen: Row | None) -> tuple[str, str]:
    """(title, detail) of the selected configuration."""
    if chosen is None:
        return "No run finished: nothing to select.", ""
    title = (f"Selected: init={chosen.init}, lambd={chosen.lambd:g}, "
             f"keep_prob={chosen.keep_prob:g}: test accuracy "
             f"{chosen.metric('test_accuracy'):.3f}")
    detail = (f"dev accuracy {chosen.metric('dev_accuracy'):.3f}, train accuracy "
              f"{chosen.metric('train_accuracy'):.3f}, variance {chosen.metric('variance'):.3f}, "
              f"diagnosis {chosen.diagnosis or '—'} (run {chosen.name}, {chosen.run_id}).")
    return title, detail


def problems(sweep: Sweep) -> list[Row]:
    """Runs that were gated, diverged, failed, killed or left running."""
    return [r for r in sweep.rows if r.status != "finished"]


def markdown(sweep: Sweep, figures: dict[str, Path]) -> str:
    """The Markdown summary; figures are linked by file name (they sit beside it)."""
    chosen = select(sweep.rows)
    title, detail = headline(chosen)
    lines = [f"# Sweep report: {sweep.name}", "",
             f"Experiment `{sweep.experiment}`, parent run `{sweep.run_id}`; "
             f"overrides `{sweep.tags.get('sweep_overrides', '')}`; runs: {counts(sweep)}.", "",
             f"## {title}", ""]
    if detail:
        lines += [detail, "", NO_TEST_SENTENCE, ""]
    lines += ["## Runs (best dev accuracy first)", "",
              "| " + " | ".join(header(sweep)) + " |", "|" + "---|" * len(header(sweep))]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(sweep)]
    bad = problems(sweep)
    lines += ["", "## Gated, diverged and failed runs", ""]
    lines += [f"- **{r.status}** {r.name}: {r.reason}" for r in bad] or ["None: every run trained."]
    lines += ["", "## Figures", ""]
    for name, caption in FIGURES.items():
        if name in figures:
            lines += [f"![{caption}]({name})", "", caption, ""]
    return "\n".join(lines)


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1d1f;
background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:32px 0 10px}
.meta{color:#555;font-size:.9em}
.headline{background:#fff;border-left:6px solid #2e7d32;padding:14px 18px;margin:20px 0;
box-shadow:0 1px 3px rgba(0,0,0,.08)}
.headline .big{font-size:1.35em;font-weight:600}.headline p{margin:6px 0}
.note{color:#2e7d32;font-style:italic}
table{border-collapse:collapse;background:#fff;font-size:.85em;width:100%;
box-shadow:0 1px 3px rgba(0,0,0,.08)}
.scroll{overflow-x:auto}
th,td{padding:5px 7px;border-bottom:1px solid #e3e3e3;text-align:right;white-space:nowrap}
th{background:#eef0f3;position:sticky;top:0}td.l,th.l{text-align:left}
td.name{white-space:normal;max-width:210px;font-size:.92em;color:#444}
td.diag{white-space:normal;text-align:left;min-width:90px}
tr.selected td{background:#e8f5e9;font-weight:600}
.s-finished{color:#2e7d32}.s-gated{color:#b26a00}.s-diverged{color:#c62828}
.s-failed,.s-killed,.s-running{color:#6a1b9a}
figure{background:#fff;margin:14px 0;padding:12px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{color:#555;font-size:.9em;margin-top:6px}
ul.problems li{margin:4px 0}
"""


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _td_class(i: int, n: int, left: set[int], status: str) -> str:
    """CSS classes of cell ``i`` of ``n``: name, left-aligned text, diagnosis, status colour."""
    if i == 0:
        return "l name"
    if i == n - 3:
        return "diag"
    if i == n - 1:
        return f"s-{status}"
    return "l" if i in left else ""


def html_page(sweep: Sweep, figures: dict[str, Path]) -> str:
    """The self-contained HTML page (no network needed: CSS inline, PNGs as data URIs)."""
    e = html.escape
    chosen = select(sweep.rows)
    title, detail = headline(chosen)
    head = header(sweep)
    left = {0, *range(1, 1 + len(sweep.varying)), 1 + len(sweep.varying)}  # name, extras, init
    th = "".join(f'<th class="{"l" if i in left or i == len(head) - 3 else ""}">{e(h)}</th>'
                 for i, h in enumerate(head))
    body = []
    for r, cells in zip(sweep.rows, table_rows(sweep), strict=True):
        cls = ' class="selected"' if chosen is not None and r.run_id == chosen.run_id else ""
        tds = "".join(f'<td class="{_td_class(i, len(cells), left, r.status)}">'
                      f"{e(c.replace('_', ' ') if i == len(cells) - 3 else c)}</td>"
                      for i, c in enumerate(cells))
        body.append(f"<tr{cls} title=\"{e(r.run_id)}\">{tds}</tr>")
    bad = problems(sweep)
    items = "".join(f'<li><b class="s-{r.status}">{e(r.status)}</b> {e(r.name)}: {e(r.reason)}'
                    f"</li>" for r in bad) or "<li>None: every run trained.</li>"
    figs = "".join(
        f'<figure><img alt="{e(caption)}" src="{_data_uri(figures[name])}">'
        f"<figcaption>{e(caption)}</figcaption></figure>"
        for name, caption in FIGURES.items() if name in figures)
    detail_html = (f"<p>{e(detail)}</p><p class=\"note\">{e(NO_TEST_SENTENCE)}</p>"
                   if detail else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sweep report: {e(sweep.name)}</title><style>{CSS}</style></head>
<body><main>
<h1>Sweep report: {e(sweep.name)}</h1>
<p class="meta">Experiment <code>{e(sweep.experiment)}</code>, parent run
<code>{e(sweep.run_id)}</code>; overrides <code>{e(sweep.tags.get('sweep_overrides', ''))}</code>;
runs: {e(counts(sweep))}; Bayes error {sweep.bayes_error:.3f}, tolerance {sweep.tolerance:g}.</p>
<section class="headline"><div class="big">{e(title)}</div>{detail_html}</section>
<h2>Runs (best dev accuracy first)</h2>
<div class="scroll"><table><thead><tr>{th}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table></div>
<h2>Gated, diverged and failed runs</h2>
<ul class="problems">{items}</ul>
<h2>Figures</h2>
{figs}
</main></body></html>
"""


def study_sections(client: MlflowClient, sweep: Sweep, folder: Path) -> list[tuple[str, str]]:
    """Extra ``(html, markdown)`` sections: a depth study's physics, a fraud sweep's metrics."""
    from initreg import studies

    exp = client.get_run(sweep.run_id).info.experiment_id
    runs = tracking.children(client, exp, sweep.run_id)
    params = [r.data.params for r in runs]
    sections = []
    if len({p.get("model.depth") for p in params} - {None, "None"}) > 1:
        sections.append(studies.depth_section(runs, client, folder=folder))
    if any(p.get("data.name") == "fraud" for p in params):
        sections.append(studies.fraud_section(runs, client, "fraud", folder=folder))
    return sections


def write_report(client: MlflowClient, sweep: Sweep, folder: Path,
                 log_to_parent: bool = True) -> tuple[Path, Path]:
    """Write ``report.html``, ``report.md`` and the PNGs to ``folder``; log them to the parent."""
    folder.mkdir(parents=True, exist_ok=True)
    figures = make_figures(client, sweep, folder)
    extra = study_sections(client, sweep, folder)
    html_path, md_path = folder / "report.html", folder / "report.md"
    page = html_page(sweep, figures).replace(
        "</main></body></html>", "".join(h for h, _ in extra) + "\n</main></body></html>")
    html_path.write_text(page, encoding="utf-8")
    md_path.write_text("\n\n".join([markdown(sweep, figures), *(m for _, m in extra)]),
                       encoding="utf-8")
    if log_to_parent:
        for path in (html_path, md_path, *figures.values()):
            tracking.retry(client.log_artifact, sweep.run_id, str(path), "report")
    return html_path, md_path
