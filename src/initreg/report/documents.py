"""The report's documents: the Markdown summary and the self-contained HTML page, with any
study sections, written by ``write_report``."""

import html
from collections.abc import Sequence
from pathlib import Path

from mlflow.tracking import MlflowClient

from initreg import pages, reuse, runs, search, seeds, studies, tracking
from initreg.diagnosis import FAILURE_RECOMMENDATIONS
from initreg.report.contents import (
    NO_LEARNING,
    NO_TEST_SENTENCE,
    SECTIONS,
    counts,
    extra_columns,
    header,
    headline,
    inconclusive,
    learning_failures,
    problems,
    reuse_notes,
    selection_notes,
    table_rows,
)
from initreg.report.figures import FIGURES, make_figures
from initreg.report.sweep import Row, Sweep, select


def _mode_heading(mode: str, rows: Sequence[Row]) -> str:
    return f"{mode.replace('_', ' ')}: {len(rows)} run{'s' if len(rows) != 1 else ''}"


def _figures(figures: dict[str, Path]) -> dict[str, tuple[Path, str]]:
    return {name: (figures[name], caption) for name, caption in FIGURES.items()
            if name in figures}


def markdown(sweep: Sweep, figures: dict[str, Path]) -> str:
    """The Markdown summary, every text from the runs escaped; figures are linked by file name
    (they sit beside it)."""
    esc, code = pages.md_escape, pages.md_code
    title, detail = headline(sweep)
    lines = [f"# Sweep report: {esc(sweep.name)}", "",
             f"Experiment {code(sweep.experiment)}, parent run {code(sweep.run_id)}; "
             f"overrides {code(sweep.tags.get('sweep_overrides', ''))}; runs: "
             f"{esc(counts(sweep))}.", "",
             *[x for n in reuse_notes(sweep) for x in (esc(n), "")], f"## {esc(title)}", ""]
    if detail:
        lines += [esc(detail), "", *[x for n in selection_notes(sweep)
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
    chosen = select(sweep)
    title, detail = headline(sweep)
    head, n = header(sweep), len(header(sweep))
    extras = len(extra_columns(sweep))
    left = {0, *range(1, 1 + extras), 1 + extras}  # name, extras, init
    cells = [[*row[:n - 3], row[n - 3].replace("_", " "), *row[n - 2:]]  # the diagnosis
             for row in table_rows(sweep)]
    table = pages.html_table(
        head, cells, head_class=["l" if i in left or i == n - 3 else "" for i in range(n)],
        cell_class=lambda r, i: _td_class(i, n, left, sweep.rows[r].status),
        row_attrs=[{"class": "selected" if chosen is not None and r.run_id == chosen.run_id
                    else "", "title": r.run_id} for r in sweep.rows],
        cell_href=lambda r, i: (tracking.ui_url(sweep.rows[r].run_id, sweep.experiment_id)
                                if i == 0 and sweep.experiment_id else None))
    items = "".join(f'<li><b class="s-{e(r.status)}">{e(r.status)}</b> {e(r.name)}: '
                    f"{e(r.reason)}</li>" for r in problems(sweep)
                    ) or "<li>None: every run trained.</li>"
    unsure = "".join(f"<li><b>{e(runs.gate_label(r.gate, r.gate_reason))}</b> {e(r.name)}: "
                     f"{e(text)}</li>" for r, text in inconclusive(sweep)) or "<li>None.</li>"
    notes = "".join(f"<p>{e(x)}</p>" for x in selection_notes(sweep))
    reused = "".join(f'<p class="note">{e(x)}</p>\n' for x in reuse_notes(sweep))
    detail_html = (f"<p>{e(detail)}</p>{notes}<p class=\"note\">{e(NO_TEST_SENTENCE)}</p>"
                   if detail else "")
    return f"""<p class="meta">Experiment <code>{e(sweep.experiment)}</code>, parent run
<code>{e(sweep.run_id)}</code>; overrides <code>{e(sweep.tags.get('sweep_overrides', ''))}</code>;
runs: {e(counts(sweep))}; Bayes error {sweep.bayes_error:.3f}, tolerance {sweep.tolerance:g};
each run's name links to its page in the MLflow UI (<code>make ui</code>, at
<code>{e(tracking.ui_base())}</code>: <code>MLFLOW_UI_URL</code> sets another).</p>
{reused}<section class="headline"><div class="big">{e(title)}</div>{detail_html}</section>
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
    """Extra sections: a depth study's physics, a fraud sweep's metrics, the seeds sections
    (a configuration run with several seeds) and an Optuna search's trials."""
    found = sweep.found or reuse.sweep_runs(client, sweep.run_id, sweep.experiment_id or None)
    kids = found.all  # with the runs a resumed sweep reused
    params = [r.data.params for r in kids]
    sections = []
    if len({p.get("model.depth") for p in params} - {None, "None"}) > 1:
        sections.append(studies.depth_section(kids, client, folder=folder))
    if any(p.get("data.name") == "fraud" for p in params):
        sections.append(studies.fraud_section(kids, client, "fraud", folder=folder))
    sections += seeds.sections(kids, folder, sweep.tags, len(found.reused))
    sections += search.sections(client, sweep.run_id, folder)
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
