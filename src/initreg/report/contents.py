"""What the report says, as plain text: the run table, the headline, the notes on the
selection and the runs listed apart (problems, inconclusive gates, failures to learn)."""

import math

from initreg import pages, runs
from initreg.diagnosis import FAILURE_MODES
from initreg.report.sweep import Row, Sweep, select

NO_TEST_SENTENCE = ("Test data played no part in the choice: the configuration was selected on "
                    "dev accuracy alone (ties broken by the smaller variance), and its test "
                    "accuracy is reported here once, as an estimate the selection never saw.")
COLUMNS = ("run", "init", "lambd", "keep_prob", "train acc", "dev acc (95% interval)",
           "test acc (95% interval)", "avoidable bias", "variance", "diagnosis", "gate", "status")
NO_LEARNING = ("They predict one class for every training example, so the bias/variance "
               "diagnosis does not apply to them and the bias/variance figure leaves them out.")
SECTIONS = ("Gated, diverged and failed runs", "Trained after an inconclusive gradient check",
            "Runs that failed to learn")


def diagnosis_label(row: Row) -> str:
    """The diagnosis, with the failure mode of a run that failed to learn; ``—`` when none."""
    return (row.diagnosis + (f" ({row.failure_mode})" if row.failure_mode else "")) or "—"


REUSED_COLUMN = "reused from sweep"


def reused(sweep: Sweep) -> list[Row]:
    """The rows of runs reused from earlier sweeps (resume skipped their jobs)."""
    return [r for r in sweep.rows if r.reused_from]


def extra_columns(sweep: Sweep) -> list[str]:
    """The columns after ``run``: the params that vary, and :data:`REUSED_COLUMN` when the sweep
    reused runs."""
    return [*sweep.varying, *([REUSED_COLUMN] if reused(sweep) else [])]


def _reused_cell(row: Row) -> list[str]:
    return [f"{row.reused_from[:8]} (reused)" if row.reused_from else "this sweep"]


def table_rows(sweep: Sweep) -> list[list[str]]:
    """The run table as strings, best first, with the :func:`extra_columns` after ``run``."""
    mark = _reused_cell if reused(sweep) else lambda _: []
    return [[r.name, *[str(r.extra[k]) for k in sweep.varying], *mark(r), r.init, f"{r.lambd:g}",
             f"{r.keep_prob:g}", pages.num(r.metric("train_accuracy"), ".3f"), r.accuracy("dev"),
             r.accuracy("test"), *[pages.num(r.metric(k), ".3f") for k in (
                 "avoidable_bias", "variance")], diagnosis_label(r),
             runs.gate_label(r.gate, r.gate_reason), r.status]
            for r in sweep.rows]


def header(sweep: Sweep) -> list[str]:
    return [COLUMNS[0], *extra_columns(sweep), *COLUMNS[1:]]


def reuse_notes(sweep: Sweep) -> list[str]:
    """What the report says about the runs a resumed sweep reused, and those deleted since."""
    notes = []
    rows = reused(sweep)
    if rows:
        earlier = sorted({r.reused_from for r in rows})
        notes.append(f"{len(rows)} of these {len(sweep.rows)} runs are reused from earlier "
                     f"sweeps ({', '.join(earlier)}): this sweep ran with resume=true and "
                     "skipped their jobs, because a FINISHED run of the same configuration and "
                     f"seed already existed. They are rows of this sweep (column "
                     f"'{REUSED_COLUMN}': the first 8 characters of their sweep's id) and count "
                     "in the selection and in every aggregate.")
    if sweep.missing_reused:
        notes.append(f"{len(sweep.missing_reused)} run(s) this sweep reused are no longer in "
                     f"the store (deleted) and are left out: {', '.join(sweep.missing_reused)}.")
    return notes


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


def headline(sweep: Sweep) -> tuple[str, str]:
    """(title, detail) of the selected run (:func:`initreg.report.sweep.select`), its
    accuracies with their Wilson 95% intervals when the run logs how many examples they were
    measured on; over seeds, the title gives its configuration's mean dev accuracy and the
    detail names the seed of the run whose numbers it gives."""
    chosen, sel = select(sweep), sweep.selection
    if chosen is None:
        return ("No configuration finished in every seed: nothing is selected." if sel.over_seeds
                else "No run finished: nothing to select."), ""
    where = f"init={chosen.init}, lambd={chosen.lambd:g}, keep_prob={chosen.keep_prob:g}"
    run = (f"diagnosis {diagnosis_label(chosen)} (run {chosen.name}, {chosen.run_id})")
    numbers = (f"dev accuracy {_accuracy(chosen, 'dev')}, train accuracy "
               f"{chosen.metric('train_accuracy'):.3f}, variance "
               f"{chosen.metric('variance'):.3f}")
    if sel.config is None:
        return (f"Selected: {where}: test accuracy {_accuracy(chosen, 'test')}",
                f"{numbers}, {run}.")
    st, n = sel.config.stat, sel.config.finished
    title = (f"Selected: {where} (mean dev accuracy {st('dev_accuracy').text()} over {n} "
             f"seeds): its best seed's test accuracy {_accuracy(chosen, 'test')}")
    detail = (f"The configuration is selected on mean dev accuracy over the seeds; the run "
              f"shown is its best seed on dev, {sel.seed_text}: {numbers}, {run}. Over its {n} "
              f"seeds: test accuracy {st('test_accuracy').text()}, train accuracy "
              f"{st('train_accuracy').text()}.")
    return title, detail


def selection_notes(sweep: Sweep) -> list[str]:
    """What the numbers allow to say about the selection: whether the selected run failed to
    learn, which runs the dev set cannot tell apart from it (:func:`initreg.runs.rivals`),
    which single runs of other configurations beat it on dev (over seeds), and which intervals
    are missing."""
    chosen = select(sweep)
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
    above = [r for r in done if r.metric("dev_accuracy") > chosen.metric("dev_accuracy")]
    if sweep.selection.config is not None and above:
        top = above[0]  # the rows are ranked: the best single run first
        seed = "".join(f"{k}={top.extra[k]}, " for k, _ in sweep.selection.seed
                       if k in top.extra)
        notes.append(f"{len(above)} run(s) of other configurations have a higher dev accuracy "
                     f"in a single seed (the highest: {top.name}, {seed}dev "
                     f"{top.metric('dev_accuracy'):.3f}); their configurations rank below the "
                     "selected one on the mean, or did not finish in every seed.")
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
