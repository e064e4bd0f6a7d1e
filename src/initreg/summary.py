"""The end of a sweep: end its runs, close its parent run and print what happened, best first."""

import json
import os
import signal
import textwrap
import time
from pathlib import Path

from mlflow.entities import LoggedModelOutput

from initreg import doctor, reuse, seeds, tracking
from initreg.lifecycle import STATUS_FILE
from initreg.runs import (
    accuracy_text,
    best_run,
    dev_separation,
    gate_label,
    gate_sentence,
    job_status,
    metric,
    missing_sizes,
    ranked,
    run_rank,
    split_size,
)

STOP_WAIT_S = 20.0  # how long stopped workers get to end their own runs before SIGKILL

UI_HINT = "make ui"  # the MLflow UI on 127.0.0.1:5000 (HOST=, PORT= to change)
REPORT_HINT = "make report"  # reports/<sweep id>/report.html, the latest sweep by default


def parent_note(parent: dict, chosen: seeds.Selection, status: str) -> str:
    """The sweep's description in the MLflow UI (Markdown): what it selected
    (:func:`initreg.seeds.selection`) and where its report is."""
    sweep, exp = parent["run_id"], parent["experiment_id"]
    lines = [f"**Sweep {status}**, {parent.get('jobs_planned') or '?'} jobs planned."]
    best = chosen.run
    if best is not None:
        link = f"[{best.info.run_name}]({tracking.ui_url(best.info.run_id, exp)})"
        numbers = (f"dev accuracy {metric(best, 'dev_accuracy'):.3f}, test accuracy "
                   f"{metric(best, 'test_accuracy'):.3f}.")
        if chosen.config is None:
            lines.append(f"**Selected** (dev accuracy; ties: the smaller variance): {link}, "
                         + numbers)
        else:
            lines.append(f"**Selected** (mean dev accuracy over the seeds; ties: the smaller "
                         f"mean variance): {chosen.config.config.label}, mean dev accuracy "
                         f"{chosen.config.stat('dev_accuracy').text()} over "
                         f"{chosen.config.finished} seeds; its best seed, {chosen.seed_text}: "
                         f"{link}, " + numbers)
    elif chosen.over_seeds:
        lines.append("**Nothing selected**: no configuration finished in every seed.")
    lines.append(f"**Report:** `{REPORT_HINT} SWEEP={sweep}` writes `reports/{sweep}/report.html`"
                 f" and logs it here, under [report/]({tracking.ui_url(sweep, exp)}/artifacts/"
                 "report/report.html).")
    return "\n\n".join(lines)


def summary_lines(runs, best: int = 5) -> list[str]:
    """A table of the best runs (:func:`initreg.runs.best_run`'s ranking) with their dev and
    test accuracy's Wilson 95% intervals and gate verdicts, each outcome's count, the selected
    run (:func:`initreg.seeds.selection`; over seeds, its configuration's mean) and how far it
    is from the others on dev, and every run that did not simply train and learn:
    gated, diverged, failed, killed or running; trained after an inconclusive gate; and the
    runs that failed to learn, one line per failure mode."""
    counts: dict[str, int] = {}
    for r in runs:
        counts[job_status(r)] = counts.get(job_status(r), 0) + 1
    done = [r for r in ranked(runs) if run_rank(r)[0] == 0]
    lines = [f"{'run':<40} {'train':>6}  {'dev (95% interval)':<20} {'test (95% interval)':<20} "
             f"{'gate':<20} diagnosis"]
    for r in done[:best]:
        m, tags = r.data.metrics, r.data.tags
        gate = gate_label(tags.get("gradcheck", ""), tags.get("gradcheck_reason", ""))
        lines.append(f"{r.info.run_name[:40]:<40} {metric(r, 'train_accuracy'):6.3f}  "
                     f"{accuracy_text(metric(r, 'dev_accuracy'), split_size(m, 'dev')):<20} "
                     f"{accuracy_text(metric(r, 'test_accuracy'), split_size(m, 'test')):<20} "
                     f"{gate:<20} {_diagnosis(tags)}")
    lines.append("runs: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    chosen = seeds.selection(runs)
    if chosen.config is not None:
        lines += textwrap.wrap(
            f"selected on mean dev accuracy over the seeds: {chosen.config.config.label}, "
            f"dev {chosen.config.stat('dev_accuracy').text()} over {chosen.config.finished} "
            f"seeds; its best seed, {chosen.seed_text}: {chosen.run.info.run_name}", 100,
            subsequent_indent="  ")
    elif chosen.over_seeds:
        lines.append("nothing selected: no configuration finished in every seed")
    if chosen.run is not None:
        others = [(r.info.run_name, r.data.metrics) for r in done
                  if r.info.run_id != chosen.run.info.run_id]
        lines += textwrap.wrap(dev_separation(chosen.run.data.metrics, others), 100,
                               subsequent_indent="  ")
    if done:
        missing = missing_sizes([r.data.metrics for r in done])
        if missing:
            lines.append(missing[0].upper() + missing[1:] + ".")
    for r in runs:
        lines += [f"  {label:>15}: {r.info.run_name}  {why}"[:160] for label, why in _notes(r)]
    lines += failed_to_learn_lines(runs)
    return lines


def failed_to_learn_lines(runs, width: int = 160) -> list[str]:
    """One line per failure mode for the finished runs that failed to learn: how many, and as
    many of their names as fit in ``width`` (the report lists every one). A default sweep has a
    dozen such runs (every zeros run), which one line each would make the longest part of the
    console's summary."""
    groups: dict[str, list[str]] = {}
    for r in runs:
        tags = r.data.tags
        if job_status(r) == "finished" and tags.get("diagnosis") == "failed_to_learn":
            groups.setdefault(tags.get("failure_mode") or "no failure mode",
                              []).append(r.info.run_name)
    lines = []
    for mode, names in sorted(groups.items()):
        head = f"  {'failed_to_learn':>15}: {len(names)} run(s), {mode}: "
        n = 1  # names shown: as many as fit, at least one
        while n < len(names) and len(_named(head, names, n + 1)) <= width:
            n += 1
        lines.append(_named(head, names, n))
    return lines


def _named(head: str, names: list[str], n: int) -> str:
    """``head`` and the first ``n`` names, with how many more there are."""
    left = len(names) - n
    return head + ", ".join(names[:n]) + (f" and {left} more ({REPORT_HINT} lists them)"
                                          if left else "")


def _notes(run) -> list[tuple[str, str]]:
    """``(label, why)`` for a run that did not simply train and learn (none when it did)."""
    status, tags = job_status(run), run.data.tags
    gate = tags.get("gradcheck", ""), tags.get("gradcheck_reason", "")
    if status == "gated":
        return [(status, gate_sentence("failed", gate[1], explain=False))]
    if status != "finished":
        return [(status, tags.get("error_message") or tags.get("failure_reason", ""))]
    notes = []
    if gate[0] == "inconclusive":
        notes.append(("inconclusive", gate_sentence(*gate, explain=False)))
    return notes


def _diagnosis(tags) -> str:
    """The diagnosis tag, with the failure mode of a run that failed to learn."""
    mode = tags.get("failure_mode")
    return tags.get("diagnosis", "") + (f" ({mode})" if mode else "")


def job_records(sweep_dir: str | None) -> list[dict]:
    """The ``initreg_job.json`` each job of the sweep wrote into its own folder."""
    if not sweep_dir or not Path(sweep_dir).is_dir():
        return []
    records = []
    for path in sorted(Path(sweep_dir).glob(f"*/{STATUS_FILE}")):
        try:
            records.append({"folder": path.parent.name, **json.loads(path.read_text())})
        except (OSError, ValueError):
            continue
    return records


def unrecorded_lines(records: list[dict], runs, planned: int) -> list[str]:
    """Jobs the store does not show: no run written (store out of reach), or never started."""
    in_store = {r.info.run_id for r in runs}
    lines = []
    for rec in records:
        if rec.get("status") == "skipped" or (rec.get("run_id") and rec["run_id"] in in_store):
            continue
        what = (f"run {rec['run_id']} {rec.get('status', '?')} (the store did not record its end)"
                if rec.get("run_id") else "no run")
        lines.append(f"  {what}: {rec.get('name', rec['folder'])}  {rec.get('reason', '')}"[:200])
    missing = planned - len(records)
    if missing > 0:
        lines.append(f"  {missing} of {planned} planned jobs never started")
    return lines


def stop_children(mlflow, runs, wait_s: float = STOP_WAIT_S) -> list:
    """End every RUNNING child KILLED; the runs as they are afterwards.

    A child whose process lives (a worker still training) gets SIGTERM, which ends its run
    KILLED from inside; after ``wait_s`` it gets SIGKILL. A child whose process is gone (loky
    kills its workers when a sweep aborts) is ended KILLED here.
    """
    def running(rs):
        return [r for r in rs if r.info.status == "RUNNING"]

    stopping = set()
    for r in running(runs):
        if doctor.process_gone(r.data.tags) is False and r.data.tags.get("pid") != str(os.getpid()):
            _signal(int(r.data.tags["pid"]), signal.SIGTERM)
            stopping.add(r.info.run_id)
    deadline = time.monotonic() + wait_s
    while stopping and time.monotonic() < deadline:
        time.sleep(0.2)
        stopping = {i for i in stopping
                    if tracking.retry(mlflow.get_run, i).info.status == "RUNNING"}
    for run_id in {r.info.run_id for r in running(runs)}:
        run = tracking.retry(mlflow.get_run, run_id)
        if run.info.status != "RUNNING":
            continue
        if doctor.process_gone(run.data.tags) is False:
            _signal(int(run.data.tags["pid"]), signal.SIGKILL)
        ended = tracking.Run(mlflow, run_id)
        ended.set_tags({"failure_reason": run.data.tags.get("failure_reason", "interrupted"),
                        "error_message": "the sweep was stopped before this job ended"})
        ended.end("KILLED")
    return [tracking.retry(mlflow.get_run, r.info.run_id) for r in runs]


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def close_sweep(parent: dict, job_raised: bool = False, interrupted: str | None = None) -> str:
    """End the sweep: its children first (none left RUNNING), then the parent KILLED when the
    sweep was interrupted, FAILED when a job crashed, else FINISHED; print and return the
    summary, which lists every job, also those the store never recorded.

    The FINISHED runs of earlier sweeps that its skipped jobs reused (``initreg.reuse``) are
    recorded on the parent and count with the children in the summary, the selection and the
    aggregate metrics: a resumed sweep is about every configuration it planned."""
    records = job_records(parent.get("sweep_dir"))
    planned = int(parent.get("jobs_planned") or 0)
    try:
        mlflow = tracking.client(parent["tracking_uri"], parent.get("timeout_s", 60))
        runs = tracking.children(mlflow, parent["experiment_id"], parent["run_id"])
        if interrupted or job_raised or any(job_status(r) == "running" for r in runs):
            runs = stop_children(mlflow, runs)
    except tracking.TrackingUnavailable as err:
        lines = [f"sweep {parent['run_id']}: the tracking store is out of reach ({err}); "
                 "its runs could not be ended or read", *unrecorded_lines(records, [], planned)]
        print("\n".join(lines), flush=True)
        return "\n".join(lines)
    crashed = job_raised or any(job_status(r) in ("failed", "killed", "running") for r in runs)
    status = "KILLED" if interrupted else "FAILED" if crashed else "FINISHED"
    run = tracking.Run(mlflow, parent["run_id"])
    # the FINISHED runs of earlier sweeps whose jobs resume skipped: the sweep's runs too
    reused, gone = reuse.fetch(mlflow, reuse.reused_ids(records, runs))
    reuse.record(mlflow, parent["run_id"], [r.info.run_id for r in reused])
    everything = [*runs, *reused]
    chosen = seeds.selection(everything)  # the report and the registry select the same run
    best = chosen.run
    selected = {}
    top = best_run(everything)  # the best single run: the selected one unless over seeds
    if top is not None:
        run.add_metrics({"best_dev_accuracy": metric(top, "dev_accuracy")})
    if best is not None:
        run.add_metrics({"selected_dev_accuracy": metric(best, "dev_accuracy"),
                         "selected_test_accuracy": metric(best, "test_accuracy")})
        selected = {"selected_run_id": best.info.run_id, "selected_run": best.info.run_name}
        model = tracking.logged_model(mlflow, parent["experiment_id"], best.info.run_id)
        if model is not None:  # the sweep's output: the selected run's model (Models column)
            tracking.retry(mlflow.log_outputs, parent["run_id"],
                           [LoggedModelOutput(model.model_id, 0)])
    seeds.log_aggregate(run, everything)  # the means over seeds, when a config ran with several
    run.set_tags({"jobs": len(runs), "jobs_reused": len(reused), **selected,
                  tracking.NOTE_TAG: parent_note(parent, chosen, status),
                  **({"failure_reason": "interrupted",
                      "error_type": interrupted} if interrupted else {})})
    run.end(status)
    text = "\n".join([
        f"sweep {parent['run_id']} {status}: {len(runs)} runs"
        + (f" and {len(reused)} reused from earlier sweeps (resume)" if reused else "")
        + (f" (stopped by {interrupted})" if interrupted else ""),
        *summary_lines(everything),
        *[f"  reused run {run_id} is no longer in the store (deleted): left out"
          for run_id in gone],
        *unrecorded_lines(records, runs, planned),
        f"the report: {REPORT_HINT}   (reports/{parent['run_id']}/report.html)",
        f"open the UI: {UI_HINT}, then {tracking.experiment_url(parent['experiment_id'])}",
    ])
    print(text, flush=True)
    return text
