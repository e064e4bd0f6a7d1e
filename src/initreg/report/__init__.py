"""A sweep's comparison report, read from MLflow: every run, the figures, and the chosen config.

    sweep = load_sweep(client, sweep_id)          # the parent run and its children, as rows
    html, md = write_report(client, sweep, folder)

The run is selected by :func:`initreg.seeds.selection`, the rule the sweep's parent run and the
registered model follow: :func:`initreg.runs.best_run`'s ranking, dev accuracy alone (ties: the
smaller variance, then the name); when the sweep ran configurations with several seeds, the
configuration with the best mean dev accuracy (:func:`initreg.aggregate.select`) and its best
seed. The test accuracy shown as the headline is an estimate the choice never saw. Accuracies
carry Wilson 95% intervals when the runs log ``dev_examples`` and ``test_examples`` (otherwise
the page says none can be given), and the headline names the runs the dev set cannot tell apart
from the selected one (:func:`initreg.runs.dev_separation`). Gate verdicts are shown with their
reason: an ``inconclusive`` run trained and is listed apart from the gated ones; runs that
``failed_to_learn`` are grouped by failure mode and left out of the bias/variance figure. Runs
are told apart by their init label (``random x0.01`` and ``random x10`` are two inits). The
HTML page is self-contained (CSS inline, PNGs as base64 data URIs); the Markdown summary links
the same PNGs, which are written beside it. Every text a run brings (names, params, tags,
messages) is escaped in both (:mod:`initreg.pages`).

Its parts: ``sweep`` (the data: ``Sweep``, ``Row``, ``load_sweep``, the selection), ``contents``
(what the report says: the run table, the headline, the notes on the selection, the lists of
runs apart), ``figures`` (the PNGs) and ``documents`` (the Markdown summary, the HTML page, the
study sections, ``write_report``). Everything public is importable from ``initreg.report``,
except the pieces only the documents assemble (the table's rows and columns, the lists of runs
apart): those are imported from ``initreg.report.contents``.
"""

from initreg.report.contents import NO_TEST_SENTENCE, counts, header, headline, selection_notes
from initreg.report.documents import html_body, html_page, markdown, study_sections, write_report
from initreg.report.figures import FIGURES, heatmap_panels, make_figures, scatter_points
from initreg.report.sweep import (
    NOT_COMPARED,
    SWEEP_AXES,
    ReportError,
    Row,
    Sweep,
    best_row,
    failure_reason,
    latest_sweep,
    load_sweep,
    select,
)

__all__ = [
    "FIGURES", "NOT_COMPARED", "NO_TEST_SENTENCE", "SWEEP_AXES", "ReportError", "Row", "Sweep",
    "best_row", "counts", "failure_reason", "header", "headline", "heatmap_panels", "html_body",
    "html_page",
    "latest_sweep", "load_sweep", "make_figures", "markdown", "scatter_points", "select",
    "selection_notes", "study_sections", "write_report",
]
